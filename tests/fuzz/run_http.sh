#!/bin/sh
# Builds the libFuzzer target tests/fuzz/fuzz_http.c (the HTTP request
# parser of examples/http_server.c, examples/http_parse.h) with clang
# -fsanitize=fuzzer,address,undefined and fuzzes it for SECONDS seconds from
# tests/fuzz/corpus_http (not modified: new inputs go to
# BUILD_DIR/corpus_http). Exit status as tests/fuzz/run.sh: 0 if nothing was
# found, else libFuzzer's (the input is saved in BUILD_DIR/artifacts_http/).
#
#   tests/fuzz/run_http.sh BUILD_DIR [SECONDS]      (default 60)
#
# Environment: CC (default clang, else clang-14), FUZZ_FLAGS.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [SECONDS]" >&2
    exit 2
fi
build=$1
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)

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
    echo "run_http.sh: clang not found (set CC)" >&2
    exit 2
fi
mkdir -p "$build/corpus_http" "$build/artifacts_http"
build=$(cd "$build" && pwd)
"$cc" -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    "$here/fuzz_http.c" -o "$build/fuzz_http"
echo "run_http.sh: built $build/fuzz_http with $cc"

log="$build/fuzz_http.log"
set +e
# shellcheck disable=SC2086
"$build/fuzz_http" -max_total_time="$secs" -print_final_stats=1 \
    -max_len=20000 -timeout=10 -artifact_prefix="$build/artifacts_http/" \
    -dict="$here/http.dict" ${FUZZ_FLAGS:-} \
    "$build/corpus_http" "$here/corpus_http" >"$log" 2>&1
rc=$?
set -e
grep -v -e '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)' "$log" | tail -30
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "run_http.sh: ${execs:-?} executions in $secs s (exit status $rc; log in $log)"
exit $rc
