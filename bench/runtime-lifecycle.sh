#!/bin/sh
# yurta-runtime vs runc: time of one container lifecycle as podman/conmon drive
# it (create, start, wait for exit, delete as separate commands) and of the
# single-command `run`, for a busybox container running `true`.
#
#   sudo bench/runtime-lifecycle.sh [-n ITERATIONS] [-g GAP_SECONDS] [-j RESULTS.json]
#
# -g sleeps before every lifecycle/run. Back to back (the default, 0) hides a
# kernel cost that a container started after an idle moment pays: on cgroup v1
# the first write to a cgroup.procs waits for an RCU grace period (~7 ms here).
# Run with -g 0.3 as well to see the "cold" numbers.
#
# Environment:
#   YURTA_RUNTIME  yurta-runtime binary (default: target/release/yurta-runtime,
#                  built with `cargo build --release -p yurta-runtime` if missing)
#   RUNC           runc binary (default: runc from PATH)
#   BUSYBOX        static busybox (default: /bin/busybox, Debian's busybox-static)
#
# Needs root, python3, runc. Results: see docs/benchmarks.md.
set -eu

n=50
json=
gap=0
while getopts n:g:j:h opt; do
    case $opt in
        n) n=$OPTARG ;;
        g) gap=$OPTARG ;;
        j) json=$OPTARG ;;
        *) sed -n '2,21p' "$0"; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

. "$repo/bench/lib.sh"
require_root

yurta=${YURTA_RUNTIME:-$repo/target/release/yurta-runtime}
if [ -z "${YURTA_RUNTIME:-}" ] && [ ! -x "$yurta" ]; then
    (cd "$repo" && cargo build --release -p yurta-runtime)
fi
[ -x "$yurta" ] || { echo "no yurta-runtime at $yurta" >&2; exit 1; }
runc=${RUNC:-$(command -v runc || true)}
[ -n "$runc" ] || { echo "runc not found (apt-get install runc)" >&2; exit 1; }
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "$busybox missing (apt-get install busybox-static)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/yurta-bench.XXXXXX)
cleanup() {
    # containers left by an interrupted run
    for r in "$yurta:$tmp/state/root-yurta-runtime" "$runc:$tmp/state/root-runc"; do
        rt=${r%%:*} root=${r#*:}
        [ -d "$root" ] || continue
        for d in "$root"/*/; do
            [ -d "$d" ] && "$rt" --root "$root" delete --force "$(basename "$d")" 2>/dev/null || true
        done
    done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

bundle=$tmp/bundle
mkdir -p "$bundle/rootfs/bin" "$tmp/state"
cp "$busybox" "$bundle/rootfs/bin/busybox"
chroot "$bundle/rootfs" /bin/busybox --install -s /bin
# Same config.json for both runtimes: runc's default spec (namespaces incl.
# network, default mounts, masked paths, capabilities, rlimits), running `true`.
(cd "$bundle" && "$runc" spec)
python3 - "$bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["true"]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"), indent=1)
EOF

python3 "$here/runtime_lifecycle.py" --yurta "$yurta" --runc "$runc" \
    --bundle "$bundle" --state "$tmp/state" -n "$n" --gap "$gap" ${json:+--json "$json"}
