// Shared widgets: dialogs, toasts, badges, tabs, a searchable live table.

import { h, icon, clear } from './dom.js';

// ---- dialogs -------------------------------------------------------------

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal <dialog>: focus stays inside, Escape closes it, focus returns to
 * where it was. Returns {el, body, close}; onClose(value) runs once.
 */
export function modal({ title, body, footer, onClose, wide = false, label }) {
  const before = document.activeElement;
  const heading = h('h2.dialog-title', { id: 'dlg-' + Math.random().toString(36).slice(2) }, title);
  const closeBtn = h('button.icon-btn', { type: 'button', 'aria-label': 'Close' }, icon('close'));
  const el = h('dialog.dialog' + (wide ? '.wide' : ''), { 'aria-labelledby': label ? null : heading.id, 'aria-label': label || null },
    h('header.dialog-head', heading, closeBtn),
    h('div.dialog-body', body),
    footer ? h('footer.dialog-foot', footer) : null);
  let done = false;
  const close = (value) => {
    if (done) return;
    done = true;
    if (el.open) el.close();
    el.remove();
    if (before && before.focus && document.contains(before)) before.focus();
    onClose?.(value);
  };
  closeBtn.addEventListener('click', () => close(undefined));
  el.addEventListener('cancel', (e) => { e.preventDefault(); close(undefined); });
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); close(undefined); return; }
    if (e.key !== 'Tab') return;
    const items = [...el.querySelectorAll(FOCUSABLE)].filter((x) => x.offsetParent !== null);
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });
  el.addEventListener('click', (e) => { if (e.target === el) close(undefined); });
  document.body.append(el);
  el.showModal();
  const auto = el.querySelector('[autofocus]') || el.querySelector('.dialog-body ' + FOCUSABLE) || el.querySelector('.dialog-foot .primary, .dialog-foot .danger');
  auto?.focus();
  return { el, close };
}

/** Asks before a destructive action; resolves true when confirmed. */
export function confirmAction({ title, message, action, danger = true }) {
  return new Promise((resolve) => {
    const cancel = h('button.btn', { type: 'button' }, 'Cancel');
    const ok = h('button.btn' + (danger ? '.danger' : '.primary'), { type: 'button' }, action);
    const d = modal({ title, body: h('p', message), footer: [cancel, ok], onClose: (v) => resolve(v === true) });
    cancel.addEventListener('click', () => d.close(false));
    ok.addEventListener('click', () => d.close(true));
    ok.focus();
  });
}

// ---- toasts --------------------------------------------------------------

