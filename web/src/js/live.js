// The two live streams the console needs: Docker's events and /api/stats.
// One browser tab (the one holding the Web Lock "yurta-live") reads them
// and forwards every line to the other tabs on a BroadcastChannel, so that
// several open tabs do not use up the browser's six HTTP/1.1 connections.

import { followStream } from './api.js';

const eventListeners = new Set();
const statsListeners = new Set();
const HISTORY = 150; // 5 minutes of 2-second samples

/** Latest sample and history: {containers: {ID: [...]}, vms: {NAME: [...]}} */
export const stats = { latest: null, containers: new Map(), vms: new Map() };

function record(map, key, v, t) {
  let arr = map.get(key);
  if (!arr) map.set(key, (arr = []));
  arr.push({ t, cpu: Number(v.cpu) || 0, memory: Number(v.memory) || 0, limit: Number(v.limit) || 0 });
  if (arr.length > HISTORY) arr.splice(0, arr.length - HISTORY);
}

function gotStats(s) {
  const t = Date.now();
  stats.latest = s;
  for (const [id, v] of Object.entries(s.containers || {})) record(stats.containers, id, v, t);
  for (const [name, v] of Object.entries(s.vms || {})) record(stats.vms, name, v, t);
  for (const f of statsListeners) f(s);
}

function gotEvent(e) {
  for (const f of eventListeners) f(e);
}

/** fn(event): Docker's event object, or {Type: "resync"} after a gap. */
export function onEvent(fn) {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}

export function onStats(fn) {
  statsListeners.add(fn);
  return () => statsListeners.delete(fn);
}

/** The stats of a container by ID (full or short) from a sample. */
export function containerStats(sample, id) {
  const all = sample?.containers;
  if (!all || !id) return null;
  if (all[id]) return all[id];
  for (const k of Object.keys(all)) if (k.startsWith(id) || id.startsWith(k)) return all[k];
  return null;
}

export function containerHistory(id) {
  if (stats.containers.has(id)) return stats.containers.get(id);
  for (const [k, v] of stats.containers) if (k.startsWith(id) || id.startsWith(k)) return v;
  return [];
}

let started = false;
export function startLive() {
  if (started) return;
  started = true;
  const bc = 'BroadcastChannel' in window ? new BroadcastChannel('yurta-live') : null;
  const lead = () => {
    followStream('/api/docker/events', {
      onOpen: () => { gotEvent({ Type: 'resync' }); bc?.postMessage({ k: 'e', v: { Type: 'resync' } }); },
      onValue: (v) => { gotEvent(v); bc?.postMessage({ k: 'e', v }); },
    });
    followStream('/api/stats', {
      onValue: (v) => { gotStats(v); bc?.postMessage({ k: 's', v }); },
    });
  };
  if (bc && navigator.locks) {
    bc.onmessage = (m) => {
      if (m.data?.k === 'e') gotEvent(m.data.v);
      else if (m.data?.k === 's') gotStats(m.data.v);
    };
    // Held until this tab goes away; then the next tab in line leads.
    navigator.locks.request('yurta-live', () => new Promise(() => lead()));
  } else {
    lead();
  }
}
