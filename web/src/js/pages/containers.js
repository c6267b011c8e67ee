// /containers: the list, live from events and stats, and "Create container".

import { h, icon, bytes, percent, debounce, clear } from '../dom.js';
import { getJSON, request, seg, ApiError } from '../api.js';
import { onEvent, onStats, containerStats, stats } from '../live.js';
import { liveTable, pageHead, searchBox, badge, errorToast, modal, alertBox } from '../ui.js';
import { actionButtons } from './actions.js';

export const cname = (c) => String((c.Names && c.Names[0]) || c.Name || c.Id || '').replace(/^\//, '');

export function portText(p) {
  if (!p.PublicPort) return `${p.PrivatePort}/${p.Type}`;
  const ip = p.IP && p.IP !== '0.0.0.0' && p.IP !== '::' ? p.IP + ':' : '';
  return `${ip}${p.PublicPort}→${p.PrivatePort}/${p.Type}`;
}

export function portsOf(c) {
  const seen = new Set();
  for (const p of c.Ports || []) seen.add(portText(p));
  return [...seen];
}

export function ipsOf(c) {
  const nets = c.NetworkSettings?.Networks || {};
  return Object.values(nets).map((n) => n.IPAddress).filter(Boolean);
}

function cpuCell(id) {
  const s = containerStats(stats.latest, id);
  return s ? percent(s.cpu) : '';
}
function memCell(id) {
  const s = containerStats(stats.latest, id);
  if (!s) return '';
  return bytes(s.memory);
}

export function containersPage(root, _params, ctx) {
  document.title = 'Containers · yurta';
  const table = liveTable({
    label: 'Containers',
    key: cname,
    emptyText: 'No containers yet. Create one with “Create container”.',
    columns: [
      { title: 'Name', cls: 'name', text: (c) => cname(c) + ' ' + c.Id, cell: (c) => [h('a.strong', { href: '/containers/' + seg(cname(c)) }, cname(c)), h('div.sub.mono', c.Id.slice(0, 12))] },
      { title: 'Image', text: (c) => c.Image, cell: (c) => h('span.mono.clip', { title: c.Image }, c.Image.replace(/^sha256:([0-9a-f]{12}).*/, '$1')) },
      { title: 'State', text: (c) => c.State + ' ' + c.Status, cell: (c) => [badge(c.State), h('div.sub.status', c.Status || '')] },
      { title: 'Ports', text: (c) => portsOf(c).join(' '), cell: (c) => (portsOf(c).length ? h('span.mono.list', portsOf(c).map((p) => h('span', p))) : '') },
      { title: 'IP addresses', text: (c) => ipsOf(c).join(' '), cell: (c) => (ipsOf(c).length ? h('span.mono.list', ipsOf(c).map((p) => h('span', p))) : '') },
      { title: 'CPU', cls: 'num cpu', cell: (c) => cpuCell(c.Id) },
      { title: 'Memory', cls: 'num mem', cell: (c) => memCell(c.Id) },
      { title: 'Actions', cls: 'act', cell: (c) => actionButtons('container', cname(c), c.State, { compact: true, onDone: () => refresh() }) },
    ],
  });
  const createBtn = h('button.btn.primary', { type: 'button' }, icon('plus'), 'Create container');
  createBtn.addEventListener('click', () => createContainerDialog(ctx));
  const count = h('span.count');
  root.append(
    pageHead(['Containers', count], searchBox('Filter containers', (q) => table.filter(q), 'Filter containers'), createBtn),
    table.el);

  let items = [];
  const ctrl = new AbortController();
  let first = true;
  async function refresh() {
    try {
      items = (await getJSON('/api/docker/containers/json?all=1', { signal: ctrl.signal })) || [];
      items.sort((a, b) => cname(a).localeCompare(cname(b)));
      table.set(items);
      count.textContent = String(items.length);
      if (first) { first = false; ctx.ready(); }
    } catch (e) {
      if (e.name === 'AbortError') return;
      errorToast(e, 'Containers');
      if (first) { first = false; table.set([]); ctx.ready(); }
    }
  }
  const later = debounce(refresh, 250);
  const offEvents = onEvent((e) => { if (e.Type === 'container' || e.Type === 'resync') later(); });
  const offStats = onStats(() => {
    for (const c of items) {
      const tr = table.row(cname(c));
      if (!tr) continue;
      tr.querySelector('td.cpu').textContent = cpuCell(c.Id);
      const mem = tr.querySelector('td.mem');
      mem.textContent = memCell(c.Id);
      const s = containerStats(stats.latest, c.Id);
      mem.title = s?.limit && s.limit < 2 ** 50 ? `${bytes(s.memory)} of ${bytes(s.limit)} limit` : '';
    }
  });
  refresh();
  return () => { ctrl.abort(); later.cancel(); offEvents(); offStats(); };
}

// ---- create ---------------------------------------------------------------

/** Splits a command line as a shell would: spaces, 'single', "double", \escapes. */
export function splitCommand(s) {
  const out = [];
  let cur = '';
  let has = false;
  let q = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (q === "'") {
      if (ch === "'") q = null; else cur += ch;
    } else if (q === '"') {
      if (ch === '"') q = null;
      else if (ch === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      q = ch; has = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i]; has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = ''; has = false;
    } else {
      cur += ch;
    }
  }
  if (q) throw new Error('Command: unterminated ' + (q === '"' ? 'double' : 'single') + ' quote');
  if (has || cur) out.push(cur);
  return out;
}

