#!/usr/bin/env bash
# make bench: kin against kotlinx.coroutines and Go, in one run.
#
#   scripts/bench.sh BUILD_DIR [--quick]
#
# 1. Builds the peers (bench/peers/), installing Debian's kotlin,
#    libkotlinx-coroutines-java, libkotlinx-atomicfu-java, golang-go and time
#    when they are missing and this is root with apt-get; otherwise it says
#    which peer it skips.
# 2. Runs every scenario on kin and each peer (bench/peers/run-all.sh: best
#    repetition, peak RSS from /usr/bin/time, checks verified).
# 3. Counts kin's instructions per op under callgrind (only the timed region;
#    stable on a noisy machine) and kin's mallocs per op.
# 4. Prints one table: ns/op and peak RSS per system, kin's speed-up over
#    each peer (peer ns/op divided by kin ns/op), instructions, mallocs and
#    minor page faults per op for kin (faults: the first repetition, on
#    fresh memory, and the best one), and the cancel-only times.
set -u
build=${1:?usage: scripts/bench.sh BUILD_DIR [--quick]}
shift
quick=""
[ "${1:-}" = "--quick" ] && quick="--quick"
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
kin_bench="$build/bench/kin-bench"
kin_cg="$build/bench/kin-bench-callgrind"
peers_dir="$repo/bench/peers"
export BENCH_BUILD_DIR="$build/bench-peers"
mkdir -p "$BENCH_BUILD_DIR"

[ -x "$kin_bench" ] || { echo "bench: $kin_bench is not built" >&2; exit 1; }

# ---- peers --------------------------------------------------------------------
need_pkgs=""
command -v kotlinc >/dev/null 2>&1 || need_pkgs="$need_pkgs kotlin"
[ -f /usr/share/java/kotlinx-coroutines-core.jar ] || need_pkgs="$need_pkgs libkotlinx-coroutines-java"
[ -f /usr/share/java/atomicfu.jar ] || need_pkgs="$need_pkgs libkotlinx-atomicfu-java"
command -v go >/dev/null 2>&1 || need_pkgs="$need_pkgs golang-go"
[ -x /usr/bin/time ] || need_pkgs="$need_pkgs time"
command -v wrk >/dev/null 2>&1 || need_pkgs="$need_pkgs wrk"
if [ -n "$need_pkgs" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench: installing$need_pkgs" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq $need_pkgs >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $need_pkgs >/dev/null 2>&1; } ||
            echo "bench: could not install$need_pkgs" >&2
    else
        echo "bench: missing$need_pkgs (not root: cannot install them)" >&2
    fi
fi
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed for peak RSS (apt-get install -y time)" >&2; exit 1; }

peers="kin"
if "$peers_dir/kotlin/build.sh" "$BENCH_BUILD_DIR" >"$BENCH_BUILD_DIR/kotlin-build.log" 2>&1; then
    peers="$peers kotlin"
else
    echo "bench: SKIPPING kotlinx.coroutines: its build failed or kotlinc is missing (see $BENCH_BUILD_DIR/kotlin-build.log)" >&2
fi
if "$peers_dir/go/build.sh" "$BENCH_BUILD_DIR" >"$BENCH_BUILD_DIR/go-build.log" 2>&1; then
    peers="$peers go"
else
    echo "bench: SKIPPING Go: its build failed or go is missing (see $BENCH_BUILD_DIR/go-build.log)" >&2
fi

# ---- wall time and memory -------------------------------------------------------
table="$BENCH_BUILD_DIR/run-all.table"
KIN_BENCH="$kin_bench" "$peers_dir/run-all.sh" $quick --peers "$peers" >"$table"
status=$?
results="$BENCH_BUILD_DIR/results"

# ---- instructions and mallocs per op (kin) --------------------------------------
declare -A INSTR ATOMICS MALLOCS
# the binary's disassembly, for the atomic instructions per op (scripts/atomics.awk)
dis="$BENCH_BUILD_DIR/kin-bench-callgrind.dis"
[ -x "$kin_cg" ] && command -v objdump >/dev/null 2>&1 && objdump -d --no-show-raw-insn "$kin_cg" >"$dis" 2>/dev/null
cg_n() { case "$1" in spawn_cpu) echo 2000 ;; with_context) echo 2000 ;; park|timers) echo 20000 ;; *) echo 100000 ;; esac; }
for sc in spawn spawn_mt spawn_cpu yield async park timers cancel supervise with_context chan_pingpong chan_buffered chan_mpmc mutex flow_chain; do
    n=$(cg_n "$sc")
    if [ -x "$kin_cg" ] && command -v valgrind >/dev/null 2>&1 && [ "$sc" != park ] && [ "$sc" != timers ]; then
        out="$BENCH_BUILD_DIR/callgrind.$sc"
        valgrind --tool=callgrind --dump-instr=yes --instr-atstart=no --callgrind-out-file="$out" \
            "$kin_cg" "$sc" "$n" 1 >/dev/null 2>"$out.log"
        ir=$(awk '/^totals:/ { print $2 }' "$out")
        INSTR[$sc]=$(awk -v ir="${ir:-0}" -v n="$n" 'BEGIN { if (ir > 0) printf "%.0f", ir / n; else print "n/a" }')
        [ -s "$dis" ] && ATOMICS[$sc]=$(awk -v obj="$kin_cg" -v n="$n" -f "$repo/scripts/atomics.awk" "$dis" "$out")
    else
        INSTR[$sc]="n/a" # park/timers wait in real time: the count is the same as spawn's plus a timer
    fi
    # The second repetition is the steady state (pools and caches warm).
    m=$(KIN_BENCH_MALLOC=1 "$kin_bench" "$sc" "$n" 2 2>&1 >/dev/null | awk '/mallocs\/op:/ { v = $3 } END { print v }')
    MALLOCS[$sc]=${m:-n/a}
