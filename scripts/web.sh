#!/usr/bin/env bash
# Builds the web console's pages into web/dist (embedded by crates/web):
# npm packages from web/package-lock.json, esbuild bundles with hashed
# names, a .gz beside every asset. Idempotent; needs node and npm.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../web"

if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
else
    npm install --no-audit --no-fund --loglevel=error
fi

node build.mjs

# gzip -9 -n: no name or time in the header, so the bytes are reproducible.
find dist -type f ! -name '*.gz' -print0 | while IFS= read -r -d '' f; do
    gzip -9 -n -c -- "$f" >"$f.gz"
done

total=0
initial=0
while IFS= read -r -d '' f; do
    size=$(wc -c <"$f")
    total=$((total + size))
    case "$f" in
        */app-*.js.gz | */app-*.css.gz) initial=$((initial + size)) ;;
    esac
    printf '  %8d  %s\n' "$size" "${f#dist/}"
done < <(find dist/assets -type f \( -name '*.js.gz' -o -name '*.css.gz' \) -print0 | sort -z)
printf 'web/dist: JS+CSS %d bytes gzip in all (%d KiB); the first page loads %d KiB (app JS+CSS)\n' \
    "$total" $(((total + 1023) / 1024)) $(((initial + 1023) / 1024))
if [ "$total" -gt $((300 * 1024)) ]; then
    echo "web/dist: JS+CSS over the 300 KiB gzip budget" >&2
    exit 1
fi
