#!/bin/bash
# Runs each fuzz target of fuzz/ for a fixed time, one after the other, on
# one core (libFuzzer, `cargo +nightly fuzz`, debug assertions on).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     # default 60 s each, all targets
#   scripts/fuzz.sh --update-corpus 300       # also minimize what was found
#                                             # into fuzz/corpus/ (to commit)
#
# Each target starts from fuzz/corpus/<target> (committed, minimized), the
# seeds of fuzz/make_seeds.py and the inputs that once crashed it
# (fuzz/regressions/<target>). The committed corpus is only read, unless
# --update-corpus. Exits non-zero when a target crashed, leaked or hung;
# the input is in fuzz/artifacts/<target>/. See docs/fuzzing.md.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../fuzz"

update=0
if [ "${1:-}" = "--update-corpus" ]; then
    update=1
    shift
fi
seconds=${1:-60}
shift || true
[[ "$seconds" =~ ^[0-9]+$ ]] || die "SECONDS must be a number, not ${seconds@Q}"

require_cargo
rustup toolchain list | grep -q '^nightly' || die "needs the nightly toolchain: rustup toolchain install nightly"
if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)

say "building ${#targets[@]} targets"
cargo +nightly fuzz build --debug-assertions >/dev/null

[ -d seeds ] || python3 make_seeds.py || say "no seeds (needs python3 and zstd): corpus only"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()
for t in "${targets[@]}"; do
    work="$logs/$t.corpus"
    mkdir -p "$work" "corpus/$t" "regressions/$t" "artifacts/$t"
    cp -r "corpus/$t/." "$work/"
    inputs=("$work" "corpus/$t" "regressions/$t")
    [ -d "seeds/$t" ] && inputs+=("seeds/$t")
    max_len=4096
    [ "$t" = layer_unpack ] && max_len=65536
    say "$t: ${seconds}s"
    if cargo +nightly fuzz run --debug-assertions "$t" "${inputs[@]}" -- \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$logs/$t.log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$t")
        grep -E '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY|artifact_prefix|Test unit written)' \
            "$logs/$t.log" | head -20 >&2 || true
        cp "$logs/$t.log" "artifacts/$t/last.log"
    fi
    last=$(grep -E '^#[0-9]+' "$logs/$t.log" | tail -1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log")
    printf '%-16s %-6s runs %-10s %s\n' "$t" "$status" "${runs:-?}" \
        "$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$last")"
    if [ "$update" = 1 ] && [ "$status" = ok ]; then
        # What was found, the seeds and the regressions, minimized together.
        for d in "${inputs[@]:1}"; do cp -r "$d/." "$work/"; done
        cargo +nightly fuzz cmin --debug-assertions "$t" "$work" -- -use_counters=0 >"$logs/$t.cmin" 2>&1 ||
            die "$t: cmin failed: $(tail -3 "$logs/$t.cmin")"
        rm -rf "corpus/$t"
        cp -r "$work" "corpus/$t"
        say "$t: corpus now $(find "corpus/$t" -type f | wc -l) files, $(du -sh "corpus/$t" | cut -f1)"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    die "crashes in: ${failed[*]} (inputs and logs in fuzz/artifacts/)"
fi
say "no crash in ${#targets[@]} targets"
