#!/bin/bash
# Quick start: checks the Rust toolchain, installs the Debian packages yurta
# needs, builds yurta, installs it into /usr/local (scripts/install.sh:
# binaries, manual pages, shell completions), makes the image `busybox`
# locally from Debian's busybox-static (no registry needed) and runs a
# container from it. Running it again rebuilds what changed and reinstalls.
#
#   sudo ./scripts/quickstart.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

require_root
require_cargo
apt_install busybox-static ca-certificates pkg-config libssl-dev libc6-dev nftables iproute2 curl bash-completion

build_web_pages
say "building yurta (release: the first build takes a few minutes)"
cargo build --release --bins

PREFIX=${PREFIX:-/usr/local}
export PREFIX
./scripts/install.sh
yurta=$PREFIX/bin/yurta

import_busybox_image "$yurta" busybox

say "running a container: yurta run --rm busybox sh -c ..."
"$yurta" run --rm busybox sh -c '
    echo "Hello from a yurta container: $(hostname), $(uname -m), pid $$, address $(ip -4 -o addr show eth0 | awk "{print \$4}")"
    grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status'

say "done: yurta is in $PREFIX/bin; the README's examples work as written now (yurta run --rm busybox echo hello)"