let toastBox;
export function toast(message, kind = 'info') {
  if (!toastBox) {
    toastBox = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  const close = h('button.icon-btn', { type: 'button', 'aria-label': 'Dismiss' }, icon('close'));
  const t = h('div.toast.' + kind, { role: kind === 'error' ? 'alert' : null }, h('span', message), close);
  const remove = () => t.remove();
  close.addEventListener('click', remove);
  toastBox.append(t);
  setTimeout(remove, kind === 'error' ? 12000 : 5000);
}

export function errorToast(e, what) {
  if (e?.status === 401 || e?.name === 'AbortError') return;
  toast((what ? what + ': ' : '') + (e?.message || String(e)), 'error');
}

export function alertBox(message) {
  return h('div.alert', { role: 'alert' }, message);
}

// ---- small pieces --------------------------------------------------------

const STATE_CLASS = {
  running: 'ok', up: 'ok', healthy: 'ok',
  paused: 'warn', restarting: 'info', starting: 'info', created: 'info', stopping: 'warn', removing: 'warn',
  exited: 'off', stopped: 'off', dead: 'bad', unhealthy: 'bad', error: 'bad', failed: 'bad',
};
export function badge(state) {
  const s = String(state || 'unknown').toLowerCase();
  return h('span.badge.' + (STATE_CLASS[s.split(/[\s(]/)[0]] || 'off'), s);
}

export function empty(text, extra) {
  return h('div.empty', h('p', text), extra);
}

export function spinner(text = 'Loading…') {
  return h('div.loading', { role: 'status' }, h('span.spin', { 'aria-hidden': 'true' }), text);
}

/** Key-value list for summaries. */
export function facts(pairs) {
  return h('dl.facts', pairs.filter((p) => p && p[1] !== undefined && p[1] !== null && p[1] !== '' && !(Array.isArray(p[1]) && !p[1].length))
    .map(([k, v]) => h('div.fact', h('dt', k), h('dd', v))));
}

export function searchBox(placeholder, oninput, label = 'Search') {
  const input = h('input.search', { type: 'search', placeholder, 'aria-label': label, autocomplete: 'off', spellcheck: 'false' });
  input.addEventListener('input', () => oninput(input.value));
  return h('label.searchwrap', icon('search'), input);
}

/** Runs an async action with its button disabled; errors become toasts. */
export async function busy(btn, fn, what) {
  if (btn) { btn.disabled = true; btn.classList.add('busy'); }
  try { return await fn(); }
  catch (e) { errorToast(e, what); return undefined; }
  finally { if (btn) { btn.disabled = false; btn.classList.remove('busy'); } }
}

// ---- tabs ----------------------------------------------------------------

/**
 * Tabs: [{id, label, render(panel) → cleanup?, onShow?}] rendered lazily on
 * first show; the selected tab lives in location.hash.
 */
export function tabs(list, { onChange } = {}) {
  const bar = h('div.tabs', { role: 'tablist' });
  const panels = h('div.tabpanels');
  const state = new Map();
  const buttons = list.map((t) => {
    const b = h('button.tab', { type: 'button', role: 'tab', id: 'tab-' + t.id, 'aria-controls': 'panel-' + t.id, 'aria-selected': 'false', tabindex: '-1', dataset: { tab: t.id } }, t.label);
    b.addEventListener('click', () => select(t.id, true));
    b.addEventListener('keydown', (e) => {
      const i = list.indexOf(t);
      let j = null;
      if (e.key === 'ArrowRight') j = (i + 1) % list.length;
      else if (e.key === 'ArrowLeft') j = (i - 1 + list.length) % list.length;
      else if (e.key === 'Home') j = 0;
      else if (e.key === 'End') j = list.length - 1;
      if (j !== null) { e.preventDefault(); select(list[j].id, true); buttons[j].focus(); }
    });
    bar.append(b);
    return b;
  });
  let current = null;
  function select(id, user) {
    const t = list.find((x) => x.id === id) || list[0];
    if (current === t.id) return;
    current = t.id;
    list.forEach((x, i) => {
      const on = x.id === t.id;
      buttons[i].setAttribute('aria-selected', String(on));
      buttons[i].tabIndex = on ? 0 : -1;
      const st = state.get(x.id);
      if (st) st.panel.hidden = !on;
    });
    let st = state.get(t.id);
    if (!st) {
      const panel = h('div.tabpanel', { role: 'tabpanel', id: 'panel-' + t.id, 'aria-labelledby': 'tab-' + t.id });
      panels.append(panel);
      st = { panel, cleanup: null };
      state.set(t.id, st);
      st.cleanup = t.render(panel) || null;
    } else {
      t.onShow?.(st.panel);
    }
    if (user) history.replaceState(history.state, '', t.id === list[0].id ? location.pathname : '#' + t.id);
    onChange?.(t.id);
  }
  const initial = location.hash.slice(1);
  const onHash = () => { const id = location.hash.slice(1); if (list.some((t) => t.id === id)) select(id, false); };
  window.addEventListener('hashchange', onHash);
  return {
    el: h('div.tabset', bar, panels),
    start: () => select(list.some((t) => t.id === initial) ? initial : list[0].id, false),
    select,
    dispose() {
      window.removeEventListener('hashchange', onHash);
      for (const st of state.values()) if (typeof st.cleanup === 'function') st.cleanup(); },
  };
}

// ---- the searchable live table ------------------------------------------

/**
 * A table whose rows are keyed by name and updated in place: rows whose
 * data did not change keep their DOM (and focus). columns: [{title, cls,
 * cell(item) → node|string, text(item) → string for search}].
 */
export function liveTable({ columns, key, emptyText, label }) {
  const tbody = h('tbody');
  const table = h('table.grid', { 'aria-label': label },
    h('thead', h('tr', columns.map((c) => h('th' + (c.cls ? '.' + c.cls : ''), { scope: 'col' }, c.title)))),
    tbody);
  const emptyRow = h('div.table-empty');
  const wrap = h('div.tablewrap.cards', table, emptyRow);
  let rows = new Map();
  let filter = '';
  let items = [];
  function matches(item) {
    if (!filter) return true;
    const hay = columns.map((c) => (c.text ? c.text(item) : '')).join(' ').toLowerCase();
    return filter.split(/\s+/).every((w) => hay.includes(w));
  }
  function applyFilter() {
    let shown = 0;
    for (const item of items) {
      const r = rows.get(key(item));
      const ok = matches(item);
      r.tr.hidden = !ok;
      if (ok) shown++;
    }
    emptyRow.hidden = shown > 0;
    clear(emptyRow, items.length ? 'No match for “' + filter + '”' : emptyText);
  }
  return {
    el: wrap,
    tbody,
    set(list) {
      items = list;
      const next = new Map();
      const frag = [];
      for (const item of list) {
        const k = key(item);
        const sig = JSON.stringify(item);
        let r = rows.get(k);
        if (!r || r.sig !== sig) {
          const tr = h('tr', { dataset: { name: k } }, columns.map((c) => h('td' + (c.cls ? '.' + c.cls : ''), { 'data-label': c.title }, c.cell(item))));
          if (r) r.tr.replaceWith(tr);
          r = { tr, sig, item };
        }
        next.set(k, r);
        frag.push(r.tr);
      }
      // Put rows in order without touching the ones already in place.
      frag.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null); });
      while (tbody.children.length > frag.length) tbody.lastElementChild.remove();
      rows = next;
      applyFilter();
    },
    row: (k) => rows.get(k)?.tr,
    filter(q) { filter = q.trim().toLowerCase(); applyFilter(); },
  };
}

/** The header of a page: title, count, and tools. */
export function pageHead(title, ...tools) {
  return h('div.pagehead', h('h1', title), h('div.tools', tools));
}
