#!/bin/bash
# `docker run --rm IMAGE true` through yurta's Engine API service vs
# through `podman system service` (and dockerd when `docker info` answers
# at DOCKER_HOST), run by run in turn (yurta, podman, docker, yurta, ...)
# with the same docker CLI and the same busybox rootfs imported into each;
# then the idle services' resident memory and yurta's threads after the
# runs (no thread or task per container).
#
#   sudo bench/api.sh [-r RUNS]
#
# yurta runs with a private --root and its own nft table and bridge
# (YURTA_NET_*), removed at the end; podman with its defaults. RUNS per
# peer (default 30). Needs root, the docker CLI and podman (skipped when
# missing). Results: docs/benchmarks.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
runs=30
while getopts r: o; do
    case $o in
    r) runs=$OPTARG ;;
    *) exit 2 ;;
    esac
done
require_root
require docker
yurta=$(yurta_binary)
work=$(mktemp -d)
export YURTA_NET_TABLE=ybenchapi YURTA_NET_BRIDGE=ybenchapi0 YURTA_NET_VETH_PREFIX=yba
ysock=$work/yurta.sock psock=$work/podman.sock
pids=()
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    "$yurta" --root "$work/root" container prune -f >/dev/null 2>&1 || true
    ip link del ybenchapi0 2>/dev/null || true
    nft delete table ip ybenchapi 2>/dev/null || true
    podman rmi -f yurta-bench-api >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work" sh true
"$yurta" --root "$work/root" import -c 'CMD ["sh"]' "$work/rootfs.tar" yurta-bench-api >/dev/null
"$yurta" --root "$work/root" system service --time 0 "unix://$ysock" 2>"$work/yurta.log" &
ypid=$!
pids+=("$ypid")
peers=(yurta)
if command -v podman >/dev/null; then
    podman import -c 'CMD ["sh"]' "$work/rootfs.tar" yurta-bench-api >/dev/null
    podman system service --time 0 "unix://$psock" 2>"$work/podman.log" &
    ppid_=$!
    pids+=("$ppid_")
    peers+=(podman)
fi
if docker info >/dev/null 2>&1; then
    docker import -c 'CMD ["sh"]' "$work/rootfs.tar" yurta-bench-api >/dev/null
    peers+=(docker)
fi
for s in "$ysock" "$psock"; do
    for _ in $(seq 100); do [ -S "$s" ] && break; sleep 0.05; done
done

host_of() {
    case $1 in
    yurta) echo "unix://$ysock" ;;
    podman) echo "unix://$psock" ;;
    docker) echo "${DOCKER_HOST:-unix:///var/run/docker.sock}" ;;
    esac
}

# One run in microseconds.
one() {
    local t0=$EPOCHREALTIME
    DOCKER_HOST=$(host_of "$1") docker run --rm yurta-bench-api true
    local t1=$EPOCHREALTIME
    echo $((${t1/./} - ${t0/./}))
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
echo "idle before the runs: yurta service $(rss_kib "$ypid") KiB"
for p in "${peers[@]}"; do one "$p" >/dev/null; one "$p" >/dev/null; done
for p in "${peers[@]}"; do : >"$work/$p"; done
for _ in $(seq "$runs"); do
    for p in "${peers[@]}"; do one "$p" >>"$work/$p"; done
done

echo "docker run --rm IMAGE true through each service, $runs runs each, interleaved"
for p in "${peers[@]}"; do
    printf '%-7s median %.1f ms\n' "$p" "$(awk -v m="$(median "$work/$p")" 'BEGIN {print m/1000}')"
done
if [ -s "$work/podman" ]; then
    awk -v y="$(median "$work/yurta")" -v p="$(median "$work/podman")" \
        'BEGIN { printf "yurta / podman: %.3f\n", y/p }'
fi
sleep 1
echo "after the runs: yurta service $(rss_kib "$ypid") KiB, $(ls /proc/"$ypid"/task | wc -l) threads"
if [ -n "${ppid_:-}" ]; then
    echo "after the runs: podman service $(rss_kib "$ppid_") KiB, $(ls /proc/"$ppid_"/task | wc -l) threads"
fi
