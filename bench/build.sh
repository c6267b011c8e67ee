#!/bin/bash
# `yurta build` vs `podman build` side by side, round by round (yurta,
# podman, yurta, ...): a two-stage Dockerfile (COPY of a source tree, two
# RUNs, COPY --from, COPY of static files) on the same busybox base
# imported into each, built
#   cold       --no-cache (every step runs; the base is present),
#   unchanged  again with nothing changed (all from the cache),
#   one file   after changing one source file (its COPY on re-runs).
# Prints each peer's median per case and yurta / podman.
#
#   sudo bench/build.sh [-r ROUNDS]
#
# yurta runs with a private --root and its own nft table and bridge
# (YURTA_NET_*), removed at the end; podman with its defaults (the image
# and build cache it makes are removed at the end). ROUNDS default 5.
# Needs root and podman. Results: docs/benchmarks.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
rounds=5
while getopts r: o; do
    case $o in
    r) rounds=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done
require_root
require podman
yurta=$(yurta_binary)
work=$(mktemp -d)
export YURTA_NET_TABLE=ybenchbld YURTA_NET_BRIDGE=ybenchbld0 YURTA_NET_VETH_PREFIX=ybb
cleanup() {
    "$yurta" --root "$work/root" container prune -f >/dev/null 2>&1 || true
    ip link del ybenchbld0 2>/dev/null || true
    nft delete table ip ybenchbld 2>/dev/null || true
    podman rmi -f yurta-bench-build yurta-bench-base >/dev/null 2>&1 || true
    podman image prune -f >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work" sh cat seq ls mkdir
"$yurta" --root "$work/root" import "$work/rootfs.tar" yurta-bench-base >/dev/null
podman import "$work/rootfs.tar" yurta-bench-base >/dev/null

ctx=$work/ctx
mkdir -p "$ctx/src" "$ctx/static"
for i in $(seq 50); do echo "int f$i(void) { return $i; }" >"$ctx/src/f$i.c"; done
for i in $(seq 20); do head -c 4096 /dev/urandom >"$ctx/static/s$i.bin"; done
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM yurta-bench-base AS build
COPY src/ /src/
RUN cat /src/*.c > /out.txt
RUN seq 1 2000 > /numbers && ls /src > /list
FROM yurta-bench-base
COPY --from=build /out.txt /app/out.txt
COPY --from=build /numbers /app/numbers
COPY static/ /app/static/
CMD ["cat", "/app/out.txt"]
DOCKERFILE

# build PEER [FLAGS...]: one build, its time in microseconds.
build() {
    local peer=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    case $peer in
    yurta) "$yurta" --root "$work/root" build -q "$@" -t yurta-bench-build "$ctx" >/dev/null ;;
    podman) podman build -q "$@" -t yurta-bench-build "$ctx" >/dev/null ;;
    esac
    t1=$EPOCHREALTIME
    echo $((${t1/./} - ${t0/./}))
}

for p in yurta podman; do
    build "$p" >/dev/null
    for c in cold unchanged onefile; do : >"$work/$p.$c"; done
done
for r in $(seq "$rounds"); do
    for p in yurta podman; do
        build "$p" --no-cache >>"$work/$p.cold"
        build "$p" >>"$work/$p.unchanged"
    done
    echo "int changed$r(void) { return $r; }" >>"$ctx/src/f1.c"
    for p in yurta podman; do
        build "$p" >>"$work/$p.onefile"
    done
done

echo "two-stage build, $rounds rounds, medians (ms)"
printf '%-10s %10s %10s %8s\n' case yurta podman ratio
for c in cold unchanged onefile; do
    y=$(median "$work/yurta.$c") p=$(median "$work/podman.$c")
    awk -v c="$c" -v y="$y" -v p="$p" \
        'BEGIN { printf "%-10s %10.1f %10.1f %8.3f\n", c, y/1000, p/1000, y/p }'
done
