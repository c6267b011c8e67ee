// Bundles web/src into web/dist (run by scripts/web.sh after npm ci).
// JS: one ES module per page, split so that xterm.js and noVNC are
// chunks loaded on first use; CSS: one file per page; every asset name
// carries a content hash (the service caches /assets/ as immutable) and
// the HTML pages are rewritten to point at them.

import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const assets = join(dist, 'assets');
rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  outdir: assets,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none', // the licenses go to assets/THIRD-PARTY.txt
  charset: 'utf8',
};

const js = await esbuild.build({
  ...common,
  entryPoints: { app: join(src, 'js/main.js'), console: join(src, 'js/console.js'), login: join(src, 'js/login.js') },
  format: 'esm',
  splitting: true,
  target: 'es2020',
  // noVNC's core/util/browser.js awaits at the top level; every browser
  // with ES modules and <script type=module> support we target has it.
  supported: { 'top-level-await': true },
});

const css = await esbuild.build({
  ...common,
  entryPoints: { app: join(src, 'css/app.css'), login: join(src, 'css/login.css') },
  target: ['chrome100', 'firefox100', 'safari15'],
});

// Logical name (app.js, login.css…) → hashed file name.
const names = {};
for (const meta of [js.metafile, css.metafile]) {
  for (const [out, info] of Object.entries(meta.outputs)) {
    if (!info.entryPoint) continue;
    const file = basename(out);
    const logical = file.replace(/-[A-Z0-9]{8}\./, '.');
    if (!logical.startsWith('chunk.')) names[logical] = file;
  }
}

function hashed(path, name) {
  const data = readFileSync(path);
  const h = createHash('sha256').update(data).digest('hex').slice(0, 10);
  const [stem, ext] = [name.replace(/\.[^.]+$/, ''), name.slice(name.lastIndexOf('.'))];
  const file = `${stem}-${h}${ext}`;
  writeFileSync(join(assets, file), data);
  names[name] = file;
}
hashed(join(src, 'icon.svg'), 'icon.svg');

// The licenses of what the bundles contain.
const licenses = [
  ['@xterm/xterm', 'LICENSE'],
  ['@xterm/addon-fit', 'LICENSE'],
  ['@novnc/novnc', 'LICENSE.txt'],
].map(([pkg, file]) => {
  const p = join(here, 'node_modules', pkg);
  const version = JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')).version;
  let text;
  try { text = readFileSync(join(p, file), 'utf8'); } catch { text = '(license file missing)'; }
  return `==== ${pkg} ${version} ====\n\n${text.trim()}\n`;
}).join('\n');
writeFileSync(join(assets, 'THIRD-PARTY.txt'), 'The yurta web console bundles these packages (from npm):\n\n' + licenses);

for (const page of ['index.html', 'login.html', 'console.html']) {
  let html = readFileSync(join(src, page), 'utf8');
  html = html.replace(/\/assets\/([A-Za-z0-9_.-]+)/g, (m, name) => {
    if (!names[name]) throw new Error(`${page}: no asset named ${name}`);
    return '/assets/' + names[name];
  });
  writeFileSync(join(dist, page), html);
}
if (!readFileSync(join(dist, 'console.html'), 'utf8').includes('<!--yurta-console-->')) {
  throw new Error('console.html lost its <!--yurta-console--> marker');
}
console.log(Object.entries(names).map(([k, v]) => `  ${k} → assets/${v}`).join('\n'));
