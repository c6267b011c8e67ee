// "Share": a one-time console link (POST /api/tickets).

import { h, icon, toDate } from './dom.js';
import { post } from './api.js';
import { modal, busy, alertBox } from './ui.js';

async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input.select();
    return document.execCommand && document.execCommand('copy');
  }
}

export function shareButton(kind, target) {
  const b = h('button.btn.sm', { type: 'button', 'aria-label': 'Share this console' }, icon('share'), 'Share');
  b.addEventListener('click', () => busy(b, async () => {
    const res = await post('/api/tickets', { Kind: kind, Target: target });
    const t = await res.json();
    const url = new URL(t.Url, location.origin).href;
    const exp = toDate(t.Expires);
    const input = h('input.mono', { readonly: true, value: url, 'aria-label': 'Console link' });
    const copy = h('button.btn', { type: 'button' }, icon('copy'), 'Copy');
    const note = h('p.muted', 'Anyone with this link can open this console once, within a minute',
      exp ? ` (until ${exp.toLocaleTimeString()})` : '', ', without logging in.');
    const copied = h('div', { 'aria-live': 'polite' });
    copy.addEventListener('click', async () => {
      const ok = await copyText(url, input);
      copied.replaceChildren(ok ? h('span.ok-text', 'Copied') : alertBox('Copy failed: select the link and copy it'));
    });
    const close = h('button.btn', { type: 'button' }, 'Close');
    const d = modal({ title: 'Share console', body: [note, h('div.copyrow', input, copy), copied], footer: close });
    close.addEventListener('click', () => d.close());
    input.addEventListener('focus', () => input.select());
    copy.focus();
  }, 'Share'));
  return b;
}
