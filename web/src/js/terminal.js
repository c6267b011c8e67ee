// A terminal over one of the service's websockets:
// binary frames both ways, text frames are control ({"type":"exit"},
// {"type":"resize"}).

import { h, icon } from './dom.js';
import { wsUrl, checkSession } from './api.js';
import { shareButton } from './share.js';

const enc = new TextEncoder();

const THEME = { background: '#101418', foreground: '#e3e8ee', cursor: '#7fd1c7', cursorAccent: '#101418', selectionBackground: '#34536a' };

/**
 * Mounts a terminal in `host`. opts: {path(cols, rows) → ws path, resize:
 * bool, share: {kind, target} | null, reconnect: bool}. Returns a dispose
 * function.
 */
export function mountTerminal(host, opts) {
  const status = h('span.term-status', 'Connecting…');
  const reconnect = h('button.btn.sm', { type: 'button', hidden: opts.reconnect === false }, icon('refresh'), 'Reconnect');
  const full = h('button.btn.sm', { type: 'button' }, icon('expand'), 'Full screen');
  // xterm's own root element carries class "terminal" (the tests' hook).
  const box = h('div.termhost');
  const frame = h('div.termframe', h('div.termbar', status, h('span.spacer'), opts.share ? shareButton(opts.share.kind, opts.share.target) : null, reconnect, full), box);
  host.append(frame);

  let term = null, fit = null, ws = null, disposed = false, ro = null, exited = false;
  const setStatus = (text, cls) => { status.textContent = text; status.className = 'term-status ' + (cls || ''); };

  function connect() {
    if (ws) { ws.onclose = null; ws.close(); }
    exited = false;
    setStatus('Connecting…');
    const sock = new WebSocket(wsUrl(opts.path(term.cols, term.rows)));
    ws = sock;
    sock.binaryType = 'arraybuffer';
    sock.onopen = () => {
      setStatus('Connected', 'ok');
      if (opts.resize) sock.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
      opts.onOpen?.();
      term.focus();
    };
    sock.onmessage = (m) => {
      if (typeof m.data === 'string') {
        let c;
        try { c = JSON.parse(m.data); } catch { return; }
        if (c.type === 'exit') {
          exited = true;
          term.write(`\r\n\x1b[2m[process exited with code ${c.code}]\x1b[0m\r\n`);
          setStatus(`Exited (${c.code})`, 'off');
        }
        return;
      }
      term.write(new Uint8Array(m.data));
    };
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      if (!exited) {
        const why = e.code === 1000 || e.code === 1005 ? '' : ` (${e.code}${e.reason ? ': ' + e.reason : ''})`;
        term.write(`\r\n\x1b[2m[connection closed${why}]\x1b[0m\r\n`);
        setStatus('Disconnected', 'off');
        if (e.code === 1006) checkSession();
      }
      opts.onClose?.();
    };
  }

  const send = (data) => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(data); };

  (async () => {
    const { Terminal, FitAddon } = await import('./xterm.js');
    if (disposed) return;
    term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: THEME,
      allowProposedApi: false,
    });
    fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box);
    fit.fit();
    window.yurtaTerm = term;
    term.onData((s) => send(enc.encode(s)));
    term.onBinary((s) => send(Uint8Array.from(s, (c) => c.charCodeAt(0) & 255)));
    if (opts.resize) term.onResize(({ cols, rows }) => send(JSON.stringify({ type: 'resize', cols, rows })));
    let raf = 0;
    ro = new ResizeObserver(() => {
      cancelAnimationFrame(raf);
      raf = requestAnimationFrame(() => { if (box.offsetParent !== null) { try { fit.fit(); } catch { /* hidden */ } } });
    });
    ro.observe(box);
    connect();
  })();

  reconnect.addEventListener('click', () => {
    if (!term) return;
    term.reset();
    connect();
  });
  full.addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else frame.requestFullscreen?.().then(() => term?.focus()).catch(() => {});
  });

  return {
    fit: () => { try { fit?.fit(); term?.focus(); } catch { /* not shown */ } },
    dispose() {
      disposed = true;
      ro?.disconnect();
      if (ws) { ws.onclose = null; ws.close(); ws = null; }
      if (term && window.yurtaTerm === term) window.yurtaTerm = null;
      term?.dispose();
    },
  };
}
