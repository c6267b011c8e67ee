#!/bin/bash
# Containers at scale, yurta vs podman (runc) on the same machine and image:
#  1. N detached containers (`run -d IMAGE sleep 1000`) started at once:
#     wall time until every `run -d` returned, processes added and their
#     memory (Pss of the containers' commands, supervisors and helpers);
#  2. one container publishing a 100-port range (`-p 127.0.0.1:A-B:1000-1099`):
#     time of `run -d`, processes added.
# Both on their default bridge network. Runs 1 and 2 alternate yurta and
# podman; each step is repeated -r times and the median reported.
#
#   sudo bench/many-containers.sh [-n 100] [-r 3]
#
# yurta uses a private --root and its own nft table and bridge (YURTA_NET_*).
# Environment: YURTA (default target/release/yurta), BUSYBOX (/bin/busybox).
# Needs root and podman. Results: docs/benchmarks.md.
set -eu

n=100
rounds=3
while getopts n:r:h opt; do
    case $opt in
        n) n=$OPTARG ;;
        r) rounds=$OPTARG ;;
        *) sed -n '2,15p' "$0"; exit 2 ;;
    esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
require_root
require podman
yurta=$(yurta_binary)

work=$(mktemp -d)
export YURTA_NET_TABLE=ymany YURTA_NET_BRIDGE=ymany0 YURTA_NET_VETH_PREFIX=ym
y() { "$yurta" --root "$work/root" "$@"; }
remove_all() {
    local left
    for _ in 1 2 3; do
        left=$(y ps -aq 2>/dev/null; podman ps -aq --filter label=yurta-bench 2>/dev/null)
        [ -n "$left" ] || return 0
        y rm -f $(y ps -aq) >/dev/null 2>&1 || true
        podman rm -f -t 0 $(podman ps -aq --filter label=yurta-bench) >/dev/null 2>&1 || true
    done
}
cleanup() {
    remove_all
    ip link del ymany0 2>/dev/null || true
    nft delete table ip ymany 2>/dev/null || true
    podman rmi -f yurta-bench-bb >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work" sh sleep true
y import "$work/rootfs.tar" bb >/dev/null
podman import "$work/rootfs.tar" yurta-bench-bb >/dev/null
# First runs make the default networks; not measured.
y run --rm bb true
podman run --rm yurta-bench-bb true

now() { date +%s%N; }
# Processes containers bring (other work on the machine does not count):
# their command (`sleep 1000`), supervisors, port proxies, network helpers.
pids_of_containers() {
    local p
    for p in /proc/[0-9]*; do
        case $(cat "$p/comm" 2>/dev/null) in
            yurta-supervis* | conmon | docker-proxy | netavark | aardvark-dns | slirp4netns | \
                rootlessport | containerd-shim*) echo "${p#/proc/}" ;;
            sleep) [ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" = "sleep 1000 " ] && echo "${p#/proc/}" ;;
        esac
    done
}
procs() { pids_of_containers | wc -l; }
# Their proportional set size, KiB.
pss_kib() {
    local total=0 p v
    for p in $(pids_of_containers); do
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

run_cmd() {
    case $1 in
        yurta) echo "$yurta --root $work/root run -d --label yurta-bench=1" ;;
        podman) echo "podman run -d --label yurta-bench=1" ;;
    esac
}
image_of() { [ "$1" = yurta ] && echo bb || echo yurta-bench-bb; }

running() {
    case $1 in
        yurta) y ps -q | wc -l ;;
        podman) podman ps -q --filter label=yurta-bench | wc -l ;;
    esac
}

# Waits until the process count holds still for a second (up to 30 s).
steady() {
    local a b
    a=$(procs)
    for _ in $(seq 30); do
        sleep 1
        b=$(procs)
        [ "$a" = "$b" ] && return
        a=$b
    done
}

# N at once: "<ms> <processes added> <MiB added> <running> <failed runs>".
many() {
    local cmd img p0 m0 t0 t1
    cmd=$(run_cmd "$1")
    img=$(image_of "$1")
    sync
    p0=$(procs)
    m0=$(pss_kib)
    : >"$work/failed"
    t0=$(now)
    for i in $(seq "$n"); do
        { $cmd "$img" sleep 1000 >/dev/null 2>>"$work/errors" || echo x >>"$work/failed"; } &
    done
    wait
    t1=$(now)
    steady
    echo "$(((t1 - t0) / 1000000)) $(($(procs) - p0)) $((($(pss_kib) - m0) / 1024)) $(running "$1") $(wc -l <"$work/failed")"
    remove_all
    quiet_down
}

# 100 published ports: "<ms> <processes added>".
ports() {
    local cmd img p0 t0 t1
    cmd=$(run_cmd "$1")
    img=$(image_of "$1")
    p0=$(procs)
    t0=$(now)
    $cmd -p 127.0.0.1:31000-31099:1000-1099 "$img" sleep 1000 >/dev/null
    t1=$(now)
    steady
    echo "$(((t1 - t0) / 1000000)) $(($(procs) - p0))"
    remove_all
    quiet_down
}

# Waits (up to 120 s) until the containers' processes are gone: supervisors
# and conmon exit a moment after `rm -f` returns.
quiet_down() {
    local i
    for i in $(seq 600); do
        [ "$(procs)" -le "$baseline" ] && return
        sleep 0.2
    done
    echo "warning: $(($(procs) - baseline)) container processes still there" >&2
}


baseline=$(procs)
for r in $(seq "$rounds"); do
    for tool in yurta podman; do
        # Not `< <(many …)`: the cleanup at its end must finish first.
        many "$tool" >"$work/result"
        read -r ms pr mib up failed <"$work/result"
        echo "$ms" >>"$work/many-$tool-ms"
        echo "$pr" >>"$work/many-$tool-procs"
        echo "$mib" >>"$work/many-$tool-mib"
        echo "round $r $tool: $n containers in $ms ms ($up running, $failed runs failed), +$pr processes, +$mib MiB" >&2
        ports "$tool" >"$work/result"
        read -r ms pr <"$work/result"
        echo "$ms" >>"$work/ports-$tool-ms"
        echo "$pr" >>"$work/ports-$tool-procs"
        echo "round $r $tool: 100 ports in $ms ms, +$pr processes" >&2
    done
done

[ -s "$work/errors" ] && { echo "errors of failed runs (first lines):"; sort "$work/errors" | uniq -c | head -n 5; }
echo "$n detached containers at once (median of $rounds):"
for tool in yurta podman; do
    printf '  %-6s %6s ms  +%s processes  +%s MiB\n' "$tool" \
        "$(median "$work/many-$tool-ms")" "$(median "$work/many-$tool-procs")" \
        "$(median "$work/many-$tool-mib")"
done
echo "one container publishing 100 ports (median of $rounds):"
for tool in yurta podman; do
    printf '  %-6s %6s ms  +%s processes\n' "$tool" \
        "$(median "$work/ports-$tool-ms")" "$(median "$work/ports-$tool-procs")"
done