done

# ---- the table ------------------------------------------------------------------
# The machine: CPU, cores, kernel and virtualization (page faults and
# timer costs differ by 10x between hosts; a table is read with them).
hv=$(lscpu 2>/dev/null | awk -F': *' '/^Hypervisor vendor/ { print $2; exit }')
ct=$(systemd-detect-virt --container 2>/dev/null || true)
virt="${hv:+$hv guest}"
[ -n "$ct" ] && [ "$ct" != none ] && virt="${virt:+$virt, }$ct container"
machine="$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }'), $(nproc) cores, Linux $(uname -r)${virt:+, $virt}"
echo
echo "kin $(awk -F'"' '/KIN_VERSION_STRING/ { print $2 }' "$repo/include/kin.h") benchmarks, $(date -u +%Y-%m-%d), $machine"
echo "command: make bench${quick:+ QUICK=1}; speed-up = peer ns/op / kin ns/op (higher is better for kin)"
echo
hdr="| scenario | N | kin ns/op |"
rule="|---|---:|---:|"
for p in $peers; do [ "$p" = kin ] || { hdr="$hdr $p ns/op | kin vs $p |"; rule="$rule---:|---:|"; }; done
hdr="$hdr kin instr/op | kin atomics/op | kin mallocs/op | kin faults/op (first, best rep) |"
rule="$rule---:|---:|---:|---:|"
for p in $peers; do hdr="$hdr $p RSS MiB |"; rule="$rule---:|"; done
echo "$hdr"
echo "$rule"
# run-all's table: | label | N | <peer ns/op>... | <peer RSS>... |
tail -n +3 "$table" | while IFS= read -r line; do
    IFS='|' read -r -a f <<<"$line"
    label=$(echo "${f[1]}" | xargs); n=$(echo "${f[2]}" | xargs)
    declare -A NS RSS
    i=3
    for p in $peers; do NS[$p]=$(echo "${f[$i]}" | xargs); i=$((i + 1)); done
    for p in $peers; do RSS[$p]=$(echo "${f[$i]}" | xargs); i=$((i + 1)); done
    sc=${label%% *}
    row="| $label | $n | ${NS[kin]} |"
    for p in $peers; do
        [ "$p" = kin ] && continue
        ratio=$(awk -v a="${NS[$p]}" -v b="${NS[kin]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else print "n/a" }')
        row="$row ${NS[$p]} | $ratio |"
    done
    # minflt/op of kin's first repetition and of its best (fastest) one
    tag=kin-$sc
    case "$label" in *"(1 worker)"*) tag=$tag-1 ;; *"(all workers)"*) tag=$tag-all ;; esac
    faults=$(awk '$4 ~ /^ms=/ && $6 ~ /^minflt\/op=/ {
            ms = substr($4, 4) + 0; f = substr($6, 11)
            if (first == "") first = f
            if (best == "" || ms < bestms) { bestms = ms; best = f }
        }
        END { if (first != "") printf "%s, %s", first, best; else print "n/a" }' "$results/$tag.out" 2>/dev/null)
    row="$row ${INSTR[$sc]:-n/a} | ${ATOMICS[$sc]:-n/a} | ${MALLOCS[$sc]:-n/a} | ${faults:-n/a} |"
    for p in $peers; do row="$row ${RSS[$p]} |"; done
    echo "$row"
