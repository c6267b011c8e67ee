// A small time-series chart on a <canvas>: one line with a filled area,
// a few grid lines and the latest value. Colours come from CSS variables.

import { h } from './dom.js';

export function chart({ title, format, max: fixedMax, nice = niceMax, label }) {
  const canvas = h('canvas', { role: 'img', 'aria-label': label || title });
  const value = h('span.chart-value', '–');
  const sub = h('span.chart-sub.muted');
  const el = h('figure.chart', h('figcaption', h('span.chart-title', title), value, sub), h('div.chart-area', canvas));
  let points = [];
  let limit = 0;
  const ro = new ResizeObserver(() => draw());
  ro.observe(canvas.parentElement || el);

  function draw() {
    const box = canvas.parentElement;
    if (!box) return;
    const w = box.clientWidth, hgt = box.clientHeight;
    if (!w || !hgt) return;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(hgt * dpr);
      canvas.style.width = w + 'px';
      canvas.style.height = hgt + 'px';
    }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const css = getComputedStyle(el);
    const line = css.getPropertyValue('--chart-line').trim() || '#0e7c86';
    const fill = css.getPropertyValue('--chart-fill').trim() || 'rgba(14,124,134,.15)';
    const grid = css.getPropertyValue('--chart-grid').trim() || 'rgba(0,0,0,.08)';
    const text = css.getPropertyValue('--chart-text').trim() || '#667';
    const dataMax = Math.max(0, ...points.map((p) => p.v));
    let max = fixedMax || nice(Math.max(dataMax * 1.1, limit && limit < dataMax * 4 ? limit : 0));
    if (!max) max = nice === niceMax ? 10 : 1 << 20;
    g.font = '11px system-ui, sans-serif';
    const labels = [0, 1, 2, 3, 4].map((i) => format(max * (1 - i / 4), true));
    const top = 6, bottom = hgt - 4, left = 0, right = w - Math.ceil(Math.max(...labels.map((l) => g.measureText(l).width))) - 10;
    g.textBaseline = 'middle';
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = Math.round(top + (bottom - top) * (i / 4)) + 0.5;
      g.strokeStyle = grid;
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillStyle = text;
      g.fillText(labels[i], right + 6, Math.min(Math.max(y, 8), hgt - 8));
    }
    if (limit && limit <= max) {
      const y = bottom - (bottom - top) * (limit / max);
      g.setLineDash([4, 4]);
      g.strokeStyle = text;
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.setLineDash([]);
    }
    if (points.length < 2) return;
    // 5 minutes across the width, the newest sample on the right.
    const span = 300000;
    const now = points[points.length - 1].t;
    const x = (t) => right - ((now - t) / span) * (right - left);
    const y = (v) => bottom - (bottom - top) * Math.min(v / max, 1);
    g.beginPath();
    points.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p.v)) : g.moveTo(x(p.t), y(p.v))));
    g.strokeStyle = line;
    g.lineWidth = 1.5;
    g.stroke();
    g.lineTo(x(now), bottom);
    g.lineTo(x(points[0].t), bottom);
    g.closePath();
    g.fillStyle = fill;
    g.fill();
  }

  return {
    el,
    /** pts: [{t, v}]; lim: an optional ceiling drawn dashed. */
    set(pts, lim = 0, subText = '') {
      points = pts;
      limit = lim;
      value.textContent = pts.length ? format(pts[pts.length - 1].v) : '–';
      sub.textContent = subText;
      draw();
    },
    draw,
    dispose: () => ro.disconnect(),
  };
}

function niceMax(v) {
  if (v <= 0) return 0;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 4, 6, 8, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** Byte ceilings on powers of two read better: 256 MiB, 1 GiB… */
export function niceBytes(v) {
  if (v <= 0) return 0;
  let m = 1024 * 1024;
  while (m < v) m *= 2;
  return m;
}
