#!/bin/sh
# Resident memory of an idle per-container supervisor: yurta-supervisor vs
# conmon, each holding a busybox `sleep 1000` container started from the same
# bundle with the same runtime (yurta-runtime), logging to a file.
#
#   sudo bench/supervisor-rss.sh [-n CONTAINERS]
#
# Starts CONTAINERS (default 5) containers under each supervisor, waits a
# second, and prints for every supervisor process VmRSS (/proc/PID/status)
# and Pss, Private_Clean+Private_Dirty and Anonymous (/proc/PID/smaps_rollup).
# Pss divides shared pages (the binary's code, libraries) among the processes
# mapping them, so with several containers it approaches what one more
# container costs. yurta-supervisor is also measured once with
# YURTA_SUPERVISOR_NO_TRIM=1 (no dropping of start-up pages before idling).
#
# Environment:
#   YURTA_SUPERVISOR  (default: target/release/yurta-supervisor, built if missing)
#   YURTA_RUNTIME     (default: target/release/yurta-runtime, built if missing)
#   CONMON            (default: conmon from PATH; skipped if missing — apt-get install conmon)
#   BUSYBOX           static busybox (default: /bin/busybox, Debian's busybox-static)
#
# Needs root and python3. Results: see docs/benchmarks.md.
set -eu

n=5
while getopts n:h opt; do
    case $opt in
        n) n=$OPTARG ;;
        *) sed -n '2,22p' "$0"; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
. "$repo/bench/lib.sh"
require_root

sup=${YURTA_SUPERVISOR:-$repo/target/release/yurta-supervisor}
rt=${YURTA_RUNTIME:-$repo/target/release/yurta-runtime}
if [ ! -x "$sup" ] || [ ! -x "$rt" ]; then
    (cd "$repo" && cargo build --release -p yurta-supervisor -p yurta-runtime)
fi
conmon=${CONMON:-$(command -v conmon || true)}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "$busybox missing (apt-get install busybox-static)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/yurta-bench-sup.XXXXXX)
root=$tmp/state
cleanup() {
    for d in "$root"/*/; do
        [ -d "$d" ] && "$rt" --root "$root" delete --force "$(basename "$d")" 2>/dev/null || true
    done
    sleep 0.3 # supervisors see their containers exit and leave
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

bundle=$tmp/bundle
mkdir -p "$bundle/rootfs/bin" "$root" "$tmp/run"
cp "$busybox" "$bundle/rootfs/bin/busybox"
chroot "$bundle/rootfs" /bin/busybox --install -s /bin
(cd "$bundle" && "$rt" spec)
python3 - "$bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["sleep", "1000"]
c["process"]["terminal"] = False
c["root"]["readonly"] = True
json.dump(c, open(p, "w"), indent=1)
EOF

# mem PID: VmRSS Pss Private Anonymous, in kB
mem() {
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status")
    awk -v rss="$rss" '/^Pss:/ {pss=$2} /^Private_(Clean|Dirty):/ {priv+=$2} /^Anonymous:/ {anon=$2}
        END {printf "%6d %6d %7d %6d\n", rss, pss, priv, anon}' "/proc/$1/smaps_rollup"
}

start_yurta() { # ID [env...]
    id=$1; shift
    r=$(env "$@" "$sup" --runtime "$rt" --runtime-root "$root" --bundle "$bundle" --id "$id" \
        --pid-file "$tmp/run/$id.pid" --log-path "$tmp/run/$id.log" --exit-file "$tmp/run/$id.exit" \
        --attach-socket "$tmp/run/$id.sock" --supervisor-pid-file "$tmp/run/$id.sup" \
        --sync-fd 3 3>&1 >/dev/null)
    case $r in *'"pid"'*) ;; *) echo "yurta-supervisor $id: $r" >&2; exit 1 ;; esac
    cat "$tmp/run/$id.sup"
}

start_conmon() { # ID
    id=$1
    "$conmon" --api-version 1 -c "$id" -u "$id" -n "$id" -r "$rt" -b "$bundle" \
        -p "$tmp/run/$id.pid" -P "$tmp/run/$id.sup" -l "k8s-file:$tmp/run/$id.log" \
        --exit-dir "$tmp/run" --socket-dir-path "$tmp/run" \
        --runtime-arg --root --runtime-arg "$root" >/dev/null 2>"$tmp/run/$id.err"
    cat "$tmp/run/$id.sup"
}

yurta_pids= conmon_pids= notrim_pid=
i=0
while [ $i -lt "$n" ]; do
    i=$((i + 1))
    yurta_pids="$yurta_pids $(start_yurta "y$i")"
    [ -n "$conmon" ] && conmon_pids="$conmon_pids $(start_conmon "c$i")"
done
notrim_pid=$(start_yurta notrim YURTA_SUPERVISOR_NO_TRIM=1)
sleep 1

printf '%-34s %6s %6s %7s %6s   (kB)\n' process VmRSS Pss Private Anon
for p in $yurta_pids; do printf '%-34s %s\n' "yurta-supervisor $p" "$(mem "$p")"; done
printf '%-34s %s\n' "yurta-supervisor (no trim) $notrim_pid" "$(mem "$notrim_pid")"
for p in $conmon_pids; do printf '%-34s %s\n' "conmon $p" "$(mem "$p")"; done
[ -n "$conmon" ] || echo "conmon not installed: skipped"
echo "yurta-supervisor $(stat -c %s "$sup") bytes ($(file -b "$sup" | cut -d, -f1-2 | tr -d '\n')); $("$conmon" --version 2>/dev/null | head -1)"
