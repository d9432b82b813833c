#!/bin/sh
# Run the Go peer:  run.sh SCENARIO N [REPS]
# Prints one line per repetition:   SCENARIO n=N check=C ms=M ns/op=X
# One-thread scenarios run with GOMAXPROCS=1, the others with every core;
# BENCH_THREADS=1 runs spawn_cpu with GOMAXPROCS=1.
# Environment: BENCH_BUILD_DIR  where build.sh put the binary (default <repo>/build/bench-peers)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build_dir=${BENCH_BUILD_DIR:-$repo/build/bench-peers}
bin="$build_dir/go/bench"
if [ ! -x "$bin" ]; then
    echo "go peer: not built ($bin missing); run bench/peers/go/build.sh first" >&2
    exit 3
fi
case "${1:-}" in
    spawn|yield|async|park|timers|cancel|supervise) GOMAXPROCS=1 ;;
    spawn_cpu) if [ "${BENCH_THREADS:-}" = 1 ]; then GOMAXPROCS=1; else GOMAXPROCS=$(nproc); fi ;;
    *) GOMAXPROCS=$(nproc) ;;
esac
export GOMAXPROCS
exec "$bin" "$@"
