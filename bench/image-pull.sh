#!/bin/sh
# yurta vs podman: pull of a large incompressible image (LAYERS gzip layers of
# SIZE MiB of /dev/urandom data) from a local docker-registry on 127.0.0.1
# over plain http, with empty image stores: a fresh --root for every yurta
# run, `podman rmi -f` before every podman run. Runs alternate between the
# two tools; medians are reported. Both pulls end with the layers unpacked
# (podman into its overlay storage, yurta into snapshots/). yurta's unpack
# throughput comes from its debug log (compressed bytes / unpack time, per
# layer, while the other layers are still downloading or unpacking).
#
#   sudo bench/image-pull.sh [-n RUNS] [-l LAYERS] [-s SIZE_MIB] [-c]
#
# -c drops the page cache (echo 3 > drop_caches) before every pull.
#
# Environment:
#   YURTA   yurta binary (default: target/release/yurta, built if missing)
#
# Needs root, docker-registry, skopeo, podman, python3. Results: docs/benchmarks.md.
set -eu

n=5 layers=3 size=64 drop=0
while getopts n:l:s:ch opt; do
    case $opt in
        n) n=$OPTARG ;;
        l) layers=$OPTARG ;;
        s) size=$OPTARG ;;
        c) drop=1 ;;
        *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
. "$repo/bench/lib.sh"
require_root
yurta=${YURTA:-$repo/target/release/yurta}
if [ -z "${YURTA:-}" ] && [ ! -x "$yurta" ]; then
    (cd "$repo" && cargo build --release -p yurta)
fi
require docker-registry skopeo podman python3

tmp=$(mktemp -d /tmp/yurta-image-pull.XXXXXX)
regpid=
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
image=127.0.0.1:$port/bench/big:1
cleanup() {
    [ -n "$regpid" ] && kill "$regpid" 2>/dev/null && wait "$regpid" 2>/dev/null
    podman rmi -f "$image" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cat > "$tmp/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $tmp/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
regpid=$!
python3 "$here/image-pull-layout.py" "$tmp/layout" "$layers" "$size"
skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
    "oci:$tmp/layout:1" "docker://$image"

now() { date +%s.%N; }
settle() {
    sync
    [ "$drop" = 1 ] && echo 3 > /proc/sys/vm/drop_caches
    return 0
}
pull_yurta() { # $1: run number
    root=$tmp/yurta-$1
    settle
    t0=$(now)
    "$yurta" --root "$root" --log-level debug pull -q "$image" >/dev/null 2>"$tmp/yurta-$1.log"
    t1=$(now)
    echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >> "$tmp/yurta.times"
    sed -n 's/.*unpacked [0-9a-f]* (\([0-9]*\) bytes) in \([0-9.]*\)s/\1 \2/p' \
        "$tmp/yurta-$1.log" >> "$tmp/unpack"
    rm -rf "$root"
}
pull_podman() {
    podman rmi -f "$image" >/dev/null 2>&1 || true
    settle
    t0=$(now)
    podman pull -q --tls-verify=false "$image" >/dev/null
    t1=$(now)
    echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >> "$tmp/podman.times"
    podman rmi -f "$image" >/dev/null
}

# One warm-up each (binaries and the registry's files in the page cache).
pull_yurta warm; pull_podman; : > "$tmp/yurta.times"; : > "$tmp/podman.times"; : > "$tmp/unpack"
i=1
while [ "$i" -le "$n" ]; do
    if [ $((i % 2)) = 1 ]; then pull_yurta "$i"; pull_podman; else pull_podman; pull_yurta "$i"; fi
    i=$((i + 1))
done

ym=$(median "$tmp/yurta.times")
pm=$(median "$tmp/podman.times")
mb=$(awk -v l="$layers" -v s="$size" 'BEGIN {printf "%.0f", l * s * 1048576 / 1e6}')
awk '{print $1 / $2 / 1e6}' "$tmp/unpack" > "$tmp/unpack.rates"
um=$(median "$tmp/unpack.rates")
echo "image: $layers layers x $size MiB of urandom ($mb MB), $n runs, drop caches: $drop"
echo "yurta  pull median ${ym}s  runs: $(tr '\n' ' ' < "$tmp/yurta.times")"
echo "podman pull median ${pm}s  runs: $(tr '\n' ' ' < "$tmp/podman.times")"
awk -v y="$ym" -v p="$pm" -v mb="$mb" 'BEGIN {
    printf "yurta/podman: %.2f   throughput: yurta %.0f MB/s, podman %.0f MB/s\n", y / p, mb / y, mb / p }'
echo "yurta unpack per layer: median $(printf %.0f "$um") MB/s"
