# Shared helpers for yurta's scripts (sourced, not run).

set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "run this as root (containers need it): sudo $0"
}

# apt_install PKG...: installs the Debian packages that are missing.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Node and npm for scripts/web.sh (the web console's pages): whatever the
# machine has, else Debian's.
require_npm() {
    command -v npm >/dev/null && command -v node >/dev/null && return 0
    apt_install nodejs npm
}

# The web console's pages, built into web/dist before cargo embeds them.
build_web_pages() {
    require_npm
    say "building the web console's pages (scripts/web.sh)"
    ./scripts/web.sh | tail -n 1
}

# The Rust toolchain yurta needs (Cargo.toml's rust-version); Debian 12's
# own rustc (1.63) is too old, so it comes from rustup.
RUST_MIN=1.85

require_cargo() {
    if ! command -v cargo >/dev/null; then
        [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null; then
        local home=
        if [ -n "${SUDO_USER:-}" ]; then
            home=$(getent passwd "$SUDO_USER" | cut -d: -f6) || home=
        fi
        if [ -n "$home" ] && [ -x "$home/.cargo/bin/cargo" ]; then
            die "cargo is installed for $SUDO_USER, not for root: install Rust $RUST_MIN or newer for root with rustup (https://rustup.rs), then run this again"
        fi
        die "cargo not found: install Rust $RUST_MIN or newer with rustup (https://rustup.rs), then run this again"
    fi
    local have
    have=$(cargo --version | awk '{print $2}')
    if [ "$(printf '%s\n%s\n' "$RUST_MIN" "$have" | sort -V | head -n1)" != "$RUST_MIN" ]; then
        die "cargo $have is too old: yurta needs $RUST_MIN or newer (rustup update)"
    fi
}

# make_busybox_rootfs DIR: a minimal root filesystem from Debian's static busybox.
make_busybox_rootfs() {
    local dir=$1
    rm -rf "$dir"
    mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root"
    cp /bin/busybox "$dir/bin/busybox"
    chroot "$dir" /bin/busybox --install -s /bin
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
    chmod 1777 "$dir/tmp"
}

# import_busybox_image YURTA NAME: the quick start's image, made locally from
# Debian's busybox-static (no registry), unless NAME exists already.
import_busybox_image() {
    local yurta=$1 name=$2 work
    if "$yurta" image inspect "$name" >/dev/null 2>&1; then
        say "the image $name exists already"
        return 0
    fi
    say "making the image $name from Debian's busybox-static"
    work=$(mktemp -d)
    make_busybox_rootfs "$work/rootfs"
    tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
    "$yurta" import --change 'CMD ["sh"]' --message "busybox from Debian's busybox-static" \
        "$work/rootfs.tar" "$name" >/dev/null
    rm -rf "$work"
}
