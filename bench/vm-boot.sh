#!/bin/bash
# VM boot: time from `yurta vm start` to the guest's first console line
# (and to its init's line, the end of the boot), against the equivalent
# bare qemu-system command line, alternating the two; also how long
# `yurta vm start` itself takes to return.
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
        *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
. "$repo/bench/lib.sh"
require_root
yurta=${YURTA:-$repo/target/release/yurta}
[ -x "$yurta" ] || (cd "$repo" && cargo build --release -p yurta)
busybox=${BUSYBOX:-/bin/busybox}
kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
mark=YURTA-BENCH-INIT

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

# Without `quiet` the kernel's banner is the first console line, a few
# hundred ms in: the measure most sensitive to what yurta adds. init's
# line comes at the end of the boot.
y vm create --kernel "$kernel" --initrd "$work/initrd.gz" \
    --cmdline "console=ttyS0 panic=-1" --accel "$accel" --memory 256M \
    --network none bench >/dev/null
log=$work/root/vms/bench/console.log
mkfifo "$work/fifo"

now() { date +%s%N; }

# Reads console lines from stdin; prints "<ns of the first non-empty line>
# <ns of init's line>" and returns at init's line.
stamp_lines() {
    local first=""
    while IFS= read -r line; do
        line=${line%$'\r'}
        if [ -z "$first" ] && [ -n "${line// /}" ]; then first=$(now); fi
        case $line in *"$mark"*) echo "$first $(now)"; return ;; esac
    done
}

size_of() { stat -c %s "$log" 2>/dev/null || echo 0; }

# Follows the console log from byte $1 (tail -F: inotify, no polling that
# would take CPU from the guest).
follow_log() {
    local tailer
    tail -c "+$(($1 + 1))" -F "$log" 2>/dev/null >"$work/fifo" &
    tailer=$!
    stamp_lines <"$work/fifo"
    kill "$tailer" 2>/dev/null || true
    wait "$tailer" 2>/dev/null || true
}

# One yurta boot: "<ms to first line> <ms to init's line> <ms for vm start>".
yurta_boot() {
    local t0 t1 from first init
    from=$(size_of)
    t0=$(now)
    y vm start bench >/dev/null
    t1=$(now)
    read -r first init < <(follow_log "$from")
    y vm stop -t 5 bench >/dev/null
    echo "$(((first - t0) / 1000000)) $(((init - t0) / 1000000)) $(((t1 - t0) / 1000000))"
}

# The bare command, from yurta's own.
y vm start bench >/dev/null
follow_log 0 >/dev/null
bare=$(y vm inspect bench | python3 -c '
import json, shlex, sys
cmd = json.load(sys.stdin)[0]["QemuCommand"]
out, skip = [], 0
for a in cmd:
    if skip:
        skip -= 1
        continue
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

# One bare boot: "<ms to first line> <ms to init's line>".
bare_boot() {
    local t0 first init
    t0=$(now)
    read -r first init < <(eval "$bare" </dev/null 2>/dev/null | stamp_lines)
    wait
    echo "$(((first - t0) / 1000000)) $(((init - t0) / 1000000))"
}


for i in $(seq "$runs"); do
    read -r yf yi ys < <(yurta_boot)
    read -r bf bi < <(bare_boot)
    echo "$yf" >>"$work/yurta-first"; echo "$yi" >>"$work/yurta-init"; echo "$ys" >>"$work/start"
    echo "$bf" >>"$work/bare-first"; echo "$bi" >>"$work/bare-init"
    echo "run $i: first line yurta $yf / bare $bf ms; init's line yurta $yi / bare $bi ms; vm start returned after $ys ms" >&2
done

m() { median "$work/$1"; }
echo "kernel $kernel, accel $accel, $runs runs each, medians:"
echo "  first console line:  yurta $(m yurta-first) ms, bare qemu $(m bare-first) ms"
echo "  init's line:         yurta $(m yurta-init) ms, bare qemu $(m bare-init) ms"
echo "  yurta vm start returns after $(m start) ms"
awk -v y="$(m yurta-first)" -v b="$(m bare-first)" -v yi="$(m yurta-init)" -v bi="$(m bare-init)" \
    'BEGIN { printf "  ratio yurta/bare: first line %.3f, init %.3f\n", y / b, yi / bi }'
