// Container and VM actions, shared by the lists and the detail pages.

import { h } from '../dom.js';
import { request, seg } from '../api.js';
import { confirmAction, busy, toast } from '../ui.js';

const CONFIRM = {
  kill: { title: 'Kill', message: (n) => `Kill ${n}? Its processes get SIGKILL and lose unsaved work.` },
  remove: { title: 'Remove', message: (n) => `Remove ${n}? A running one is killed first. This cannot be undone.` },
};

/** Which container actions make sense in a state. */
export function containerActions(state) {
  const s = String(state || '').toLowerCase();
  const running = s === 'running' || s === 'restarting';
  return {
    start: !running && s !== 'paused',
    stop: running,
    restart: running || s === 'exited' || s === 'created' || s === 'stopped',
    kill: running || s === 'paused',
    pause: s === 'running',
    unpause: s === 'paused',
    remove: true,
  };
}

export function vmActions(state) {
  const s = String(state || '').toLowerCase();
  const running = s === 'running' || s === 'starting' || s === 'paused';
  return { start: !running, stop: running, restart: running, kill: running, remove: true };
}

const LABEL = { start: 'Start', stop: 'Stop', restart: 'Restart', kill: 'Kill', pause: 'Pause', unpause: 'Unpause', remove: 'Remove' };

/**
 * Runs one action. kind: 'container' | 'vm'. Resolves true when done.
 */
export async function runAction(kind, name, action, btn) {
  const c = CONFIRM[action];
  if (c && !(await confirmAction({ title: `${c.title} ${name}`, message: c.message(name), action: LABEL[action] }))) return false;
  const base = kind === 'vm' ? `/api/vms/${seg(name)}` : `/api/docker/containers/${seg(name)}`;
  const done = await busy(btn, async () => {
    if (action === 'remove') await request(`${base}?force=1`, { method: 'DELETE' });
    else await request(`${base}/${action}`, { method: 'POST' });
    return true;
  }, `${LABEL[action]} ${name}`);
  if (done && action === 'remove') toast(`Removed ${name}`);
  return !!done;
}

/** The buttons for a state; compact: only the enabled ones. */
export function actionButtons(kind, name, state, { compact = false, onDone } = {}) {
  const allowed = kind === 'vm' ? vmActions(state) : containerActions(state);
  const order = kind === 'vm' ? ['start', 'stop', 'restart', 'kill', 'remove']
    : ['start', 'stop', 'restart', 'pause', 'unpause', 'kill', 'remove'];
  const out = [];
  for (const a of order) {
    if (compact && !allowed[a]) continue;
    if (compact && a === 'restart' && allowed.start) continue; // Start is the one to press
    if (!compact && a === 'pause' && !allowed.pause && allowed.unpause) continue;
    if (!compact && a === 'unpause' && !allowed.unpause) continue;
    const b = h('button.btn' + (compact ? '.sm' : '') + (a === 'remove' || a === 'kill' ? '.danger-ghost' : ''), {
      type: 'button', disabled: !allowed[a], dataset: { action: a },
    }, LABEL[a]);
    b.addEventListener('click', async () => {
      const ok = await runAction(kind, name, a, b);
      if (ok) onDone?.(a);
    });
    out.push(b);
  }
  return h('div.actions', out);
}