const lines = (s) => s.split(/\n/).map((x) => x.trim()).filter(Boolean);

/** "8080:80", "127.0.0.1:8080:80/udp", "80" → Docker's port maps. */
export function parsePorts(text) {
  const exposed = {};
  const bindings = {};
  for (const spec of text.split(/[\s,]+/).filter(Boolean)) {
    const m = spec.match(/^(?:(\[[0-9a-fA-F:]+\]|[0-9.]+):)?(?:(\d*):)?(\d+)(?:\/(tcp|udp|sctp))?$/);
    if (!m) throw new Error(`Ports: “${spec}” is not HOST:CONTAINER (e.g. 8080:80 or 127.0.0.1:8080:80/udp)`);
    let [, ip, host, cport, proto] = m;
    // "1.2.3.4:80" alone reads as host port 1.2.3.4: only IPs with dots are IPs.
    if (ip && host === undefined && !ip.includes('.') && !ip.startsWith('[')) { host = ip; ip = undefined; }
    const key = `${cport}/${proto || 'tcp'}`;
    exposed[key] = {};
    (bindings[key] ||= []).push({ HostIp: (ip || '').replace(/^\[|\]$/g, ''), HostPort: host || '' });
  }
  return { exposed, bindings };
}

/** The form's values → Docker's create body. Throws Error on bad input. */
export function createBody(f) {
  const image = f.image.trim();
  if (!image) throw new Error('Image is required');
  const body = { Image: image, HostConfig: {} };
  const cmd = f.command.trim();
  if (cmd) body.Cmd = splitCommand(cmd);
  const env = lines(f.env);
  for (const e of env) if (!/^[^=\s]+=/.test(e) && !/^[^=\s]+$/.test(e)) throw new Error(`Environment: “${e}” is not KEY=VALUE`);
  if (env.length) body.Env = env;
  const { exposed, bindings } = parsePorts(f.ports);
  if (Object.keys(exposed).length) { body.ExposedPorts = exposed; body.HostConfig.PortBindings = bindings; }
  const binds = lines(f.volumes);
  for (const b of binds) if (!/^[^:]+:\/[^:]*(:[a-z,]+)?$/.test(b)) throw new Error(`Volumes: “${b}” is not NAME:/path or /host:/path`);
  if (binds.length) body.HostConfig.Binds = binds;
  if (f.network) body.HostConfig.NetworkMode = f.network;
  if (f.restart && f.restart !== 'no') body.HostConfig.RestartPolicy = { Name: f.restart, MaximumRetryCount: 0 };
  else body.HostConfig.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
  return body;
}

