#!/bin/bash
# Quick start, step 1: install what is missing, build yurta, make a small
# local image from Debian's busybox-static and run a container from it.
#
#   sudo ./scripts/quickstart.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

require_root
apt_install busybox-static ca-certificates pkg-config libssl-dev libc6-dev
require_cargo

say "building yurta (release)"
cargo build --release --quiet --bins
runtime=$PWD/target/release/yurta-runtime

bundle=$PWD/target/quickstart/bundle
say "making a busybox image in $bundle"
make_busybox_rootfs "$bundle/rootfs"
rm -f "$bundle/config.json"
"$runtime" spec --bundle "$bundle"
# A non-interactive demo: no terminal, print something and exit.
sed -i -e 's/"terminal": true/"terminal": false/' \
    -e 's|"sh"$|"sh", "-c", "echo \\"Hello from a yurta container: $(hostname), $(uname -m), pid $$\\"; cat /proc/self/status \| grep -E \\"^(Cap(Eff\|Bnd)\|NoNewPrivs\|Seccomp):\\""|' \
    "$bundle/config.json"

say "running a container"
"$runtime" --root "$PWD/target/quickstart/state" run --bundle "$bundle" "quickstart-$$"
