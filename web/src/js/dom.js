// Tiny DOM helpers: h() builds elements, svg icons, and a few formatters.

/**
 * h('button.btn.primary', {onclick, type: 'button'}, 'Start')
 * The tag may carry .classes and one #id. Attribute values of false/null
 * are skipped; `on*` functions become listeners; `dataset` is an object;
 * children may be strings, numbers, nodes, arrays or null.
 */
export function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split('.');
  let el;
  let id = null;
  let tagName = name;
  const hash = name.indexOf('#');
  if (hash >= 0) { tagName = name.slice(0, hash); id = name.slice(hash + 1); }
  el = document.createElement(tagName || 'div');
  if (id) el.id = id;
  if (rest.length) el.className = rest.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' && typeof v === 'boolean') el[k] = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Icons: 16x16 strokes drawn for this console.
const ICONS = {
  menu: 'M2 4h12M2 8h12M2 12h12',
  close: 'M4 4l8 8M12 4l-8 8',
  copy: 'M5 5h8v8H5zM3 11V3h8',
  share: 'M6 9l4-2M6 7l4 2M4.5 8a1.5 1.5 0 1 1-.01 0M11.5 4a1.5 1.5 0 1 1-.01 0M11.5 12a1.5 1.5 0 1 1-.01 0',
  expand: 'M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4',
  download: 'M8 2v8M4.5 7L8 10.5 11.5 7M3 13h10',
  upload: 'M8 11V3M4.5 6L8 2.5 11.5 6M3 13h10',
  refresh: 'M13 8a5 5 0 1 1-1.5-3.5M13 2v3h-3',
  folder: 'M2 4h4l1.5 1.5H14V13H2z',
  file: 'M4 2h5l3 3v9H4zM9 2v3h3',
  link: 'M7 9l2-2M6 11l-1 1a2 2 0 0 1-3-3l2-2M10 5l1-1a2 2 0 0 1 3 3l-2 2',
  search: 'M7 3a4 4 0 1 1-.01 0M10 10l4 4',
  plus: 'M8 3v10M3 8h10',
  user: 'M8 3a2.5 2.5 0 1 1-.01 0M3 14c.5-3 2.5-4.5 5-4.5s4.5 1.5 5 4.5',
};

export function icon(name, cls = '') {
  const ns = 'http://www.w3.org/2000/svg';
  const s = document.createElementNS(ns, 'svg');
  s.setAttribute('viewBox', '0 0 16 16');
  s.setAttribute('class', ('icon ' + cls).trim());
  s.setAttribute('aria-hidden', 'true');
  s.setAttribute('focusable', 'false');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', ICONS[name] || '');
  s.append(p);
  return s;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function bytes(n) {
  if (n === null || n === undefined || n === '' || isNaN(n)) return '';
  n = Number(n);
  let i = 0;
  while (Math.abs(n) >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + UNITS[i];
}

export function percent(n, whole = false) {
  if (n === null || n === undefined || n === '' || isNaN(n)) return '';
  return Number(n).toFixed(Number(n) < 10 && !whole && n > 0 ? 1 : 0) + '%';
}

/** Date from Unix seconds, milliseconds or an RFC 3339 string. */
export function toDate(v) {
  if (v === null || v === undefined || v === '' || v === 0) return null;
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
  const d = new Date(v);
  if (isNaN(d) || d.getFullYear() < 1971) return null;
  return d;
}

export function ago(v) {
  const d = toDate(v);
  if (!d) return '';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const f = (n, u) => `${n} ${u}${n === 1 ? '' : 's'}`;
  let t;
  if (abs < 45) t = 'seconds';
  else if (abs < 3600) t = f(Math.round(abs / 60), 'minute');
  else if (abs < 86400) t = f(Math.round(abs / 3600), 'hour');
  else if (abs < 86400 * 45) t = f(Math.round(abs / 86400), 'day');
  else if (abs < 86400 * 365) t = f(Math.round(abs / 86400 / 30), 'month');
  else t = f(Math.round(abs / 86400 / 365), 'year');
  return s >= 0 ? `${t} ago` : `in ${t}`;
}

export function timeEl(v) {
  const d = toDate(v);
  if (!d) return '';
  return h('time', { datetime: d.toISOString(), title: d.toLocaleString() }, ago(d));
}

export function shortId(id) {
  return String(id || '').replace(/^sha256:/, '').slice(0, 12);
}

export function debounce(fn, ms) {
  let t = 0;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}
