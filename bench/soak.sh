#!/bin/bash
# Soak: N mixed operations with random kill -9 of the CLIs, then the host
# must hold exactly what it held before (issue 9).
#
#   sudo bench/soak.sh [-n 1000] [-k 10] [-s SEED]
#
# Operations, picked at random: run --rm (echo), run -d + rm -f, exec into a
# long-running container, network create + rm, run on a user network, stop
# + start, volume create + rm. -k PCT of them are started in the background
# and killed with SIGKILL after a random 0-60 ms (any step: before the
# record, mid-network, after the supervisor, mid-cleanup...). Every 50
# operations and at the end, `ps -a` settles, everything is removed (rm -f,
# network prune, volume prune), and a fingerprint of the host is compared
# with the one taken before: files under the root (lock files aside),
# mounts under it, links with the soak's prefixes, rules of its nft table,
# cgroups of its containers, processes naming the root. Any difference is
# printed and the script exits 1. Also counts the operations that failed
# without a kill (expected 0) and prints the wall time.
#
# yurta uses a private --root and its own nft table and link names.
# Environment: YURTA (default target/release/yurta), BUSYBOX (/bin/busybox).
set -u

n=1000
kill_pct=10
seed=$$
while getopts n:k:s:h opt; do
    case $opt in
        n) n=$OPTARG ;;
        k) kill_pct=$OPTARG ;;
        s) seed=$OPTARG ;;
        *) sed -n '2,22p' "$0"; exit 2 ;;
    esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
require_root
require nft ip
yurta=$(yurta_binary)
RANDOM=$seed

work=$(mktemp -d)
root=$work/root
export YURTA_NET_TABLE=ysoak YURTA_NET_BRIDGE=ysoak0 YURTA_NET_BRIDGE_PREFIX=ysku- \
    YURTA_NET_VETH_PREFIX=yskv YURTA_NET_TAP_PREFIX=yskt
y() { "$yurta" --root "$root" "$@"; }

ids_seen=$work/ids
touch "$ids_seen"
note_ids() { y ps -aq --no-trunc 2>/dev/null >>"$ids_seen"; sort -u -o "$ids_seen" "$ids_seen"; }

fingerprint() {
    (
        cd "$root" && find . -path ./images -prune -o \
            -not -name '*.lock' -not -name lock -not -path '*/rootfs/*' -not -path '*/diff/*' -print
    ) | sed 's/^/file /' | sort
    awk -v r="$root" 'index($5, r) == 1 {print "mount " $5}' /proc/self/mountinfo | sort
    ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
        grep -E '^(ysoak0|ysku-|yskv|yskt)' | sed 's/^/link /' | sort
    nft list table ip ysoak 2>/dev/null | grep -vE '^\s*(table|\}|$)' | sed 's/^\s*/rule /' | sort
    while read -r id; do
        for d in /sys/fs/cgroup/*/yurta/"$id" /sys/fs/cgroup/yurta/"$id"; do
            [ -e "$d" ] && echo "cgroup $d"
        done
    done <"$ids_seen"
    for p in /proc/[0-9]*; do
        [ "$p" = "/proc/$$" ] && continue
        if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "$root"; then
            grep -q '^State:.*Z' "$p/status" 2>/dev/null || echo "process ${p#/proc/}: $(tr '\0' ' ' 2>/dev/null <"$p/cmdline")"
        fi
    done
    true
}

# Everything removed, the way a user would after a bad day.
converge() {
    note_ids
    y ps -a >/dev/null 2>&1
    local c
    for c in $(y ps -aq 2>/dev/null); do y rm -f "$c" >/dev/null 2>&1; done
    y network prune -f >/dev/null 2>&1
    y volume prune -a -f >/dev/null 2>&1
}

# The same as before, allowing teardown in flight a few seconds.
compare() {
    local i
    for i in $(seq 50); do
        fingerprint >"$work/after"
        diff -q "$work/before" "$work/after" >/dev/null && return 0
        sleep 0.1
    done
    echo "soak: left behind after $1 operations:" >&2
    diff "$work/before" "$work/after" >&2
    return 1
}

busybox_rootfs "$work" sleep echo sh true
y import -c 'CMD ["sh"]' "$work/rootfs.tar" soak >/dev/null 2>&1 || { echo "import failed" >&2; exit 1; }
# Warm up: the default network, its table, the store's lock files.
y run --rm soak true >/dev/null 2>&1
y run -d --name keeper soak sleep 100000 >/dev/null
y rm -f keeper >/dev/null
fingerprint >"$work/before"

failed=0 killed=0
op() {
    local name=s$((RANDOM))
    case $((RANDOM % 7)) in
        0) echo run --rm soak echo hi ;;
        1) echo run -d --name "$name" soak sleep 1000 ";" rm -f "$name" ;;
        2) echo exec keeper true ;;
        3) echo network create "n$name" ";" network rm "n$name" ;;
        4) echo network create "n$name" ";" run --rm --network "n$name" soak true ";" network rm "n$name" ;;
        5) echo stop -t 1 keeper ";" start keeper ;;
        6) echo volume create "v$name" ";" run --rm -v "v$name:/d" soak true ";" volume rm "v$name" ;;
    esac
}

start=$(date +%s.%N)
y run -d --name keeper soak sleep 100000 >/dev/null 2>&1
for i in $(seq "$n"); do
    IFS=';' read -ra steps <<<"$(op)"
    for s in "${steps[@]}"; do
        read -ra args <<<"$s"
        if [ $((RANDOM % 100)) -lt "$kill_pct" ]; then
            y "${args[@]}" >/dev/null 2>&1 &
            pid=$!
            sleep "0.0$((RANDOM % 60 / 10))$((RANDOM % 10))"
            kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
            wait "$pid" 2>/dev/null
            # A killed step may leave the next one nothing to do.
            break
        elif ! y "${args[@]}" >/dev/null 2>"$work/err"; then
            # The keeper may be down after a killed stop: start it again.
            if [ "${args[0]}" = exec ] || [ "${args[0]}" = stop ]; then
                y start keeper >/dev/null 2>&1 && continue
            fi
            failed=$((failed + 1))
            echo "op $i failed: ${args[*]}: $(cat "$work/err")" >&2
        fi
    done
    if [ $((i % 50)) -eq 0 ] || [ "$i" -eq "$n" ]; then
        converge
        compare "$i" || { echo "seed $seed" >&2; exit 1; }
        y run -d --name keeper soak sleep 100000 >/dev/null 2>&1
    fi
done
converge
compare "$n" || { echo "seed $seed" >&2; exit 1; }
end=$(date +%s.%N)
echo "soak: $n operations, $killed killed with SIGKILL, $failed failed unkilled, seed $seed," \
    "$(echo "$end - $start" | bc) s; nothing left behind"
y network rm bridge >/dev/null 2>&1
nft delete table ip ysoak 2>/dev/null
ip link del ysoak0 2>/dev/null
rm -rf "$work"
[ "$failed" -eq 0 ]
