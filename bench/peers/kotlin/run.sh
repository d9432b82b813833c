#!/bin/sh
# Run the kotlinx.coroutines peer:  run.sh SCENARIO N [REPS]
# Prints one line per repetition:   SCENARIO n=N check=C ms=M ns/op=X
# Environment:
#   BENCH_BUILD_DIR  where build.sh put the jar (default <repo>/build/bench-peers)
#   BENCH_THREADS=1  spawn_cpu on a one-thread pool instead of Dispatchers.Default
#   JAVA_OPTS        replaces the JVM flags below
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build_dir=${BENCH_BUILD_DIR:-$repo/build/bench-peers}
cp_file="$build_dir/kotlin/classpath"
if [ ! -f "$cp_file" ]; then
    echo "kotlin peer: not built ($cp_file missing); run bench/peers/kotlin/build.sh first" >&2
    exit 3
fi
# Flags that give the JVM its best on these scenarios (see bench/peers/README.md):
# the throughput (Parallel) collector, fastest for allocate-and-drop work, and a
# heap whose 3 GiB young generation holds a whole repetition of park/cancel at
# N=1,000,000 (a million live coroutines), so few objects are ever copied.
# Heap pages are touched only as they are used, so -Xms does not inflate RSS.
: "${JAVA_OPTS:=-Xms4g -Xmx8g -Xmn3g -XX:+UseParallelGC}"
# shellcheck disable=SC2086
exec java $JAVA_OPTS -cp "$(cat "$cp_file")" BenchKt "$@"
