// Talking to the service: fetch with the CSRF header, errors as ApiError
// (the server's `message`), 401 → the login page, JSON-line streams.

let resolveSession;
/** Resolves to {user, csrf, version} once /api/session has answered. */
export const session = new Promise((r) => { resolveSession = r; });

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export function loginUrl() {
  return '/login?next=' + encodeURIComponent(location.pathname + location.search).replace(/%2F/g, '/');
}

let leaving = false;
export function toLogin() {
  if (leaving) return;
  leaving = true;
  location.assign(loginUrl());
}

export async function loadSession() {
  const res = await fetch('/api/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (res.status === 401) { toLogin(); throw new ApiError('login required', 401); }
  if (!res.ok) throw new ApiError(await errorText(res), res.status);
  const s = await res.json();
  resolveSession(s);
  return s;
}

async function errorText(res) {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    if (j && typeof j.message === 'string') return j.message;
  } catch { /* not JSON */ }
  return text.trim().split('\n')[0] || `${res.status} ${res.statusText}`;
}

/**
 * fetch() for the API. opts.json: a value sent as a JSON body; opts.body:
 * a raw body. Resolves to the Response when it is 2xx or 304, throws
 * ApiError with the server's message otherwise.
 */
export async function request(path, opts = {}) {
  const method = (opts.method || 'GET').toUpperCase();
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    headers['X-CSRF-Token'] = (await session).csrf;
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal, credentials: 'same-origin' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('The service cannot be reached', 0);
  }
  if (res.status === 401) {
    toLogin();
    throw new ApiError('login required', 401);
  }
  if (!res.ok && res.status !== 304) throw new ApiError(await errorText(res), res.status);
  return res;
}

export async function getJSON(path, opts) {
  const res = await request(path, opts);
  if (res.status === 204 || res.status === 304) return null;
  return res.json();
}

export const post = (path, json, opts = {}) => request(path, { ...opts, method: 'POST', json });
export const del = (path, opts = {}) => request(path, { ...opts, method: 'DELETE' });

/** The name in a URL path segment. */
export const seg = (s) => encodeURIComponent(s);

/** Reads a streamed body as JSON lines, calling onValue for each. */
export async function readJSONLines(res, onValue) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let v;
      try { v = JSON.parse(line); } catch { continue; }
      onValue(v);
    }
  }
  const rest = (buf + dec.decode()).trim();
  if (rest) { try { onValue(JSON.parse(rest)); } catch { /* partial line */ } }
}

/**
 * Follows a JSON-lines stream forever: reconnects with backoff (1 s
 * doubling to 30 s) when it ends or fails. onOpen runs at each
 * (re)connection, so a caller can refresh what it may have missed.
 */
export function followStream(path, { onValue, onOpen, signal }) {
  let delay = 1000;
  (async () => {
    while (!signal?.aborted) {
      const started = Date.now();
      try {
        const res = await request(path, { signal, headers: { Accept: 'application/json' } });
        onOpen?.();
        await readJSONLines(res, onValue);
      } catch (e) {
        if (e.name === 'AbortError' || e.status === 401) return;
      }
      if (signal?.aborted) return;
      if (Date.now() - started > 30000) delay = 1000;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 30000);
    }
  })();
}

function sleep(ms, signal) {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
  });
}

export function wsUrl(path) {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
}

/** After a websocket failed: is it because the session ended? */
export async function checkSession() {
  try {
    const res = await fetch('/api/session', { credentials: 'same-origin' });
    if (res.status === 401) toLogin();
  } catch { /* offline: nothing to say */ }
}
