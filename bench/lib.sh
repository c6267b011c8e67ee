# Shared by the bench/ scripts (sourced; needs $repo, the checkout).

# Exits unless run as root.
require_root() {
    [ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
}

# Exits unless every named command is installed.
require() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 1; }
    done
}

# The yurta binary to measure: $YURTA, else target/release/yurta, built
# with its helpers (supervisor, runtime, registry) when missing.
yurta_binary() {
    local y=${YURTA:-$repo/target/release/yurta}
    if [ -z "${YURTA:-}" ] && [ ! -x "$y" ]; then
        (cd "$repo" && cargo build --release -p yurta -p yurta-supervisor -p yurta-runtime >&2)
    fi
    echo "$y"
}

# busybox_rootfs DIR APPLET...: a root filesystem in DIR/rootfs with a
# static busybox ($BUSYBOX, default /bin/busybox) and the applets linked,
# and its tarball DIR/rootfs.tar.
busybox_rootfs() {
    local dir=$1 a
    shift
    mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc"
    cp "${BUSYBOX:-/bin/busybox}" "$dir/rootfs/bin/busybox"
    for a in "$@"; do ln -s busybox "$dir/rootfs/bin/$a"; done
    tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" .
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
    sort -n "$1" | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
