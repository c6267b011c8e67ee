#!/bin/bash
# Installs the built yurta binaries, their manual pages and the shell
# completions:
#
#   ./scripts/install.sh                          # into /usr/local (as root)
#   PREFIX=/usr DESTDIR=/tmp/pkg ./scripts/install.sh   # into a package tree
#
#   PREFIX     where they go (default /usr/local)
#   DESTDIR    a staging directory prepended to every path (default none)
#   BUILD_DIR  where the binaries are (default target/release of this clone:
#              `cargo build --release --bins` makes them)
#
# Running it again replaces what it installed: each file is written beside
# its destination and renamed over it, so a running container's supervisor
# keeps its old binary and no command ever runs a half-written one.
. "$(dirname "$0")/lib.sh"

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BUILD_DIR=${BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target/release}

# yurta finds the others beside itself (yurta-registry for pull and push,
# yurta-registry-server for `registry serve|gc`,
# the runtime, the supervisor, the DNS resolver): they go in one directory.
BINARIES=(yurta yurta-registry yurta-registry-server yurta-service yurta-runtime yurta-supervisor yurta-dns)

bin_dir=$DESTDIR$PREFIX/bin
man_dir=$DESTDIR$PREFIX/share/man/man1
bash_dir=$DESTDIR$PREFIX/share/bash-completion/completions
fish_dir=$DESTDIR$PREFIX/share/fish/vendor_completions.d
# Debian's zsh reads vendor-completions under /usr and site-functions
# under /usr/local (and nothing under other prefixes by default).
if [ "$PREFIX" = /usr ]; then
    zsh_dir=$DESTDIR$PREFIX/share/zsh/vendor-completions
else
    zsh_dir=$DESTDIR$PREFIX/share/zsh/site-functions
fi

# put SRC DEST MODE: SRC becomes DEST, replaced in one rename.
put() {
    local src=$1 dest=$2 mode=$3
    mkdir -p "$(dirname "$dest")"
    install -m "$mode" "$src" "$dest.tmp-$$"
    mv -f "$dest.tmp-$$" "$dest"
}

for b in "${BINARIES[@]}"; do
    [ -x "$BUILD_DIR/$b" ] ||
        die "$BUILD_DIR/$b not found: build it first (cargo build --release --bins)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for b in "${BINARIES[@]}"; do
    put "$BUILD_DIR/$b" "$bin_dir/$b" 0755
done
say "installed ${BINARIES[*]} in $bin_dir"

"$BUILD_DIR/yurta" __man "$tmp/man"
for page in "$tmp"/man/*.1; do
    put "$page" "$man_dir/$(basename "$page")" 0644
done
# Pages of commands that are gone (an older install) go too.
for page in "$man_dir"/yurta.1 "$man_dir"/yurta-*.1; do
    if [ -e "$page" ] && [ ! -e "$tmp/man/$(basename "$page")" ]; then
        rm -f "$page"
    fi
done
say "installed $(find "$tmp/man" -name '*.1' | wc -l) manual pages in $man_dir (man yurta-run)"

for shell in bash zsh fish; do
    "$BUILD_DIR/yurta" completion "$shell" >"$tmp/$shell"
done
put "$tmp/bash" "$bash_dir/yurta" 0644
put "$tmp/zsh" "$zsh_dir/_yurta" 0644
put "$tmp/fish" "$fish_dir/yurta.fish" 0644
say "installed completions: $bash_dir/yurta, $zsh_dir/_yurta, $fish_dir/yurta.fish"
