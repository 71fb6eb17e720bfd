#!/usr/bin/env bash
# Build every fuzz target and run each for SECONDS. Exits non-zero if any target finds a crash,
# a panic, a timeout or an allocation beyond the limits.
#
#   bash fuzz/run.sh SECONDS [TARGET...]     (default: 60 s, all targets)
#   bash fuzz/run.sh --long [TARGET...]      an hour per target (3600 s)
#   bash fuzz/run.sh --minimise [TARGET...]  no fuzzing: fold corpus/ and seeds/ into a minimal
#                                            seeds/<target>/ (cargo fuzz cmin) to commit
#
# Uses the nightly toolchain if rustup has one, else stable with RUSTC_BOOTSTRAP=1.
# New corpus entries go to fuzz/corpus/<target>/ (git-ignored); committed seeds are read from
# fuzz/seeds/<target>/. Logs go to fuzz/logs/<target>.log.
set -euo pipefail

mode=fuzz
case "${1:-}" in
    --long) seconds=3600; shift ;;
    --minimise) mode=minimise; seconds=0; shift ;;
    *) seconds="${1:-60}"; shift || true ;;
esac
cd "$(dirname "$0")"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz not found; installing it" >&2
    cargo install cargo-fuzz --locked
fi

toolchain=()
if command -v rustup >/dev/null 2>&1 && rustup toolchain list | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    echo "no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1" >&2
    export RUSTC_BOOTSTRAP=1
fi

# Release build with debug assertions (so integer overflow is a finding too) and AddressSanitizer
# (cargo-fuzz's default), which also enforces -malloc_limit_mb on each allocation.
build_flags=(--release --debug-assertions)

# AddressSanitizer keeps freed memory in a quarantine (256 MB by default), which counts against
# -rss_limit_mb: long runs reached 487 MB of 512 that way. A smaller quarantine keeps the limit
# about the code under test.
# ASan also records the call stack of every allocation (30 frames by default) in a stack depot it
# never frees. The decoders recurse once per nesting level, so each new shape of nesting the fuzzer
# finds is a new set of stacks: packstream_decode's RSS climbed ~1 MB/s that way (871 MB after
# 840 s) with 27 MB of live heap. Measured on the same corpus (2026-12-06, 180-270 s each): 30
# frames 203 -> 407 MB in 180 s; 8 frames 180 -> 211 MB in 210 s; 0 frames 184 -> 214 MB in 270 s;
# no ASan at all flat at 32 MB for 600 s. So 8 frames: a report still says where a block came
# from, and the depot stays small. The RSS limit is 2 GB (for the residual growth of the corpus and
# ASan's per-size free lists); that no single allocation exceeds what an input can justify is
# checked by -malloc_limit_mb=512 (each allocation; libFuzzer's default ties it to the RSS limit).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64:malloc_context_size=8}"

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
fi

# Build only the targets asked for, so one broken target does not block the others.
for target in "${targets[@]}"; do
    cargo "${toolchain[@]}" fuzz build "${build_flags[@]}" "$target"
done

if [ "$mode" = minimise ]; then
    mkdir -p logs
    for target in "${targets[@]}"; do
        mkdir -p "corpus/$target" "seeds/$target"
        # cmin keeps, of everything in the directory, the smallest set with the same coverage.
        cp -n "seeds/$target"/* "corpus/$target"/ 2>/dev/null || true
        before=$(ls "corpus/$target" | wc -l)
        cargo "${toolchain[@]}" fuzz cmin "${build_flags[@]}" "$target" "corpus/$target" -- \
            -rss_limit_mb=512 -max_len=65536 >"logs/$target.cmin.log" 2>&1 \
            || { echo "!!! $target: cmin failed (see fuzz/logs/$target.cmin.log)" >&2; exit 1; }
        rm -f "seeds/$target"/*
        cp "corpus/$target"/* "seeds/$target"/
        echo "=== $target: $before inputs minimised to $(ls "seeds/$target" | wc -l) in seeds/$target ===" >&2
    done
    exit 0
fi

mkdir -p logs
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    dirs=("corpus/$target")
    if [ -d "seeds/$target" ]; then
        dirs+=("seeds/$target")
    fi
    echo "=== fuzzing $target for ${seconds}s ===" >&2
    if ! cargo "${toolchain[@]}" fuzz run "${build_flags[@]}" "$target" "${dirs[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 -print_final_stats=1 \
        2>&1 | tee "logs/$target.log"; then
        echo "!!! $target: FINDING (see fuzz/artifacts/$target/ and fuzz/logs/$target.log)" >&2
        status=1
        continue
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$target.log" | grep -o '[0-9]*$' || true)
    echo "=== $target: no finding in ${seconds}s, ${execs:-?} executions ===" >&2
done
exit "$status"