done
echo
# The I/O scenarios' own figures (kin and Go print one extra line per
# repetition: requests/s and latency, the overhead of a ready wait, bytes
# per idle connection); the last repetition's.
for sc in io_ready echo_1 echo_1000 idle_10k; do
    for p in kin go; do
        f="$results/$p-$sc.err"
        [ -f "$f" ] && line=$(grep -v '^$' "$f" | tail -n 1) && [ -n "$line" ] && echo "$p $sc: $line"
    done
done
for p in $peers; do
    f="$results/$p-cancel.err"
    [ -f "$f" ] && awk -v p="$p" '/^cancel-only ms:/ { v = $3 + 0; if (b == "" || v < b) b = v } END { if (b != "") printf "cancel-only (cancel + join of the parent alone), %s: %.1f ms\n", p, b }' "$f"
done

# The first repetition of the million-coroutine scenarios, on fresh memory:
# what a program that does it once pays. The table's best repetition reuses
# what the first one faulted in, and a first touch of a page costs 10x more
# on some hosts than on others (kin holds a stack page per parked coroutine,
# Go about a quarter of that).
for sc in park timers cancel; do
    line="first repetition (fresh memory), $sc:"
    for p in $peers; do
        ms=$(awk '$4 ~ /^ms=/ { printf "%.0f", substr($4, 4); exit }' "$results/$p-$sc.out" 2>/dev/null)
        [ -n "$ms" ] && ms="$ms ms" || ms=n/a
        line="$line $p $ms,"
    done
    echo "${line%,}"
done

# ---- HTTP under wrk ---------------------------------------------------------------
# examples/http_server against Go's net/http hello server, wrk -t2 at 100 and
# 1,000 connections (bench/http_vs_go.sh): a real client nobody here wrote.
if [ -x "$build/examples/http_server" ] && command -v wrk >/dev/null 2>&1 &&
    command -v go >/dev/null 2>&1; then
    echo
    echo "HTTP/1.1 keep-alive, GET /, wrk -t2 (bench/http_vs_go.sh):"
    if [ -n "$quick" ]; then
        bash "$repo/bench/http_vs_go.sh" "$build" 3s 1 || status=1
    else
        bash "$repo/bench/http_vs_go.sh" "$build" 20s 1 || status=1
    fi
else
    echo "bench: SKIPPING HTTP under wrk: needs wrk, go and $build/examples/http_server" >&2
fi
exit $status
