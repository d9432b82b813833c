#!/bin/sh
# Run the Go peer:  run.sh SCENARIO N [REPS]
# Prints one line per repetition:   SCENARIO n=N check=C ms=M ns/op=X
# One-thread scenarios run with GOMAXPROCS=1, the others with every core;
# BENCH_THREADS=1 runs spawn_cpu and mutex with GOMAXPROCS=1.
# Environment:
#   BENCH_BUILD_DIR  where build.sh put the binary (default <repo>/build/bench-peers)
#   GOGC, GOMEMLIMIT default to off and 8GiB (see below); set them to override
#   GOMAXPROCS is always chosen here, per scenario
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
    spawn|yield|async|park|timers|cancel|supervise|chan_pingpong|chan_buffered) GOMAXPROCS=1 ;;
    spawn_cpu|mutex) if [ "${BENCH_THREADS:-}" = 1 ]; then GOMAXPROCS=1; else GOMAXPROCS=$(nproc); fi ;;
    *) GOMAXPROCS=$(nproc) ;;
esac
export GOMAXPROCS
# The same heap budget the JVM peer gets (-Xmx8g with a young generation big
# enough that a repetition rarely collects): no proportional GC, collect only
# near 8 GiB. Saves 10-40% on park, cancel, timers and async at N=1,000,000,
# where each GC cycle scans a million goroutine stacks. The program still runs a
# full GC between repetitions, untimed, as the Kotlin peer does.
: "${GOGC:=off}" "${GOMEMLIMIT:=8GiB}"
export GOGC GOMEMLIMIT
exec "$bin" "$@"
