#!/bin/bash
# yurta registry serve vs docker-registry (Debian's distribution 2.8), side by
# side in one run on 127.0.0.1 over plain http, each with its own empty
# filesystem storage, restarted fresh before every round:
#
#   push   skopeo copy of an image of LAYERS gzip layers of SIZE MiB of
#          random data (total LAYERS x SIZE MiB) from an OCI layout
#   pull   skopeo copy of that image back into an empty OCI layout
#   blob push / blob pull   the same layers as bare blobs with curl
#          (monolithic POST + PUT, and GET), without skopeo's own costs
#   small  PAR parallel clients (keep-alive) fetching a small manifest and
#          blob REQS times in all (python3 http.client)
#   rss    peak resident memory (VmHWM) of the server after the round
#
# Servers alternate every round, and which goes first alternates too, so
# drift on the machine hits both; medians are reported.
#
#   sudo bench/registry.sh [-n ROUNDS] [-l LAYERS] [-s SIZE_MIB] [-p PAR] [-r REQS]
#
# Environment: YURTA (default target/release/yurta, built if missing; its
# sibling yurta-registry-server must be beside it).
# Needs docker-registry, skopeo, python3. Results: docs/benchmarks.md.
set -eu

n=5 layers=4 size=64 par=100 reqs=5000
while getopts n:l:s:p:r:h opt; do
    case $opt in
        n) n=$OPTARG ;;
        l) layers=$OPTARG ;;
        s) size=$OPTARG ;;
        p) par=$OPTARG ;;
        r) reqs=$OPTARG ;;
        *) sed -n '2,21p' "$0"; exit 2 ;;
    esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
require docker-registry skopeo python3 gzip
if [ -z "${YURTA:-}" ]; then
    (cd "$repo" && cargo build --release -p yurta --bins >&2)
fi
yurta=${YURTA:-$repo/target/release/yurta}

work=$(mktemp -d /var/tmp/yurta-bench-registry.XXXXXX)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The image: an OCI layout with gzip layers of random data (incompressible,
# so neither side spends time compressing) and a small config.
make_image() {
    local dir=$work/image diffs="" descs="" i d tar gz cfg m
    mkdir -p "$dir/blobs/sha256"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
    for i in $(seq "$layers"); do
        mkdir -p "$work/layer$i"
        head -c "$((size << 20))" /dev/urandom >"$work/layer$i/data"
        tar -C "$work/layer$i" -cf "$work/layer$i.tar" data
        d=$(sha256sum "$work/layer$i.tar" | cut -d' ' -f1)
        gzip -1 -c "$work/layer$i.tar" >"$work/layer$i.tgz"
        gz=$(sha256sum "$work/layer$i.tgz" | cut -d' ' -f1)
        mv "$work/layer$i.tgz" "$dir/blobs/sha256/$gz"
        rm -rf "$work/layer$i" "$work/layer$i.tar"
        diffs="$diffs${diffs:+,}\"sha256:$d\""
        descs="$descs${descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$gz\",\"size\":$(stat -c %s "$dir/blobs/sha256/$gz")}"
    done
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffs" >"$work/config"
    cfg=$(sha256sum "$work/config" | cut -d' ' -f1)
    mv "$work/config" "$dir/blobs/sha256/$cfg"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
        "$cfg" "$(stat -c %s "$dir/blobs/sha256/$cfg")" "$descs" >"$work/manifest"
    m=$(sha256sum "$work/manifest" | cut -d' ' -f1)
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' \
        "$m" "$(stat -c %s "$work/manifest")" >"$dir/index.json"
    mv "$work/manifest" "$dir/blobs/sha256/$m"
}

port=5391
# start_server NAME: starts it on $port with empty storage, sets $server_pid.
start_server() {
    rm -rf "$work/storage"
    mkdir -p "$work/storage"
    case $1 in
        yurta)
            "$yurta" registry serve --listen "127.0.0.1:$port" --storage "$work/storage" 2>"$work/server.log" &
            ;;
        docker-registry)
            cat >"$work/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
            docker-registry serve "$work/config.yml" >"$work/server.log" 2>&1 &
            ;;
    esac
    server_pid=$!
    for _ in $(seq 200); do
        curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
        sleep 0.05
    done
    echo "$1 did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

now() { date +%s.%N; }

