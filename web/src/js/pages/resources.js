// /images, /networks, /volumes: searchable lists kept live by events.

import { h, bytes, timeEl, shortId, debounce, toDate } from '../dom.js';
import { getJSON, request, seg } from '../api.js';
import { onEvent } from '../live.js';
import { liveTable, pageHead, searchBox, errorToast, confirmAction, busy, toast } from '../ui.js';

function removeButton(what, name, path, after) {
  const b = h('button.btn.sm.danger-ghost', { type: 'button' }, 'Remove');
  b.addEventListener('click', async () => {
    if (!(await confirmAction({ title: `Remove ${what}`, message: `Remove ${what} ${name}? This cannot be undone.`, action: 'Remove' }))) return;
    const ok = await busy(b, async () => { await request(path, { method: 'DELETE' }); return true; }, `Remove ${name}`);
    if (ok) { toast(`Removed ${name}`); after(); }
  });
  return h('div.actions', b);
}

function listPage({ title, label, url, pick, key, sort, columns, eventType, emptyText }) {
  return (root, _params, ctx) => {
    document.title = `${title} · yurta`;
    let refresh;
    const table = liveTable({ label, key, emptyText, columns: columns(() => refresh()) });
    const count = h('span.count');
    root.append(pageHead([title, count], searchBox(`Filter ${title.toLowerCase()}`, (q) => table.filter(q), `Filter ${title.toLowerCase()}`)), table.el);
    const ctrl = new AbortController();
    let first = true;
    refresh = async () => {
      try {
        const items = pick((await getJSON(url, { signal: ctrl.signal })) || []);
        items.sort(sort || ((a, b) => key(a).localeCompare(key(b))));
        table.set(items);
        count.textContent = String(items.length);
      } catch (e) {
        if (e.name === 'AbortError') return;
        errorToast(e, title);
        if (first) table.set([]);
      }
      if (first) { first = false; ctx.ready(); }
    };
    const later = debounce(refresh, 300);
    const off = onEvent((e) => { if (e.Type === eventType || e.Type === 'resync') later(); });
    refresh();
    return () => { ctrl.abort(); later.cancel(); off(); };
  };
}

const imageName = (i) => {
  const tags = (i.RepoTags || []).filter((t) => t !== '<none>:<none>');
  if (tags.length) return tags[0];
  const d = (i.RepoDigests || [])[0];
  return d ? d.replace(/@.*/, '') + '@<none>' : '<none>:<none>';
};
const imageKey = (i) => imageName(i) === '<none>:<none>' ? shortId(i.Id) : imageName(i);

export const imagesPage = listPage({
  title: 'Images', label: 'Images', url: '/api/docker/images/json', eventType: 'image',
  emptyText: 'No images. Pull one with `yurta pull`, or create a container from an image reference.',
  pick: (x) => x,
  key: imageKey,
  sort: (a, b) => (toDate(b.Created)?.getTime() || 0) - (toDate(a.Created)?.getTime() || 0),
  columns: (after) => [
    { title: 'Repository:tag', cls: 'name', text: (i) => (i.RepoTags || []).join(' '), cell: (i) => [
      h('span.strong.mono', imageName(i)),
      (i.RepoTags || []).length > 1 ? h('div.sub.mono', (i.RepoTags || []).slice(1).join(', ')) : null] },
    { title: 'ID', text: (i) => shortId(i.Id), cell: (i) => h('span.mono', { title: i.Id }, shortId(i.Id)) },
    { title: 'Size', cls: 'num', cell: (i) => bytes(i.Size) },
    { title: 'Created', cls: 'nowrap', cell: (i) => timeEl(i.Created) },
    { title: 'Containers', cls: 'num', cell: (i) => (i.Containers >= 0 ? String(i.Containers) : '') },
    { title: 'Actions', cls: 'act', cell: (i) => removeButton('image', imageName(i), `/api/docker/images/${encodeURI(imageName(i).includes('<none>') ? i.Id : imageName(i))}`, after) },
  ],
});

const subnetOf = (n) => (n.IPAM?.Config || []).map((c) => c.Subnet).filter(Boolean);
const gatewayOf = (n) => (n.IPAM?.Config || []).map((c) => c.Gateway).filter(Boolean);

export const networksPage = listPage({
  title: 'Networks', label: 'Networks', url: '/api/docker/networks', eventType: 'network',
  emptyText: 'No networks.',
  pick: (x) => x,
  key: (n) => n.Name,
  columns: (after) => [
    { title: 'Name', cls: 'name', text: (n) => n.Name + ' ' + n.Id, cell: (n) => [h('span.strong', n.Name), h('div.sub.mono', shortId(n.Id))] },
    { title: 'Driver', text: (n) => n.Driver, cell: (n) => n.Driver || '' },
    { title: 'Subnet', text: (n) => subnetOf(n).join(' '), cell: (n) => h('span.mono.list', subnetOf(n).map((s) => h('span', s))) },
    { title: 'Gateway', text: (n) => gatewayOf(n).join(' '), cell: (n) => h('span.mono.list', gatewayOf(n).map((s) => h('span', s))) },
    { title: 'Internal', cell: (n) => (n.Internal ? 'yes' : '') },
    { title: 'Actions', cls: 'act', cell: (n) => (['bridge', 'host', 'none'].includes(n.Name) ? '' : removeButton('network', n.Name, `/api/docker/networks/${seg(n.Name)}`, after)) },
  ],
});

export const volumesPage = listPage({
  title: 'Volumes', label: 'Volumes', url: '/api/docker/volumes', eventType: 'volume',
  emptyText: 'No volumes.',
  pick: (x) => x.Volumes || [],
  key: (v) => v.Name,
  columns: (after) => [
    { title: 'Name', cls: 'name', text: (v) => v.Name, cell: (v) => h('span.strong.mono.clip', { title: v.Name }, v.Name) },
    { title: 'Driver', text: (v) => v.Driver, cell: (v) => v.Driver || '' },
    { title: 'Mountpoint', text: (v) => v.Mountpoint, cell: (v) => h('span.mono.muted', v.Mountpoint || '') },
    { title: 'Created', cls: 'nowrap', cell: (v) => timeEl(v.CreatedAt) },
    { title: 'Actions', cls: 'act', cell: (v) => removeButton('volume', v.Name, `/api/docker/volumes/${seg(v.Name)}`, after) },
  ],
});
