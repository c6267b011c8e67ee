#!/bin/bash
# `run --rm IMAGE true` latency of two yurta builds, run by run in turn
# (A, B, A, B, ...) on the same private root, so that the machine's drift
# and other work hit both alike; prints the median, mean and quartiles of
# each and the change of the median. For measuring one change: build the
# old tree and the new one and give their target/release directories.
#
#   sudo bench/ab-latency.sh [-r RUNS] [-n NETWORK] OLD_DIR NEW_DIR
#
# Each directory holds yurta, yurta-supervisor and yurta-runtime. NETWORK
# is passed to --network (default: none; "bridge" for the default bridge,
# with its own nft table and bridge removed at the end). RUNS per build
# (default 40). Needs root and a static busybox (BUSYBOX, default
# /bin/busybox). Results: docs/benchmarks.md.
set -eu

runs=40
network=none
while getopts r:n:h opt; do
    case $opt in
        r) runs=$OPTARG ;;
        n) network=$OPTARG ;;
        *) sed -n '2,14p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# = 2 ] || { sed -n '2,14p' "$0"; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
require_root
old=$(cd "$1" && pwd)/yurta
new=$(cd "$2" && pwd)/yurta
for y in "$old" "$new"; do
    [ -x "$y" ] || { echo "no yurta in $(dirname "$y")" >&2; exit 1; }
done
work=$(mktemp -d)
export YURTA_NET_TABLE=ybenchab YURTA_NET_BRIDGE=ybenchab0 YURTA_NET_VETH_PREFIX=yab
cleanup() {
    "$new" --root "$work/root" container prune -f >/dev/null 2>&1 || true
    ip link del ybenchab0 2>/dev/null || true
    nft delete table ip ybenchab 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work" sh true
"$new" --root "$work/root" import -c 'CMD ["sh"]' "$work/rootfs.tar" bb >/dev/null

# One run in microseconds (bash's $EPOCHREALTIME: no process for the clock).
one() {
    local t0=$EPOCHREALTIME
    "$1" --root "$work/root" run --rm --network "$network" bb true
    local t1=$EPOCHREALTIME
    echo $((${t1/./} - ${t0/./}))
}

for _ in 1 2 3; do one "$old" >/dev/null; one "$new" >/dev/null; done
: >"$work/a"; : >"$work/b"
for _ in $(seq "$runs"); do
    one "$old" >>"$work/a"
    one "$new" >>"$work/b"
done

stats() {
    sort -n "$1" | awk '{v[NR]=$1/1000; s+=$1/1000} END {
        printf "median %.2f ms  mean %.2f  q1 %.2f  q3 %.2f  (n=%d)\n",
            (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2), s/NR,
            v[int(NR/4)+1], v[int(3*NR/4)], NR }'
}
echo "network $network, $runs runs each, interleaved"
echo "A $(dirname "$old"): $(stats "$work/a")"
echo "B $(dirname "$new"): $(stats "$work/b")"
awk -v a="$(median "$work/a")" -v b="$(median "$work/b")" \
    'BEGIN { printf "median B/A %.3f (%+.2f ms)\n", b/a, (b-a)/1000 }'
