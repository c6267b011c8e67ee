#!/bin/bash
# Quick start, step 1: install what is missing, build yurta, make a small
# local image from Debian's busybox-static and run a container from it.
#
#   sudo ./scripts/quickstart.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

require_root
apt_install busybox-static ca-certificates pkg-config libssl-dev libc6-dev nftables iproute2
require_cargo

say "building yurta (release)"
cargo build --release --quiet --bins
bin=$PWD/target/release

work=$PWD/target/quickstart
say "making a busybox image: quickstart/busybox:latest"
make_busybox_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
"$bin/yurta" import --change 'CMD ["sh"]' "$work/rootfs.tar" quickstart/busybox:latest >/dev/null

say "running a container (yurta run --rm quickstart/busybox ...)"
"$bin/yurta" run --rm --name "quickstart-$$" quickstart/busybox sh -c '
    echo "Hello from a yurta container: $(hostname), $(uname -m), pid $$, address $(ip -4 -o addr show eth0 | awk "{print \$4}")"
    grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status'
