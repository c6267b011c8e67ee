// console.html: one console opened with a ticket (/console/TICKET). The
// service puts <meta name="yurta-console" content="KIND NAME"> in the page.

import { h } from './dom.js';
import { mountTerminal } from './terminal.js';
import { mountScreen } from './screen.js';

const root = document.getElementById('console');
const meta = document.querySelector('meta[name="yurta-console"]')?.content.trim() || '';
const sp = meta.indexOf(' ');
const kind = sp > 0 ? meta.slice(0, sp) : '';
const name = sp > 0 ? meta.slice(sp + 1).trim() : '';
const ticket = decodeURIComponent(location.pathname.replace(/^\/console\//, '').replace(/\/.*$/, ''));
const q = 'ticket=' + encodeURIComponent(ticket);
const e = encodeURIComponent;

function fail(text) {
  root.replaceChildren(h('div.console-error', h('h1', 'Console unavailable'), h('p', text)));
  document.body.dataset.ready = '1';
  performance.mark('yurta-ready');
}

const ready = () => {
  document.body.dataset.ready = '1';
  performance.mark('yurta-ready');
};
const used = () => {
  const n = document.getElementById('console-note');
  if (n) n.textContent = 'This link opens one console once; ask for a new link to reconnect.';
};

const titles = { exec: 'Terminal', serial: 'Serial console', vnc: 'Screen' };
if (!ticket || !titles[kind] || !name) {
  fail('This console link is not valid. Links work once, within a minute of being made.');
} else {
  document.title = `${name} · ${titles[kind]} · yurta`;
  document.getElementById('console-title').textContent = `${name} — ${titles[kind]}`;
  const opts = { reconnect: false, share: null, onOpen: ready, onClose: () => { used(); ready(); } };
  if (kind === 'exec') mountTerminal(root, { ...opts, resize: true, path: (c, r) => `/ws/containers/${e(name)}/exec?${q}&cols=${c}&rows=${r}` });
  else if (kind === 'serial') mountTerminal(root, { ...opts, resize: false, path: () => `/ws/vms/${e(name)}/serial?${q}` });
  else mountScreen(root, { ...opts, path: () => `/ws/vms/${e(name)}/vnc?${q}` });
  // A link that no longer works still ends in a usable page.
  setTimeout(() => { if (document.body.dataset.ready !== '1') ready(); }, 8000);
}
