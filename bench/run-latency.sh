#!/bin/sh
# `run --rm IMAGE true` latency: yurta vs podman (runc) and docker, the same
# busybox rootfs imported into each, measured with hyperfine on the same
# machine.
#
#   sudo bench/run-latency.sh [-r RUNS]
#
# yurta runs with a private --root (a temporary directory) and its own nft
# table and default bridge (YURTA_NET_*), both removed at the end; modes
# --network none and the default bridge. podman runs with its defaults
# (netavark bridge) and --network none; skipped when podman is missing.
# docker likewise (its docker0 bridge and none) when a daemon answers at
# DOCKER_HOST (Debian's docker.io; skipped otherwise).
#
# Environment:
#   YURTA     (default: target/release/yurta, built with the supervisor and runtime if missing)
#   BUSYBOX   static busybox (default: /bin/busybox, Debian's busybox-static)
#
# Needs root and hyperfine. Results: docs/benchmarks.md.
set -eu

runs=30
while getopts r:h opt; do
    case $opt in
        r) runs=$OPTARG ;;
        *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
require_root
require hyperfine
yurta=$(yurta_binary)

work=$(mktemp -d)
export YURTA_NET_TABLE=ybench YURTA_NET_BRIDGE=ybench0 YURTA_NET_VETH_PREFIX=yb
cleanup() {
    "$yurta" --root "$work/root" container prune -f >/dev/null 2>&1 || true
    ip link del ybench0 2>/dev/null || true
    nft delete table ip ybench 2>/dev/null || true
    if command -v podman >/dev/null; then podman rmi -f yurta-bench-bb >/dev/null 2>&1 || true; fi
    if [ -n "${docker:-}" ]; then docker rmi -f yurta-bench-bb >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work" sh true
"$yurta" --root "$work/root" import -c 'CMD ["sh"]' "$work/rootfs.tar" bb >/dev/null
# First run creates the default network; not measured.
"$yurta" --root "$work/root" run --rm bb true

set -- "$yurta --root $work/root run --rm --network none bb true" \
       "$yurta --root $work/root run --rm bb true"
if command -v podman >/dev/null; then
    podman import "$work/rootfs.tar" yurta-bench-bb >/dev/null
    podman run --rm yurta-bench-bb true
    set -- "$@" "podman run --rm --network none yurta-bench-bb true" \
                "podman run --rm yurta-bench-bb true"
fi
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    docker=docker
    docker import "$work/rootfs.tar" yurta-bench-bb >/dev/null
    docker run --rm yurta-bench-bb true
    set -- "$@" "docker run --rm --network none yurta-bench-bb true" \
                "docker run --rm yurta-bench-bb true"
fi
hyperfine -N -w 3 -r "$runs" "$@"
