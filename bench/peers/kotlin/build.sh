#!/bin/sh
# Build the kotlinx.coroutines peer: Bench.kt -> BUILD_DIR/kotlin/bench.jar
# Usage: build.sh [BUILD_DIR]        (default: <repo>/build/bench-peers)
# Needs Debian's packages: kotlin libkotlinx-coroutines-java libkotlinx-atomicfu-java
# Exit status: 0 built; 3 kotlinc, java or a library jar is missing; 1 compile failed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build_dir=${1:-$repo/build/bench-peers}
jars=${KOTLINX_JARS:-/usr/share/java}
install_hint="apt-get install -y kotlin libkotlinx-coroutines-java libkotlinx-atomicfu-java"

if ! command -v kotlinc >/dev/null 2>&1; then
    echo "kotlin peer: kotlinc not found, so the Kotlin peer cannot be built." >&2
    echo "kotlin peer: install it with: $install_hint" >&2
    exit 3
fi
if ! command -v java >/dev/null 2>&1; then
    echo "kotlin peer: java not found; install a JDK (the kotlin package pulls one in)." >&2
    exit 3
fi
for j in kotlinx-coroutines-core.jar kotlinx-coroutines-core-common.jar atomicfu.jar; do
    if [ ! -f "$jars/$j" ]; then
        echo "kotlin peer: $jars/$j not found; install it with: $install_hint" >&2
        exit 3
    fi
done

mkdir -p "$build_dir/kotlin"
build_dir=$(cd "$build_dir" && pwd)
out="$build_dir/kotlin/bench.jar"
rm -f "$out" "$build_dir/kotlin/classpath"
echo "kotlin peer: kotlinc Bench.kt -> $out"
if ! kotlinc "$here/Bench.kt" -cp "$jars/kotlinx-coroutines-core.jar" \
        -Xuse-experimental=kotlinx.coroutines.ObsoleteCoroutinesApi \
        -include-runtime -d "$out"; then
    echo "kotlin peer: compile failed" >&2
    exit 1
fi
# The run-time classpath, recorded next to the jar for run.sh.
echo "$out:$jars/kotlinx-coroutines-core.jar:$jars/kotlinx-coroutines-core-common.jar:$jars/atomicfu.jar" \
    > "$build_dir/kotlin/classpath"
echo "kotlin peer: built $out"
