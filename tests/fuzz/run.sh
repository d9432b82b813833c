#!/bin/sh
# Builds the libFuzzer target tests/fuzz/fuzz_program.c with clang
# (-fsanitize=fuzzer,address; the library compiled with
# -fsanitize=fuzzer-no-link,address) and fuzzes it for SECONDS seconds,
# starting from tests/fuzz/corpus (which it does not modify: new inputs go
# to BUILD_DIR/corpus). Prints the number of executions. Exit status: 0 if
# nothing was found, else libFuzzer's (the crashing input is saved in
# BUILD_DIR/artifacts/ and printed with its program and traces).
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]      (default 60)
#
# Environment: CC (default clang, else clang-14), FUZZ_FLAGS (more libFuzzer
# flags, e.g. -jobs=4), KIN_MODEL_IGNORE (see
# fuzz_program.c).
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [SECONDS]" >&2
    exit 2
fi
build=$1
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

cc=${CC:-}
if [ -z "$cc" ]; then
    for c in clang clang-14; do
        if command -v "$c" >/dev/null 2>&1; then
            cc=$c
            break
        fi
    done
fi
if [ -z "$cc" ]; then
    echo "run.sh: clang not found (set CC)" >&2
    exit 2
fi

mkdir -p "$build/obj" "$build/corpus" "$build/artifacts"
build=$(cd "$build" && pwd)

# Is libFuzzer there? (Debian: clang + libclang-rt-NN-dev)
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)'\
' { (void)d; (void)n; return 0; }\n' >"$build/obj/probe.c"
if ! "$cc" -fsanitize=fuzzer,address "$build/obj/probe.c" \
    -o "$build/obj/probe" 2>"$build/obj/probe.log"; then
    echo "run.sh: $cc cannot link with -fsanitize=fuzzer (libFuzzer is" \
        "missing; on Debian install libclang-rt-14-dev):" >&2
    cat "$build/obj/probe.log" >&2
    exit 2
fi

# The library's sources: the list in CMakeLists.txt (set(KIN_SOURCES ...),
# up to its closing parenthesis alone on a line; the epoll poller: not the
# io_uring files of KIN_POLLER_SOURCES; no fault injection: fault.c), with
# the assembly context switch of this machine.
srcs=$(sed -n '/^set(KIN_SOURCES/,/^)/p' "$top/CMakeLists.txt" |
    grep -v '^ *#' | grep -o 'src/[A-Za-z0-9_/]*\.c' |
    grep -v '/fault\.c$' || true)
if [ -z "$srcs" ]; then
    srcs=$(cd "$top" && ls src/*/*.c |
        grep -v -e '/context_' -e '/fault\.c$' -e 'uring\.c$')
fi
defs="-D_GNU_SOURCE -DKIN_NO_LAUNCH_SITES"
case $(uname -m) in
x86_64 | amd64) ctx="src/machine/context_x86_64.S src/machine/context_asm.c" ;;
aarch64 | arm64) ctx="src/machine/context_aarch64.S src/machine/context_asm.c" ;;
*)
    ctx="src/machine/context_ucontext.c"
    defs="$defs -DKIN_CONTEXT_UCONTEXT"
    ;;
esac
if [ -f /usr/include/valgrind/valgrind.h ]; then
    defs="$defs -DKIN_HAVE_VALGRIND"
fi
cflags="-g -O1 -std=c11 -fno-omit-frame-pointer -Wall -Wextra -Werror"
warn="-Wshadow -Wstrict-prototypes -Wmissing-prototypes"
objs=""
for s in $srcs $ctx; do
    o="$build/obj/$(echo "$s" | tr / _).o"
    # shellcheck disable=SC2086
    "$cc" $cflags $defs -fsanitize=fuzzer-no-link,address \
        -I"$top/include" -I"$top/src" -c "$top/$s" -o "$o"
    objs="$objs $o"
done
# shellcheck disable=SC2086
"$cc" $cflags $warn -D_GNU_SOURCE -fsanitize=fuzzer,address -I"$top/include" \
    "$here/fuzz_program.c" $objs -lpthread -lm -o "$build/fuzz_program"
echo "run.sh: built $build/fuzz_program with $cc"

log="$build/fuzz.log"
set +e
# shellcheck disable=SC2086
"$build/fuzz_program" -max_total_time="$secs" -print_final_stats=1 \
    -timeout=60 -rss_limit_mb=4096 -artifact_prefix="$build/artifacts/" \
    ${FUZZ_FLAGS:-} "$build/corpus" "$here/corpus" >"$log" 2>&1
rc=$?
set -e
grep -v -e '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)' "$log" | tail -40
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "run.sh: ${execs:-?} executions in $secs s (exit status $rc; log in $log)"
exit $rc