# small_requests: REQS GETs of the manifest and a small blob over PAR
# keep-alive connections; prints requests per second.
small_requests() {
    python3 - "$port" "$par" "$reqs" <<'PY'
import http.client, json, sys, threading, time, hashlib
port, par, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
blob = b"small blob for the parallel pulls"
d = "sha256:" + hashlib.sha256(blob).hexdigest()
c.request("POST", "/v2/bench/small/blobs/uploads/")
r = c.getresponse(); r.read()
loc = r.getheader("Location")
loc = loc[loc.index("/v2/"):]
sep = "&" if "?" in loc else "?"
c.request("PUT", loc + sep + "digest=" + d, body=blob, headers={"Content-Type": "application/octet-stream"})
r = c.getresponse(); r.read(); assert r.status == 201, r.status
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d, "size": len(blob)},
    "layers": []}).encode()
c.request("PUT", "/v2/bench/small/manifests/1", body=m, headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
r = c.getresponse(); r.read(); assert r.status == 201, r.status
per = total // par
errors = []
def client():
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(per):
        path = "/v2/bench/small/manifests/1" if i % 2 == 0 else "/v2/bench/small/blobs/" + d
        conn.request("GET", path, headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        r = conn.getresponse(); r.read()
        if r.status != 200:
            errors.append(r.status)
threads = [threading.Thread(target=client) for _ in range(par)]
t0 = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
dt = time.monotonic() - t0
assert not errors, errors[:5]
print(f"{per * par / dt:.0f}")
PY
}

# round NAME: one push, one pull and the small requests against NAME;
# appends to $work/NAME.{push,pull,small,rss}.
round() {
    local name=$1 t0 t1 mib
    start_server "$name"
    mib=$((layers * size))
    t0=$(now)
    skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
        "oci:$work/image:1" "docker://127.0.0.1:$port/bench/big:1"
    t1=$(now)
    echo "$mib $t0 $t1" | awk '{printf "%.1f\n", $1 / ($3 - $2)}' >>"$work/$name.push"
    rm -rf "$work/out"
    t0=$(now)
    skopeo --insecure-policy copy --quiet --src-tls-verify=false \
        "docker://127.0.0.1:$port/bench/big:1" "oci:$work/out:1"
    t1=$(now)
    echo "$mib $t0 $t1" | awk '{printf "%.1f\n", $1 / ($3 - $2)}' >>"$work/$name.pull"
    t0=$(now)
    for f in "$work"/image/blobs/sha256/*; do
        [ "$(stat -c %s "$f")" -gt 1048576 ] || continue
        loc=$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$port/v2/bench/raw/blobs/uploads/" |
            tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
        loc=/v2/${loc#*/v2/}
        case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
        curl -sf -o /dev/null -T "$f" -H 'Content-Type: application/octet-stream' \
            "http://127.0.0.1:$port$loc${sep}digest=sha256:$(basename "$f")"
    done
    t1=$(now)
    echo "$mib $t0 $t1" | awk '{printf "%.1f\n", $1 / ($3 - $2)}' >>"$work/$name.blobpush"
    t0=$(now)
    for f in "$work"/image/blobs/sha256/*; do
        [ "$(stat -c %s "$f")" -gt 1048576 ] || continue
        curl -sf -o /dev/null "http://127.0.0.1:$port/v2/bench/raw/blobs/sha256:$(basename "$f")"
    done
    t1=$(now)
    echo "$mib $t0 $t1" | awk '{printf "%.1f\n", $1 / ($3 - $2)}' >>"$work/$name.blobpull"
    small_requests >>"$work/$name.small"
    awk '/VmHWM/ {printf "%.1f\n", $2 / 1024}' "/proc/$server_pid/status" >>"$work/$name.rss"
    stop_server
}

echo "preparing a $((layers * size)) MiB image ($layers layers)" >&2
make_image
for i in $(seq "$n"); do
    if [ $((i % 2)) = 1 ]; then order="yurta docker-registry"; else order="docker-registry yurta"; fi
    for s in $order; do
        echo "round $i: $s" >&2
        round "$s"
    done
done

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r)"
echo "docker-registry $(dpkg-query -W -f '${Version}' docker-registry 2>/dev/null || echo '?'), skopeo $(skopeo --version | awk '{print $3}'), $n rounds, image $((layers * size)) MiB in $layers layers, $par clients x $((reqs / par)) requests"
echo
echo "| measure (median) | yurta | docker-registry | yurta / docker-registry |"
echo "|---|---|---|---|"
for m in "push:MiB/s" "pull:MiB/s" "blobpush:MiB/s" "blobpull:MiB/s" "small:requests/s" "rss:peak RSS MiB"; do
    key=${m%%:*} unit=${m#*:}
    y=$(median "$work/yurta.$key") d=$(median "$work/docker-registry.$key")
    echo "| $key ($unit) | $y | $d | $(echo "$y $d" | awk '{printf "%.2f", $1 / $2}') |"
done
