// A VM's screen: noVNC's RFB over /ws/vms/NAME/vnc, scaled to fit.

import { h, icon } from './dom.js';
import { wsUrl, checkSession } from './api.js';
import { shareButton } from './share.js';

/** opts: {path, share: {kind, target} | null, reconnect: bool} */
export function mountScreen(host, opts) {
  const status = h('span.term-status', 'Connecting…');
  const cad = h('button.btn.sm', { type: 'button', disabled: true }, 'Ctrl-Alt-Del');
  const reconnect = h('button.btn.sm', { type: 'button', hidden: opts.reconnect === false }, icon('refresh'), 'Reconnect');
  const full = h('button.btn.sm', { type: 'button' }, icon('expand'), 'Full screen');
  const screen = h('div.screen');
  const frame = h('div.termframe.screenframe', h('div.termbar', status, h('span.spacer'),
    opts.share ? shareButton(opts.share.kind, opts.share.target) : null, cad, reconnect, full), screen);
  host.append(frame);
  let rfb = null, disposed = false;
  const setStatus = (text, cls) => { status.textContent = text; status.className = 'term-status ' + (cls || ''); };

  async function connect() {
    rfb?.disconnect();
    rfb = null;
    screen.replaceChildren();
    setStatus('Connecting…');
    let RFB;
    try {
      ({ RFB } = await import('./vnc.js'));
    } catch (e) {
      setStatus('Could not load the VNC client: ' + e.message, 'bad');
      return;
    }
    if (disposed) return;
    let r;
    try {
      r = new RFB(screen, wsUrl(opts.path()), { wsProtocols: ['binary'] });
    } catch (e) {
      setStatus('Cannot connect: ' + e.message, 'bad');
      return;
    }
    rfb = r;
    r.scaleViewport = true;
    r.resizeSession = false;
    r.focusOnClick = true;
    r.background = 'transparent';
    r.addEventListener('connect', () => {
      setStatus('Connected', 'ok');
      cad.disabled = false;
      r.focus();
      opts.onOpen?.();
    });
    r.addEventListener('disconnect', (e) => {
      if (rfb !== r) return;
      cad.disabled = true;
      setStatus(e.detail?.clean ? 'Disconnected' : 'Connection lost (is the VM running with a VNC display?)', 'off');
      if (!e.detail?.clean) checkSession();
      opts.onClose?.();
    });
    r.addEventListener('credentialsrequired', () => r.sendCredentials({ password: '' }));
    r.addEventListener('securityfailure', (e) => setStatus('Security failure: ' + (e.detail?.reason || e.detail?.status), 'bad'));
    r.addEventListener('desktopname', (e) => { frame.dataset.desktop = e.detail?.name || ''; });
  }
  cad.addEventListener('click', () => { rfb?.sendCtrlAltDel(); rfb?.focus(); });
  reconnect.addEventListener('click', connect);
  full.addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else frame.requestFullscreen?.().then(() => rfb?.focus()).catch(() => {});
  });
  connect();
  return {
    dispose() { disposed = true; const r = rfb; rfb = null; r?.disconnect(); },
  };
}
