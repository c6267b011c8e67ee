// /containers/NAME: summary, logs, terminal, stats, files.

import { h, clear, bytes, percent, timeEl, debounce, shortId } from '../dom.js';
import { getJSON, seg } from '../api.js';
import { onEvent, onStats, containerHistory } from '../live.js';
import { badge, facts, tabs, spinner, alertBox, empty } from '../ui.js';
import { actionButtons } from './actions.js';
import { mountLogs } from '../logs.js';
import { mountTerminal } from '../terminal.js';
import { mountFiles } from '../files.js';
import { chart, niceBytes } from '../chart.js';

function mini(headers, rows) {
  if (!rows.length) return null;
  return h('div.tablewrap', h('table.grid.compact', h('thead', h('tr', headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', rows.map((r) => h('tr', r.map((c) => h('td', c)))))));
}

function section(title, body) {
  return body ? h('section.card', h('h2', title), body) : null;
}

function summary(c) {
  const st = c.State || {};
  const cfg = c.Config || {};
  const hc = c.HostConfig || {};
  const cmd = [c.Path, ...(c.Args || [])].filter(Boolean).join(' ');
  const ports = Object.entries(c.NetworkSettings?.Ports || {}).map(([cp, binds]) =>
    [h('span.mono', cp), h('span.mono', [...new Set((binds || []).map((b) => `${(b.HostIp || '0.0.0.0').includes(':') ? `[${b.HostIp}]` : b.HostIp || '0.0.0.0'}:${b.HostPort}`))].join(', ') || '—')]);
  const nets = Object.entries(c.NetworkSettings?.Networks || {}).map(([n, v]) =>
    [n, h('span.mono', v.IPAddress ? `${v.IPAddress}/${v.IPPrefixLen ?? ''}`.replace(/\/$/, '') : '—'), h('span.mono', v.Gateway || ''), h('span.mono', v.MacAddress || '')]);
  const mounts = (c.Mounts || []).map((m) => [m.Type || '', h('span.mono', m.Name || m.Source || ''), h('span.mono', m.Destination || ''), m.RW === false ? 'ro' : 'rw']);
  const labels = Object.entries(cfg.Labels || {}).map(([k, v]) => [h('span.mono', k), h('span.mono.wrap', v)]);
  const env = cfg.Env || [];
  return h('div.summary',
    h('section.card', h('h2', 'Container'), facts([
      ['ID', h('span.mono', { title: c.Id }, shortId(c.Id))],
      ['Image', h('span.mono', cfg.Image || c.Image || '')],
      ['Command', cmd ? h('code', cmd) : ''],
      ['Created', timeEl(c.Created)],
      ['State', [badge(st.Status), st.Running ? [' since ', timeEl(st.StartedAt)] : st.FinishedAt && toDateOk(st.FinishedAt) ? [' ', `exit code ${st.ExitCode ?? '?'}`, ', ', timeEl(st.FinishedAt)] : '']],
      ['PID', st.Pid || ''],
      ['Restart policy', hc.RestartPolicy?.Name && hc.RestartPolicy.Name !== 'no' ? hc.RestartPolicy.Name : 'no'],
      ['TTY', cfg.Tty ? 'yes' : 'no'],
      ['Working dir', cfg.WorkingDir ? h('span.mono', cfg.WorkingDir) : ''],
      ['User', cfg.User || ''],
      ['Error', st.Error || ''],
    ])),
    section('Ports', mini(['Container', 'Host'], ports)),
    section('Networks', mini(['Network', 'IP address', 'Gateway', 'MAC address'], nets)),
    section('Mounts', mini(['Type', 'Source', 'Destination', 'Mode'], mounts)),
    section('Labels', mini(['Label', 'Value'], labels)),
    env.length ? h('section.card', h('details', h('summary', h('h2.inline', `Environment (${env.length})`)),
      h('pre.env', env.join('\n')))) : null);
}

function toDateOk(s) { return s && !String(s).startsWith('0001'); }

export function containerPage(root, [name], ctx) {
  document.title = `${name} · yurta`;
  const head = h('div.detailhead');
  const body = h('div');
  root.append(h('nav.crumbs.top', { 'aria-label': 'Breadcrumb' }, h('a', { href: '/containers' }, 'Containers'), h('span.sep', '/'), h('span', name)), head, body);
  body.append(spinner());

  let c = null;
  let t = null;
  let logs = null, term = null, files = null;
  const charts = [];
  const ctrl = new AbortController();
  let termPanel = null;

  function drawHead() {
    const st = c.State || {};
    clear(head,
      h('div.titleline', h('h1', name), badge(st.Paused ? 'paused' : st.Status), st.Running ? h('span.muted', ['up ', timeEl(st.StartedAt)]) : null),
      actionButtons('container', name, st.Paused ? 'paused' : st.Status, {
        onDone: (a) => { if (a === 'remove') ctx.navigate('/containers'); else refresh(); },
      }));
  }

  function mountTerm(panel) {
    termPanel = panel;
    if (term) return;
    if (!c.State?.Running) {
      clear(panel, empty('The container is not running: start it to open a terminal.'));
      return;
    }
    panel.replaceChildren();
    term = mountTerminal(panel, {
      path: (cols, rows) => `/ws/containers/${seg(name)}/exec?cols=${cols}&rows=${rows}`,
      resize: true,
      share: { kind: 'exec', target: name },
    });
  }

  function build() {
    const summaryPanel = { el: null };
    t = tabs([
      { id: 'summary', label: 'Summary', render: (p) => { summaryPanel.el = p; p.append(summary(c)); } },
      { id: 'logs', label: 'Logs', render: (p) => { logs = mountLogs(p, name, { tty: !!c.Config?.Tty }); } },
      { id: 'terminal', label: 'Terminal', render: (p) => mountTerm(p), onShow: (p) => { if (term) term.fit(); else mountTerm(p); } },
      { id: 'stats', label: 'Stats', render: (p) => {
        const cpu = chart({ title: 'CPU', format: (v, axis) => percent(v, axis), label: 'CPU use over the last 5 minutes' });
        const mem = chart({ title: 'Memory', format: (v) => bytes(v), nice: niceBytes, label: 'Memory use over the last 5 minutes' });
        charts.push(cpu, mem);
        p.append(h('div.charts', cpu.el, mem.el), h('p.muted.small', 'Samples every 2 seconds; the last 5 minutes since this page opened.'));
        drawCharts();
      }, onShow: () => charts.forEach((x) => x.draw()) },
      { id: 'files', label: 'Files', render: (p) => { files = mountFiles(p, name); } },
    ]);
    clear(body, t.el);
    t.start();
    t.summaryPanel = summaryPanel;
  }

  function drawCharts() {
    if (!charts.length || !c) return;
    const hist = containerHistory(c.Id);
    const last = hist[hist.length - 1];
    const limit = last?.limit && last.limit < 2 ** 50 ? last.limit : 0;
    charts[0].set(hist.map((s) => ({ t: s.t, v: s.cpu })), 0, '');
    charts[1].set(hist.map((s) => ({ t: s.t, v: s.memory })), limit, limit ? 'of ' + bytes(limit) : '');
  }

  let first = true;
  async function refresh() {
    try {
      const fresh = await getJSON(`/api/docker/containers/${seg(name)}/json`, { signal: ctrl.signal });
      const wasRunning = c?.State?.Running;
      c = fresh;
      drawHead();
      if (first) { first = false; build(); ctx.ready(); return; }
      if (t.summaryPanel.el) clear(t.summaryPanel.el, summary(c));
      if (c.State?.Running && !wasRunning) {
        logs?.resume();
        if (termPanel && !term) mountTerm(termPanel);
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status === 404) {
        clear(head, h('div.titleline', h('h1', name), badge('removed')));
        clear(body, empty(first ? `There is no container named ${name}.` : `${name} was removed.`, h('a.btn', { href: '/containers' }, 'Back to containers')));
        logs?.dispose(); term?.dispose(); logs = term = null;
      } else {
        clear(body, alertBox(e.message));
      }
      if (first) { first = false; ctx.ready(); }
    }
  }
  const later = debounce(refresh, 200);
  const offEvents = onEvent((e) => {
    if (e.Type === 'resync') { if (c) later(); return; }
    if (e.Type !== 'container') return;
    const a = e.Actor || {};
    const id = a.ID || e.id || '';
    if ((a.Attributes?.name || '').replace(/^\//, '') === name || (c && id && c.Id.startsWith(id))) later();
  });
  const offStats = onStats(drawCharts);
  refresh();

  return () => {
    ctrl.abort(); later.cancel(); offEvents(); offStats();
    logs?.dispose(); term?.dispose(); files?.dispose();
    charts.forEach((x) => x.dispose());
    t?.dispose();
  };
}
