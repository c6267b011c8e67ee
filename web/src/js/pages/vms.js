// /vms: the VM list (live from "vm" events and stats) and "Create VM".

import { h, icon, bytes, percent, debounce, clear } from '../dom.js';
import { getJSON, request, seg } from '../api.js';
import { onEvent, onStats, stats } from '../live.js';
import { liveTable, pageHead, searchBox, badge, errorToast, modal, alertBox } from '../ui.js';
import { actionButtons } from './actions.js';
import { field, networkOptions } from './containers.js';

export const vmName = (v) => String(v.Name || v.name || '').replace(/^\//, '');
export const vmState = (v) => String(v.State?.Status || v.Status || v.State || 'unknown');

export function vmAddresses(v) {
  const nets = v.Config?.Networks || v.Networks || [];
  const out = [];
  for (const n of Array.isArray(nets) ? nets : Object.values(nets)) {
    const ip = n.IPAddress || n.Address;
    if (ip) out.push(n.IPPrefixLen ? `${ip}/${n.IPPrefixLen}` : ip);
  }
  if (!out.length && typeof v.Addresses === 'string' && v.Addresses) out.push(...v.Addresses.split(/,\s*/));
  return out;
}

export function vmMemory(v) {
  const m = v.Config?.Memory ?? v.Memory;
  return typeof m === 'number' ? bytes(m) : m || '';
}

const vmStat = (name) => stats.latest?.vms?.[name] || null;

export function vmsPage(root, _params, ctx) {
  document.title = 'Virtual machines · yurta';
  const table = liveTable({
    label: 'Virtual machines',
    key: vmName,
    emptyText: 'No VMs yet. Create one with “Create VM”.',
    columns: [
      { title: 'Name', cls: 'name', text: vmName, cell: (v) => h('a.strong', { href: '/vms/' + seg(vmName(v)) }, vmName(v)) },
      { title: 'State', text: vmState, cell: (v) => badge(vmState(v)) },
      { title: 'Arch', text: (v) => v.Config?.Arch || '', cell: (v) => v.Config?.Arch || '' },
      { title: 'CPUs', cls: 'num', cell: (v) => String(v.Config?.Cpus ?? '') },
      { title: 'Memory', cls: 'num', cell: vmMemory },
      { title: 'Addresses', text: (v) => vmAddresses(v).join(' '), cell: (v) => (vmAddresses(v).length ? h('span.mono.list', vmAddresses(v).map((a) => h('span', a))) : '') },
      { title: 'CPU', cls: 'num cpu', cell: (v) => percent(vmStat(vmName(v))?.cpu) },
      { title: 'Memory used', cls: 'num mem', cell: (v) => bytes(vmStat(vmName(v))?.memory) },
      { title: 'Actions', cls: 'act', cell: (v) => actionButtons('vm', vmName(v), vmState(v), { compact: true, onDone: () => refresh() }) },
    ],
  });
  const createBtn = h('button.btn.primary', { type: 'button' }, icon('plus'), 'Create VM');
  createBtn.addEventListener('click', () => createVmDialog(ctx));
  const count = h('span.count');
  root.append(pageHead(['Virtual machines', count], searchBox('Filter VMs', (q) => table.filter(q), 'Filter VMs'), createBtn), table.el);

  let items = [];
  let first = true;
  const ctrl = new AbortController();
  async function refresh() {
    try {
      items = (await getJSON('/api/vms', { signal: ctrl.signal })) || [];
      items.sort((a, b) => vmName(a).localeCompare(vmName(b)));
      table.set(items);
      count.textContent = String(items.length);
    } catch (e) {
      if (e.name === 'AbortError') return;
      errorToast(e, 'VMs');
      if (first) table.set([]);
    }
    if (first) { first = false; ctx.ready(); }
  }
  const later = debounce(refresh, 250);
  const off = onEvent((e) => { if (e.Type === 'vm' || e.Type === 'resync') later(); });
  const offStats = onStats(() => {
    for (const v of items) {
      const tr = table.row(vmName(v));
      if (!tr) continue;
      const s = vmStat(vmName(v));
      tr.querySelector('td.cpu').textContent = percent(s?.cpu);
      tr.querySelector('td.mem').textContent = bytes(s?.memory);
    }
  });
  refresh();
  return () => { ctrl.abort(); later.cancel(); off(); offStats(); };
}

export function createVmDialog(ctx) {
  const inp = (name, attrs = {}) => h('input', { name, autocomplete: 'off', spellcheck: 'false', ...attrs });
  const name = inp('name', { required: true, autofocus: true, placeholder: 'web1' });
  const bootKernel = h('input', { type: 'radio', name: 'boot', value: 'kernel' });
  const bootImage = h('input', { type: 'radio', name: 'boot', value: 'image', checked: true });
  const kernel = inp('kernel', { class: 'mono', placeholder: '/boot/vmlinuz' });
  const initrd = inp('initrd', { class: 'mono', placeholder: '/boot/initrd.img' });
  const cmdline = inp('cmdline', { class: 'mono', placeholder: 'console=ttyS0 root=/dev/vda' });
  const image = inp('image', { class: 'mono', placeholder: '/var/lib/images/debian-12-genericcloud-amd64.qcow2' });
  const memory = inp('memory', { type: 'number', min: 16, step: 1, value: '1024', inputmode: 'numeric' });
  const cpus = inp('cpus', { type: 'number', min: 1, max: 255, step: 1, value: '1', inputmode: 'numeric' });
  const disk = inp('disk', { placeholder: 'e.g. 10G (optional)' });
  const network = h('select', { name: 'network' }, h('option', { value: 'bridge' }, 'bridge (default)'), h('option', { value: 'none' }, 'none'));
  networkOptions(network, ['bridge', 'none']);
  const display = h('select', { name: 'display' }, h('option', { value: 'none' }, 'none'), h('option', { value: 'vnc' }, 'vnc'));
  const start = h('input', { type: 'checkbox', name: 'start', checked: true });
  const kernelBox = h('div.subform', h('div.row2', field('Kernel path', kernel), field('Initrd path', initrd)), field('Kernel command line', cmdline, 'Default: the architecture\'s serial console.'));
  const imageBox = h('div.subform', field('Disk image path', image, 'A qcow2 or raw boot disk on the host, used through a copy-on-write overlay.'));
  const syncBoot = () => { kernelBox.hidden = !bootKernel.checked; imageBox.hidden = !bootImage.checked; };
  bootKernel.addEventListener('change', syncBoot);
  bootImage.addEventListener('change', syncBoot);
  syncBoot();
  const err = h('div.form-error', { 'aria-live': 'assertive' });
  const submit = h('button.btn.primary', { type: 'submit' }, 'Create');
  const cancel = h('button.btn', { type: 'button' }, 'Cancel');
  const form = h('form.form', { novalidate: true },
    field('Name', name),
    h('fieldset.radios', h('legend', 'Boot from'),
      h('label.check', bootImage, 'Disk image'), h('label.check', bootKernel, 'Kernel and initrd')),
    imageBox, kernelBox,
    h('div.row3', field('Memory (MiB)', memory), field('CPUs', cpus), field('Disk size', disk)),
    h('div.row2', field('Network', network), field('Display', display)),
    h('label.check', start, 'Start it now'),
    err,
    h('div.form-foot', cancel, submit));
  const d = modal({ title: 'Create VM', body: form, wide: true });
  cancel.addEventListener('click', () => d.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(err);
    const n = name.value.trim();
    const problem = !n ? 'Name is required'
      : bootKernel.checked && !kernel.value.trim() ? 'Kernel path is required to boot a kernel'
      : bootImage.checked && !image.value.trim() && !disk.value.trim() ? 'Give a disk image path (or a disk size to install onto)'
      : !(Number(memory.value) > 0) ? 'Memory must be a number of MiB'
      : !(Number(cpus.value) >= 1) ? 'CPUs must be at least 1' : '';
    if (problem) { err.append(alertBox(problem)); return; }
    const body = {
      Name: n,
      Memory: `${Math.round(Number(memory.value))}M`,
      Cpus: Math.round(Number(cpus.value)),
      Network: network.value,
      Display: display.value,
      Start: start.checked,
    };
    if (bootKernel.checked) {
      body.Kernel = kernel.value.trim();
      if (initrd.value.trim()) body.Initrd = initrd.value.trim();
      if (cmdline.value.trim()) body.Cmdline = cmdline.value.trim();
    } else if (image.value.trim()) {
      body.Image = image.value.trim();
    }
    if (disk.value.trim()) body.DiskSize = disk.value.trim();
    submit.disabled = true;
    submit.classList.add('busy');
    try {
      await request('/api/vms', { method: 'POST', json: body });
      d.close();
      ctx.navigate('/vms/' + seg(n));
    } catch (x) {
      if (x.status !== 401) err.append(alertBox(x.message));
    } finally {
      submit.disabled = false;
      submit.classList.remove('busy');
    }
  });
}