export function field(label, input, hint) {
  const id = 'f-' + Math.random().toString(36).slice(2);
  input.id = id;
  if (hint) input.setAttribute('aria-describedby', id + '-hint');
  return h('div.field', h('label', { for: id }, label), input, hint ? h('div.hint', { id: id + '-hint' }, hint) : null);
}

export async function networkOptions(select, extra = []) {
  try {
    const nets = (await getJSON('/api/docker/networks')) || [];
    for (const n of nets.map((x) => x.Name).sort()) {
      if (!extra.includes(n)) select.append(h('option', { value: n }, n));
    }
  } catch { /* the default is still there */ }
}

export function createContainerDialog(ctx) {
  const image = h('input', { name: 'image', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. debian:12 or nginx:latest', autofocus: true });
  const name = h('input', { name: 'name', autocomplete: 'off', spellcheck: 'false', placeholder: 'optional' });
  const command = h('input.mono', { name: 'command', autocomplete: 'off', spellcheck: 'false', placeholder: "e.g. sleep infinity or sh -c 'echo hi'" });
  const ports = h('input.mono', { name: 'ports', autocomplete: 'off', spellcheck: 'false', placeholder: '8080:80 8443:443' });
  const env = h('textarea.mono', { name: 'env', rows: 3, spellcheck: 'false', placeholder: 'KEY=value' });
  const volumes = h('textarea.mono', { name: 'volumes', rows: 2, spellcheck: 'false', placeholder: 'data:/var/lib/data\n/srv/www:/usr/share/nginx/html:ro' });
  const network = h('select', { name: 'network' }, h('option', { value: '' }, 'default'));
  const restart = h('select', { name: 'restart' }, ['no', 'on-failure', 'always', 'unless-stopped'].map((r) => h('option', { value: r }, r)));
  networkOptions(network);
  const err = h('div.form-error', { 'aria-live': 'assertive' });
  const submit = h('button.btn.primary', { type: 'submit' }, 'Create');
  const cancel = h('button.btn', { type: 'button' }, 'Cancel');
  const form = h('form.form', { novalidate: true },
    field('Image', image),
    field('Name', name),
    field('Command', command, 'Split on spaces; quote with \' or " to keep spaces.'),
    field('Ports', ports, 'HOST:CONTAINER, several separated by spaces or commas; add /udp for UDP.'),
    field('Environment', env, 'One KEY=VALUE per line.'),
    field('Volumes', volumes, 'One per line: NAME:/path or /host/path:/path[:ro].'),
    h('div.row2', field('Network', network), field('Restart policy', restart)),
    err,
    h('div.form-foot', cancel, submit));
  const d = modal({ title: 'Create container', body: form, wide: true });
  cancel.addEventListener('click', () => d.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(err);
    let body;
    try {
      body = createBody({ image: image.value, command: command.value, ports: ports.value, env: env.value, volumes: volumes.value, network: network.value, restart: restart.value });
    } catch (x) {
      err.append(alertBox(x.message));
      (x.message.startsWith('Image') ? image : form.querySelector('[aria-invalid]') || image).focus();
      return;
    }
    submit.disabled = true;
    submit.classList.add('busy');
    const n = name.value.trim();
    let id = null;
    try {
      const res = await request('/api/docker/containers/create' + (n ? '?name=' + encodeURIComponent(n) : ''), { method: 'POST', json: body });
      id = (await res.json().catch(() => ({}))).Id;
      await request(`/api/docker/containers/${seg(n || id)}/start`, { method: 'POST' });
      d.close();
      ctx.navigate('/containers/' + seg(n || (id || '').slice(0, 12)));
    } catch (x) {
      if (x.status === 401) return;
      const msg = x instanceof ApiError || x.message ? x.message : String(x);
      if (id) {
        err.append(alertBox(['Created, but it did not start: ' + msg + ' ',
          h('a', { href: '/containers/' + seg(n || id.slice(0, 12)), onclick: () => d.close() }, 'Open the container')]));
      } else {
        err.append(alertBox(msg));
      }
    } finally {
      submit.disabled = false;
      submit.classList.remove('busy');
    }
  });
}
