// A container's logs, followed live. Docker frames each chunk with an
// 8-byte header (stream, 0, 0, 0, big-endian length) unless the
// container has a TTY.

import { h, icon, clear } from './dom.js';
import { request, seg } from './api.js';
import { searchBox } from './ui.js';

const KEEP = 20000; // lines kept for search and download
const SHOW = 5000; // lines in the page at most
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78]/g;
const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) ?/;

export function mountLogs(host, name, { tty }) {
  const lines = [];
  let query = '';
  let ctrl = null;
  let ended = false;
  const view = h('div.logview', { role: 'log', 'aria-label': 'Logs of ' + name, tabindex: '0' });
  const status = h('span.muted.logstatus', 'Connecting…');
  const download = h('button.btn.sm', { type: 'button' }, icon('download'), 'Download');
  const wrapToggle = h('input', { type: 'checkbox', checked: true });
  const search = searchBox('Search the logs', (q) => { query = q.trim().toLowerCase(); redraw(); }, 'Search the logs');
  host.append(h('div.toolbar', search, h('label.check', wrapToggle, 'Wrap lines'), h('span.spacer'), status, download), view);
  wrapToggle.addEventListener('change', () => view.classList.toggle('nowrap', !wrapToggle.checked));

  download.addEventListener('click', () => {
    const text = lines.map((l) => (l.ts ? l.ts + ' ' : '') + l.text).join('\n') + '\n';
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = h('a', { href: url, download: `${name}.log` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });

  function lineEl(l) {
    const msg = h('span.msg');
    if (query) {
      const low = l.text.toLowerCase();
      let i = 0, j;
      while ((j = low.indexOf(query, i)) >= 0) {
        msg.append(l.text.slice(i, j), h('mark', l.text.slice(j, j + query.length)));
        i = j + query.length;
      }
      msg.append(l.text.slice(i));
    } else {
      msg.textContent = l.text;
    }
    const d = new Date(l.ts);
    return h('div.line' + (l.err ? '.err' : ''),
      l.ts ? h('span.ts', { title: l.ts }, isNaN(d) ? l.ts : fmtTime(d)) : null, msg);
  }

  const match = (l) => !query || l.text.toLowerCase().includes(query);
  function redraw() {
    const shown = [];
    for (let i = lines.length - 1; i >= 0 && shown.length < SHOW; i--) if (match(lines[i])) shown.push(lines[i]);
    shown.reverse();
    clear(view, shown.map(lineEl));
    if (!shown.length) view.append(h('div.muted.logempty', query ? 'No line matches.' : ended ? 'No logs.' : 'Waiting for logs…'));
    view.scrollTop = view.scrollHeight;
  }

  let queue = [];
  let raf = 0;
  function add(text, err) {
    const m = text.match(TS);
    const l = m ? { ts: m[1], text: text.slice(m[0].length), err } : { ts: '', text, err };
    lines.push(l);
    if (lines.length > KEEP) lines.splice(0, lines.length - KEEP);
    queue.push(l);
    if (!raf) raf = requestAnimationFrame(flush);
  }
  function flush() {
    raf = 0;
    const atEnd = view.scrollHeight - view.scrollTop - view.clientHeight < 40;
    view.querySelector('.logempty')?.remove();
    const frag = document.createDocumentFragment();
    for (const l of queue) if (match(l)) frag.append(lineEl(l));
    queue = [];
    view.append(frag);
    while (view.childElementCount > SHOW) view.firstElementChild.remove();
    if (atEnd) view.scrollTop = view.scrollHeight;
  }

  async function follow(tail) {
    ctrl?.abort();
    ctrl = new AbortController();
    ended = false;
    status.textContent = 'Following';
    status.className = 'logstatus live';
    const dec = [new TextDecoder(), new TextDecoder(), new TextDecoder()];
    const part = ['', '', ''];
    const text = (stream, bytes) => {
      const s = stream === 2 ? 2 : 1;
      part[s] += dec[s].decode(bytes, { stream: true });
      let nl;
      while ((nl = part[s].indexOf('\n')) >= 0) {
        add(clean(part[s].slice(0, nl)), s === 2);
        part[s] = part[s].slice(nl + 1);
      }
    };
    try {
      const res = await request(`/api/docker/containers/${seg(name)}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=${tail}`, { signal: ctrl.signal });
      // Docker answers with this type when the frames are multiplexed.
      const framed = !tty || (res.headers.get('Content-Type') || '').includes('multiplexed-stream');
      const reader = res.body.getReader();
      let buf = new Uint8Array(0);
      if (!lines.length) redraw();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!framed) { text(1, value); continue; }
        const joined = new Uint8Array(buf.length + value.length);
        joined.set(buf);
        joined.set(value, buf.length);
        let off = 0;
        while (joined.length - off >= 8) {
          const size = new DataView(joined.buffer, joined.byteOffset + off + 4, 4).getUint32(0);
          if (joined.length - off - 8 < size) break;
          text(joined[off], joined.subarray(off + 8, off + 8 + size));
          off += 8 + size;
        }
        buf = joined.slice(off);
      }
      for (const s of [1, 2]) if (part[s]) { add(clean(part[s]), s === 2); part[s] = ''; }
      ended = true;
      status.textContent = 'Stopped: the container is not running';
      status.className = 'logstatus muted';
      if (!lines.length) redraw();
    } catch (e) {
      if (e.name === 'AbortError') return;
      ended = true;
      status.textContent = e.message;
      status.className = 'logstatus bad-text';
    }
  }
  follow(500);

  return {
    /** The container started again: follow its new output. */
    resume() { if (ended) follow(0); },
    dispose() { ctrl?.abort(); cancelAnimationFrame(raf); },
  };
}

function clean(s) {
  return s.replace(ANSI, '').replace(/\r$/, '').replace(/.*\r(?!$)/g, '');
}

function fmtTime(d) {
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const today = new Date().toDateString() === d.toDateString();
  const t = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  return today ? t : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${t}`;
}
