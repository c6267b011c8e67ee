// The application page: session, layout, routing on location.pathname.

import { h, clear } from './dom.js';
import { loadSession, session, request } from './api.js';
import { startLive } from './live.js';
import { errorToast } from './ui.js';
import { containersPage } from './pages/containers.js';
import { containerPage } from './pages/container.js';
import { vmsPage } from './pages/vms.js';
import { vmPage } from './pages/vm.js';
import { imagesPage, networksPage, volumesPage } from './pages/resources.js';

const ROUTES = [
  [/^\/(containers\/?)?$/, containersPage, 'containers'],
  [/^\/containers\/([^/]+)\/?$/, containerPage, 'containers'],
  [/^\/vms\/?$/, vmsPage, 'vms'],
  [/^\/vms\/([^/]+)\/?$/, vmPage, 'vms'],
  [/^\/images\/?$/, imagesPage, 'images'],
  [/^\/networks\/?$/, networksPage, 'networks'],
  [/^\/volumes\/?$/, volumesPage, 'volumes'],
];

const main = document.getElementById('main');
let cleanup = null;
let navId = 0;

/** Ready hook for tests: the page's first data has rendered. */
function readyFor(id) {
  return () => {
    if (id !== navId || document.body.dataset.ready === '1') return;
    document.body.dataset.ready = '1';
    performance.mark('yurta-ready');
  };
}

function notFound(root, _params, ctx) {
  root.append(h('div.pagehead', h('h1', 'Not found')),
    h('p', 'There is no page at ', h('code', location.pathname), '. ', h('a', { href: '/containers' }, 'Go to containers'), '.'));
  ctx.ready();
}

function render() {
  if (typeof cleanup === 'function') { try { cleanup(); } catch (e) { console.warn(e); } }
  cleanup = null;
  const id = ++navId;
  delete document.body.dataset.ready;
  const path = location.pathname;
  main.dataset.path = path;
  let page = notFound, params = [], section = '';
  for (const [re, fn, sec] of ROUTES) {
    const m = path.match(re);
    if (m) {
      page = fn;
      section = sec;
      params = m.slice(1).filter((x) => x !== undefined && !x.startsWith('containers')).map(decodeURIComponent);
      break;
    }
  }
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.body.classList.remove('nav-open');
  const root = h('div.page');
  clear(main, root);
  const ctx = { ready: readyFor(id), navigate, alive: () => id === navId };
  try {
    cleanup = page(root, params, ctx) || null;
  } catch (e) {
    console.error(e);
    errorToast(e);
  }
}

export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname + location.search + location.hash && !replace) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// Same-origin links to app pages navigate without a reload.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/console/')) return;
  if (!ROUTES.some(([re]) => re.test(url.pathname))) return;
  e.preventDefault();
  if (url.pathname === location.pathname && url.hash) { location.hash = url.hash; return; }
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => {
  // A hash change inside the same page (tabs) keeps the page.
  if (main.dataset.path !== location.pathname) render();
});

// ---- the frame: user, log out, phone menu ------------------------------

document.getElementById('menu-btn')?.addEventListener('click', () => {
  const open = document.body.classList.toggle('nav-open');
  document.getElementById('menu-btn').setAttribute('aria-expanded', String(open));
});
document.getElementById('nav-scrim')?.addEventListener('click', () => document.body.classList.remove('nav-open'));
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.classList.contains('nav-open')) document.body.classList.remove('nav-open');
});

document.getElementById('logout')?.addEventListener('click', async (e) => {
  const btn = e.currentTarget;
  btn.disabled = true;
  try {
    await request('/logout', { method: 'POST' });
  } catch (err) {
    if (err.status !== 401) { errorToast(err, 'Log out'); btn.disabled = false; return; }
  }
  location.assign('/login');
});

session.then((s) => {
  const u = document.getElementById('user-name');
  if (u) u.textContent = s.user || '';
  const v = document.getElementById('version');
  if (v && s.version) v.textContent = 'yurta ' + s.version;
});

loadSession().catch((e) => { if (e.status !== 401) errorToast(e, 'Session'); });
startLive();
render();
