#!/bin/bash
# VM boot: time from `yurta vm start` to the guest's first console line,
# against the equivalent bare qemu-system command line, alternating the
# two; also how long `yurta vm start` itself takes to return.
#
#   sudo bench/vm-boot.sh [-r RUNS] [-a tcg|kvm]
#
# The guest is the host's newest /boot/vmlinuz-* with a busybox initramfs
# whose /init prints one line and powers off. The bare command is the one
# yurta ran (from `vm inspect`), without -S, the QMP monitors and the
# pidfile, with the serial port on stdio: the same machine, devices and
# guest. yurta uses a private --root and --network none.
#
# Environment: YURTA (default target/release/yurta), BUSYBOX (/bin/busybox).
# Needs root, qemu-system-x86_64, cpio, gzip. Results: docs/benchmarks.md.
set -eu

runs=7
accel=tcg
while getopts r:a:h opt; do
    case $opt in
        r) runs=$OPTARG ;;
        a) accel=$OPTARG ;;
        *) sed -n '2,15p' "$0"; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
yurta=${YURTA:-$repo/target/release/yurta}
[ -x "$yurta" ] || (cd "$repo" && cargo build --release -p yurta)
busybox=${BUSYBOX:-/bin/busybox}
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
mark=YURTA-BENCH-FIRST-LINE

work=$(mktemp -d)
y() { "$yurta" --root "$work/root" "$@"; }
cleanup() {
    y vm rm -f bench >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/initramfs/bin"
cp "$busybox" "$work/initramfs/bin/busybox"
printf '#!/bin/busybox sh\necho %s\n/bin/busybox poweroff -f\n' "$mark" >"$work/initramfs/init"
chmod +x "$work/initramfs/init"
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

y vm create --kernel "$kernel" --initrd "$work/initrd.gz" \
    --cmdline "console=ttyS0 quiet panic=-1" --accel "$accel" --memory 256M \
    --network none bench >/dev/null
log=$work/root/vms/bench/console.log

now() { date +%s%N; }

# Blocks until the mark appears in the console log after byte $1:
# `tail -f` follows the file with inotify, no polling that would take CPU
# from the guest on a small machine.
wait_mark_after() {
    local tailer
    [ -p "$work/fifo" ] || mkfifo "$work/fifo"
    tail -c "+$(($1 + 1))" -F "$log" 2>/dev/null >"$work/fifo" &
    tailer=$!
    grep -m 1 -q "$mark" <"$work/fifo"
    kill "$tailer" 2>/dev/null || true
    wait "$tailer" 2>/dev/null || true
}

size_of() { stat -c %s "$log" 2>/dev/null || echo 0; }

# One yurta boot: "<ms to first line> <ms for vm start>".
yurta_boot() {
    local t0 t1 t2 from
    from=$(size_of)
    t0=$(now)
    y vm start bench >/dev/null
    t1=$(now)
    wait_mark_after "$from"
    t2=$(now)
    y vm stop -t 5 bench >/dev/null
    echo "$(((t2 - t0) / 1000000)) $(((t1 - t0) / 1000000))"
}

# The bare command, from yurta's own.
y vm start bench >/dev/null
wait_mark_after 0
bare=$(y vm inspect bench | python3 -c '
import json, shlex, sys
cmd = json.load(sys.stdin)[0]["QemuCommand"]
out, skip = [], 0
for i, a in enumerate(cmd):
    if skip:
        skip -= 1
        continue
    nxt = cmd[i + 1] if i + 1 < len(cmd) else ""
    if a in ("-chardev", "-mon", "-serial", "-pidfile"):
        skip = 1
        continue
    if a == "-S":
        continue
    out.append(a)
out += ["-serial", "stdio"]
print(shlex.join(out))')
y vm stop -t 5 bench >/dev/null
echo "bare: $bare" >&2

bare_boot() {
    local t0
    t0=$(now)
    eval "$bare" </dev/null 2>/dev/null | while IFS= read -r line; do
        case $line in *"$mark"*) now >"$work/t_bare" ;; esac
    done
    echo $((($(cat "$work/t_bare") - t0) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$work/yurta" ; : >"$work/start" ; : >"$work/bare"
for i in $(seq "$runs"); do
    read -r first start < <(yurta_boot)
    echo "$first" >>"$work/yurta"
    echo "$start" >>"$work/start"
    bare_boot >>"$work/bare"
    echo "run $i: yurta $first ms (vm start returned after $start ms), bare qemu $(tail -n 1 "$work/bare") ms" >&2
done

ym=$(median <"$work/yurta")
bm=$(median <"$work/bare")
sm=$(median <"$work/start")
echo "kernel $kernel, accel $accel, $runs runs each, medians:"
echo "  yurta vm start -> first console line: $ym ms"
echo "  bare qemu      -> first console line: $bm ms"
echo "  yurta vm start returns after:          $sm ms"
awk -v y="$ym" -v b="$bm" 'BEGIN { printf "  ratio yurta/bare: %.3f\n", y / b }'
