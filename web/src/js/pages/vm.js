// /vms/NAME: summary, snapshots, serial console, screen.

import { h, clear, bytes, percent, timeEl, debounce, shortId } from '../dom.js';
import { getJSON, request, seg } from '../api.js';
import { onEvent, onStats, stats } from '../live.js';
import { badge, facts, tabs, spinner, alertBox, empty, confirmAction, busy, toast } from '../ui.js';
import { actionButtons } from './actions.js';
import { vmState, vmAddresses, vmMemory } from './vms.js';
import { mountTerminal } from '../terminal.js';
import { mountScreen } from '../screen.js';
import { chart, niceBytes } from '../chart.js';

const show = (v) => (v === null || v === undefined || v === '' ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function table(headers, rows) {
  if (!rows.length) return null;
  return h('div.tablewrap', h('table.grid.compact', h('thead', h('tr', headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', rows.map((r) => h('tr', r.map((c) => h('td', c)))))));
}

/** Every key of a list of objects, in first-seen order. */
function keysOf(list) {
  const keys = [];
  for (const o of list) for (const k of Object.keys(o || {})) if (!keys.includes(k)) keys.push(k);
  return keys;
}

const HUMAN = { Id: 'ID', IPAddress: 'IP address', IPPrefixLen: 'Prefix', MacAddress: 'MAC address', ReadOnly: 'Read-only', Created: 'Made by yurta' };
/** Field names as column titles: "MacAddress" → "MAC address". */
const human = (k) => HUMAN[k] || k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^(.)(.*)$/, (_, a, b) => a + b.toLowerCase());

function genericTable(list) {
  if (!Array.isArray(list) || !list.length) return null;
  if (typeof list[0] !== 'object') return h('ul.plain', list.map((x) => h('li.mono', show(x))));
  const keys = keysOf(list).filter((k) => list.some((o) => o[k] !== null && o[k] !== undefined && o[k] !== ''));
  return table(keys.map(human), list.map((o) => keys.map((k) => (typeof o[k] === 'boolean' ? (o[k] ? 'yes' : 'no') : h('span.mono', show(o[k]))))));
}

function hasVnc(v) {
  const d = v.Config?.Display ?? v.Display;
  if (d === undefined && v.Vnc === undefined) return true; // unknown: offer it
  return d === 'vnc' || (d && typeof d === 'object') || !!v.Vnc;
}

function summary(v, charts) {
  const c = v.Config || {};
  const st = v.State || {};
  const known = new Set(['Arch', 'Machine', 'Accel', 'AccelUsed', 'AccelReason', 'Cpus', 'Memory', 'Kernel', 'Initrd', 'Cmdline', 'Image', 'Cdrom', 'Disks', 'Networks', 'Display', 'CloudInit']);
  const extra = Object.entries(c).filter(([k, x]) => !known.has(k) && x !== null && typeof x !== 'object');
  return h('div.summary',
    h('div.charts', charts.map((x) => x.el)),
    h('section.card', h('h2', 'Machine'), facts([
      ['ID', v.Id ? h('span.mono', { title: v.Id }, shortId(v.Id)) : ''],
      ['State', [badge(vmState(v)), st.Running && st.StartedAt ? [' since ', timeEl(st.StartedAt)] : '', st.ExitReason ? ` (${st.ExitReason})` : '']],
      ['Addresses', vmAddresses(v).length ? h('span.mono', vmAddresses(v).join(', ')) : ''],
      ['Architecture', [c.Arch, c.Machine ? ` (${c.Machine})` : ''].join('')],
      ['Accelerator', c.AccelUsed ? `${c.AccelUsed}${c.Accel && c.Accel !== c.AccelUsed ? ` (asked: ${c.Accel})` : ''}` : c.Accel || ''],
      ['CPUs', show(c.Cpus)],
      ['Memory', vmMemory(v)],
      ['Display', show(c.Display)],
      ['Kernel', c.Kernel ? h('span.mono', c.Kernel) : ''],
      ['Initrd', c.Initrd ? h('span.mono', c.Initrd) : ''],
      ['Command line', c.Cmdline ? h('code', c.Cmdline) : ''],
      ['Image', c.Image ? h('span.mono', show(c.Image)) : ''],
      ['CD-ROM', c.Cdrom ? h('span.mono', c.Cdrom) : ''],
      ['Cloud-init', c.CloudInit ? 'yes' : ''],
      ['Created', timeEl(v.Created)],
      ...extra.map(([k, x]) => [k, show(x)]),
    ])),
    genericTable(c.Disks || v.Disks) ? h('section.card', h('h2', 'Disks'), genericTable(c.Disks || v.Disks)) : null,
    genericTable(c.Networks || v.Networks) ? h('section.card', h('h2', 'Networks'), genericTable(c.Networks || v.Networks)) : null);
}

function snapshots(panel, name) {
  const nameInput = h('input', { id: 'snap-name', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. before-upgrade' });
  const create = h('button.btn.primary', { type: 'submit' }, 'Create');
  const list = h('div');
  const form = h('form.inline-form', h('label', { for: 'snap-name' }, 'Snapshot name'), nameInput, create);
  panel.append(h('section.card', h('h2', 'New snapshot'), form, h('p.muted.small', 'A running VM\'s snapshot keeps its memory and disks; a stopped one\'s, its disks.')), h('section.card', h('h2', 'Snapshots'), list));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = nameInput.value.trim();
    if (!n) { nameInput.focus(); return; }
    const ok = await busy(create, async () => {
      await request(`/api/vms/${seg(name)}/snapshots`, { method: 'POST', json: { Name: n } });
      return true;
    }, 'Snapshot');
    if (ok) { nameInput.value = ''; toast(`Snapshot ${n} created`); load(); }
  });
  async function load() {
    if (!list.childElementCount) list.append(spinner());
    try {
      const snaps = (await getJSON(`/api/vms/${seg(name)}/snapshots`)) || [];
      if (!snaps.length) { clear(list, h('p.muted', 'No snapshots yet.')); return; }
      const keys = keysOf(snaps).filter((k) => k !== 'Name');
      clear(list, h('div.tablewrap', h('table.grid', { 'aria-label': 'Snapshots' },
        h('thead', h('tr', ['Name', ...keys, 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', snaps.map((s) => {
          const restore = h('button.btn.sm', { type: 'button' }, 'Restore');
          const remove = h('button.btn.sm.danger-ghost', { type: 'button' }, 'Delete');
          restore.addEventListener('click', async () => {
            if (!(await confirmAction({ title: `Restore ${s.Name}`, message: `Restore ${name} to snapshot ${s.Name}? Changes since the snapshot are lost.`, action: 'Restore' }))) return;
            const ok = await busy(restore, async () => { await request(`/api/vms/${seg(name)}/snapshots/${seg(s.Name)}/restore`, { method: 'POST' }); return true; }, 'Restore');
            if (ok) toast(`Restored ${name} to ${s.Name}`);
          });
          remove.addEventListener('click', async () => {
            if (!(await confirmAction({ title: `Delete ${s.Name}`, message: `Delete snapshot ${s.Name} of ${name}? This cannot be undone.`, action: 'Delete' }))) return;
            const ok = await busy(remove, async () => { await request(`/api/vms/${seg(name)}/snapshots/${seg(s.Name)}`, { method: 'DELETE' }); return true; }, 'Delete');
            if (ok) load();
          });
          return h('tr', { dataset: { name: s.Name } }, h('td.strong', s.Name), keys.map((k) => h('td', /Created|Date|Time/i.test(k) ? timeEl(s[k]) || show(s[k]) : /Size/i.test(k) && typeof s[k] === 'number' ? bytes(s[k]) : show(s[k]))), h('td.act', h('div.actions', restore, remove)));
        })))));
    } catch (e) {
      clear(list, alertBox(e.message));
    }
  }
  load();
}

export function vmPage(root, [name], ctx) {
  document.title = `${name} · yurta`;
  const head = h('div.detailhead');
  const body = h('div');
  root.append(h('nav.crumbs.top', { 'aria-label': 'Breadcrumb' }, h('a', { href: '/vms' }, 'Virtual machines'), h('span.sep', '/'), h('span', name)), head, body);
  body.append(spinner());
  let v = null, t = null, serial = null, screen = null, summaryPanel = null;
  const ctrl = new AbortController();
  const cpu = chart({ title: 'CPU', format: (x, axis) => percent(x, axis), label: 'CPU use over the last 5 minutes' });
  const mem = chart({ title: 'Memory', format: (x) => bytes(x), nice: niceBytes, label: 'Memory use over the last 5 minutes' });
  const history = [];
  const drawCharts = () => {
    const pts = history;
    cpu.set(pts.map((s) => ({ t: s.t, v: s.cpu })));
    mem.set(pts.map((s) => ({ t: s.t, v: s.memory })), v?.Config?.Memory || 0, typeof v?.Config?.Memory === 'number' ? 'of ' + bytes(v.Config.Memory) : '');
  };
  for (const s of stats.vms.get(name) || []) history.push(s);

  function drawHead() {
    clear(head,
      h('div.titleline', h('h1', name), badge(vmState(v)), vmAddresses(v).length ? h('span.mono.muted', vmAddresses(v).join(', ')) : null),
      actionButtons('vm', name, vmState(v), { onDone: (a) => { if (a === 'remove') ctx.navigate('/vms'); else refresh(); } }));
  }

  function build() {
    const list = [
      { id: 'summary', label: 'Summary', render: (p) => { summaryPanel = p; p.append(summary(v, [cpu, mem])); drawCharts(); }, onShow: () => { cpu.draw(); mem.draw(); } },
      { id: 'snapshots', label: 'Snapshots', render: (p) => snapshots(p, name) },
      { id: 'serial', label: 'Serial console', render: (p) => {
        serial = mountTerminal(p, { path: () => `/ws/vms/${seg(name)}/serial`, resize: false, share: { kind: 'serial', target: name } });
        p.append(h('p.muted.small', 'Press Enter to get a prompt. ', h('a', { href: `/api/vms/${seg(name)}/console.log`, target: '_blank', rel: 'noopener' }, 'The console log so far'), '.'));
      }, onShow: () => serial?.fit() },
    ];
    if (hasVnc(v)) list.push({ id: 'screen', label: 'Screen', render: (p) => { screen = mountScreen(p, { path: () => `/ws/vms/${seg(name)}/vnc`, share: { kind: 'vnc', target: name } }); } });
    t = tabs(list);
    clear(body, t.el);
    t.start();
  }

  let first = true;
  async function refresh() {
    try {
      v = await getJSON(`/api/vms/${seg(name)}`, { signal: ctrl.signal });
      drawHead();
      if (first) { first = false; build(); ctx.ready(); return; }
      if (summaryPanel) { clear(summaryPanel, summary(v, [cpu, mem])); drawCharts(); }
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 404) {
        clear(head, h('div.titleline', h('h1', name), badge('removed')));
        clear(body, empty(first ? `There is no VM named ${name}.` : `${name} was removed.`, h('a.btn', { href: '/vms' }, 'Back to VMs')));
        serial?.dispose(); screen?.dispose(); serial = screen = null;
      } else {
        clear(body, alertBox(e.message));
      }
      if (first) { first = false; ctx.ready(); }
    }
  }
  const later = debounce(refresh, 200);
  const off = onEvent((e) => {
    if (e.Type === 'resync') { later(); return; }
    if (e.Type !== 'vm') return;
    const a = e.Actor || {};
    if (a.Attributes?.name === name || a.ID === name || e.id === name || (v?.Id && a.ID === v.Id)) later();
  });
  const offStats = onStats((s) => {
    const x = s.vms?.[name];
    if (!x) return;
    history.push({ t: Date.now(), cpu: Number(x.cpu) || 0, memory: Number(x.memory) || 0 });
    if (history.length > 150) history.shift();
    drawCharts();
  });
  refresh();
  return () => { ctrl.abort(); later.cancel(); off(); offStats(); serial?.dispose(); screen?.dispose(); cpu.dispose(); mem.dispose(); t?.dispose(); };
}
