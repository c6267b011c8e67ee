// A container's files: browse directories, download, upload.

import { h, icon, bytes, clear, timeEl } from './dom.js';
import { getJSON, request, seg } from './api.js';
import { alertBox, spinner, toast, busy } from './ui.js';

const join = (dir, name) => (dir.endsWith('/') ? dir : dir + '/') + name;

function modeText(m) {
  if (typeof m === 'string') return m;
  if (typeof m !== 'number') return '';
  const r = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += m & (1 << (8 - i)) ? r[i] : '-';
  return s;
}

export function mountFiles(host, name) {
  let path = '/';
  let ctrl = null;
  const crumbs = h('nav.crumbs', { 'aria-label': 'Path' });
  const fileInput = h('input', { type: 'file', hidden: true, multiple: true });
  const upload = h('button.btn.sm', { type: 'button' }, icon('upload'), 'Upload');
  const reload = h('button.icon-btn', { type: 'button', 'aria-label': 'Reload the directory' }, icon('refresh'));
  const list = h('div.files');
  host.append(h('div.toolbar', crumbs, h('span.spacer'), reload, upload, fileInput), list);

  upload.addEventListener('click', () => fileInput.click());
  reload.addEventListener('click', () => open(path));
  fileInput.addEventListener('change', async () => {
    const files = [...fileInput.files];
    fileInput.value = '';
    for (const f of files) {
      const ok = await busy(upload, async () => {
        await request(`/api/containers/${seg(name)}/file?path=${encodeURIComponent(join(path, f.name))}`, {
          method: 'PUT', body: f, headers: { 'Content-Type': 'application/octet-stream' },
        });
        return true;
      }, `Upload ${f.name}`);
      if (ok) toast(`Uploaded ${f.name} to ${path}`);
    }
    open(path);
  });

  function drawCrumbs() {
    const parts = path.split('/').filter(Boolean);
    const items = [h('button.crumb', { type: 'button', onclick: () => open('/'), 'aria-label': 'Root directory' }, '/')];
    parts.forEach((p, i) => {
      const to = '/' + parts.slice(0, i + 1).join('/');
      if (i) items.push(h('span.sep', { 'aria-hidden': 'true' }, '/'));
      items.push(i === parts.length - 1
        ? h('span.crumb.here', { 'aria-current': 'location' }, p)
        : h('button.crumb', { type: 'button', onclick: () => open(to) }, p));
    });
    clear(crumbs, items);
  }

  async function open(to) {
    ctrl?.abort();
    ctrl = new AbortController();
    path = to;
    drawCrumbs();
    clear(list, spinner());
    try {
      const entries = (await getJSON(`/api/containers/${seg(name)}/files?path=${encodeURIComponent(to)}`, { signal: ctrl.signal })) || [];
      entries.sort((a, b) => (b.Type === 'dir') - (a.Type === 'dir') || String(a.Name).localeCompare(String(b.Name)));
      const rows = entries.map((e) => {
        const full = join(path, e.Name);
        let nameCell;
        if (e.Type === 'dir') {
          nameCell = h('button.linkish', { type: 'button', onclick: () => open(full) }, icon('folder', 'dir'), e.Name + '/');
        } else if (e.Type === 'link') {
          nameCell = h('span', h('button.linkish', { type: 'button', title: 'Open as a directory', onclick: () => open(full) }, icon('link'), e.Name),
            e.Link ? h('span.muted', ' → ' + e.Link) : null);
        } else if (e.Type === 'file') {
          nameCell = h('a', { href: `/api/containers/${seg(name)}/file?path=${encodeURIComponent(full)}`, download: e.Name }, icon('file'), e.Name);
        } else {
          nameCell = h('span', icon('file'), e.Name);
        }
        const dl = e.Type === 'file'
          ? h('a.icon-btn', { href: `/api/containers/${seg(name)}/file?path=${encodeURIComponent(full)}`, download: e.Name, 'aria-label': 'Download ' + e.Name }, icon('download'))
          : '';
        return h('tr', { dataset: { name: e.Name } },
          h('td.name', nameCell),
          h('td.num', e.Type === 'dir' ? '' : bytes(e.Size)),
          h('td.mono', modeText(e.Mode)),
          h('td.nowrap', timeEl(e.Modified)),
          h('td.act', dl));
      });
      clear(list, h('div.tablewrap', h('table.grid', { 'aria-label': 'Files in ' + path },
        h('thead', h('tr', ['Name', 'Size', 'Mode', 'Modified', ''].map((t, i) => h('th' + (i === 1 ? '.num' : ''), { scope: 'col' }, t)))),
        h('tbody', path !== '/' ? h('tr', h('td', { colspan: 5 }, h('button.linkish', { type: 'button', onclick: () => open(path.replace(/\/[^/]+\/?$/, '') || '/') }, icon('folder', 'dir'), '..'))) : null, rows))),
      entries.length ? null : h('div.table-empty', 'This directory is empty.'));
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(list, alertBox(e.message));
    }
  }
  open('/');
  return { dispose: () => ctrl?.abort() };
}
