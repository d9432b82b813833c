#!/usr/bin/env bash
# Run every scenario on each peer, keep the best repetition (of three
# processes for the short scenarios), measure peak RSS,
# check the check values, and print a table.
#
# Usage: bench/peers/run-all.sh [--quick] [--reps R] [--peers "kotlin go"] [SCENARIO...]
#   --quick        the small N of each scenario (all three systems within a minute)
#   --reps R       repetitions per process (default 5; park and timers 3,
#                  or 2 with --quick)
#   --peers LIST   which peers to run (default: "kotlin go", plus "kin" when KIN_BENCH is set)
#   SCENARIO...    a subset (default: all); spawn_cpu runs twice, one worker and all
# Environment:
#   BENCH_BUILD_DIR  where the peers were built (default <repo>/build/bench-peers)
#   KIN_BENCH        path to kin's own bench program (same interface); adds a "kin" column
#   N_<scenario>     overrides N for one scenario, e.g. N_park=200000
# Raw output of each run goes to $BENCH_BUILD_DIR/results/<peer>-<scenario>.{out,err,time}.
# Exit status: 0 all checks right; 1 a run failed or a check was wrong; 3 a peer is not built.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-$repo/build/bench-peers}

quick=0 reps_opt="" peers="" scenarios=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --reps) reps_opt=$2; shift ;;
        --peers) peers=$2; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        -*) echo "run-all: unknown option $1" >&2; exit 2 ;;
        *) scenarios+=("$1") ;;
    esac
    shift
done
[ -n "$peers" ] || { peers="kotlin go"; [ -n "${KIN_BENCH:-}" ] && peers="kin $peers"; }
[ ${#scenarios[@]} -gt 0 ] || scenarios=(spawn spawn_mt spawn_cpu yield async park timers cancel supervise with_context chan_pingpong chan_buffered chan_mpmc mutex mutex_pthread io_ready echo_1 echo_1000 idle_10k flow_chain)

# N per scenario:         full     quick
declare -A FULL=( [spawn]=1000000 [spawn_mt]=1000000 [spawn_cpu]=100000 [yield]=1000000
                  [async]=1000000 [park]=1000000 [timers]=1000000 [cancel]=1000000
                  [supervise]=1000000 [with_context]=100000 [mutex]=1000000
                  [chan_pingpong]=1000000 [chan_buffered]=1000000 [chan_mpmc]=1000000
                  [mutex_pthread]=1000000 [io_ready]=100000 [echo_1]=30000
                  [echo_1000]=30000 [idle_10k]=10000 [flow_chain]=1000000 )
declare -A QUICK=( [spawn]=100000 [spawn_mt]=100000 [spawn_cpu]=20000 [yield]=100000
                   [async]=100000 [park]=100000 [timers]=100000 [cancel]=100000
                   [supervise]=100000 [with_context]=10000 [mutex]=100000
                   [chan_pingpong]=100000 [chan_buffered]=100000 [chan_mpmc]=100000
                   [mutex_pthread]=100000 [io_ready]=20000 [echo_1]=5000
                   [echo_1000]=5000 [idle_10k]=10000 [flow_chain]=100000 )

# Cells that are not measured, and why (printed once; the cell reads n/a):
# mutex_pthread is C with pthreads, the floor of the mutex row, run by
# kin's bench program only; Debian's kotlinx.coroutines 1.0.1 Mutex fails
# on its contended path (NoSuchFieldError: _state, see README.md).
not_measured() {   # peer scenario threads -> reason, or nothing
    case "$1:$2:$3" in
        kotlin:mutex_pthread:* | go:mutex_pthread:*) echo "a pthread mutex in C: kin's bench program runs it" ;;
        kotlin:mutex:all) echo "kotlinx.coroutines 1.0.1's Mutex fails when contended (NoSuchFieldError: _state)" ;;
        kotlin:io_ready:* | kotlin:echo_*:* | kotlin:idle_10k:*) echo "no Kotlin peer for sockets (Ktor is not packaged in Debian)" ;;
        kotlin:flow_chain:*) echo "Debian's kotlinx.coroutines 1.0.1 predates Flow (1.2)" ;;
    esac
}

peer_cmd() {
    case "$1" in
        kotlin) echo "$here/kotlin/run.sh" ;;
        go) echo "$here/go/run.sh" ;;
        kin) echo "${KIN_BENCH:?KIN_BENCH is not set}" ;;
        *) echo "run-all: unknown peer $1" >&2; exit 2 ;;
    esac
}

expected() {   # expected check value for scenario $1 at N=$2
    local n=$2
    case "$1" in
        yield) echo $((2 * n)) ;;
        async) echo $((n * (n - 1) / 2)) ;;
        supervise) echo $((n - (n + 9) / 10)) ;;
        flow_chain) echo $((n / 2)) ;;
        *) echo "$n" ;;
    esac
}

TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "run-all: $TIME not found (apt-get install -y time); peak RSS needs it" >&2; exit 3; }
busy_ticks() {   # CPU time used by the whole machine so far, in clock ticks
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
b0=$(busy_ticks); sleep 1; b1=$(busy_ticks)
others=$(awk -v a="$b0" -v b="$b1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
echo "run-all: $(nproc) cores; other processes use $others cores before the start$(awk -v o="$others" 'BEGIN { if (o >= 0.2) print " -- the machine is busy, figures will be noisy" }')" >&2
results="$BENCH_BUILD_DIR/results"
mkdir -p "$results"
status=0 missing=0
rows=()

for sc in "${scenarios[@]}"; do
    if [ -z "${FULL[$sc]:-}" ]; then echo "run-all: unknown scenario $sc" >&2; exit 2; fi
    var="N_$sc"
    n=${!var:-$([ $quick = 1 ] && echo "${QUICK[$sc]}" || echo "${FULL[$sc]}")}
    if [ "$sc" = idle_10k ]; then
        # Both ends of every connection live in the one process: 2N + 64
        # descriptors, and the hard limit cannot be raised inside some
        # containers (this one: 20,000). (echo_1000's N counts requests
        # over its 1,000 connections: it needs 2,064.)
        hard=$(ulimit -Hn)
        if [ "$hard" != unlimited ] && [ $((2 * n + 64)) -gt "$hard" ]; then
            n=$(((hard - 64) / 2))
            echo "run-all: $sc: N lowered to $n (RLIMIT_NOFILE hard limit $hard)" >&2
        fi
    fi
    if [ $quick = 1 ]; then
        reps=${reps_opt:-$(case $sc in park|timers|echo_*|idle_10k) echo 2 ;; *) echo 5 ;; esac)}
    else
        reps=${reps_opt:-$(case $sc in park|timers|echo_*) echo 3 ;; idle_10k) echo 2 ;; *) echo 5 ;; esac)}
    fi
    # Short scenarios run in three processes, best of all: on a VM whose
    # virtual CPUs are not equal (here one shares its physical core with
    # other guests: a plain loop runs 0.31 ns/iteration on one and up to
    # 0.53 on the other; ping-pong 56 against 86 ns), a process mostly stays
    # on the CPU it starts on, about half the time the slow one, so a single
    # process can measure the host rather than the runtime. Every peer gets
    # the same three chances.
    procs=3
    case "$sc" in park | timers | cancel | echo_* | idle_10k | with_context | spawn_cpu) procs=1 ;; esac
    [ $quick = 1 ] && procs=1
    variants=("")
    case "$sc" in spawn_cpu | mutex | mutex_pthread) variants=(1 all) ;; esac
    for threads in "${variants[@]}"; do
        label=$sc; [ -n "$threads" ] && label="$sc ($threads worker$([ "$threads" = 1 ] || echo s))"
        row="| $label | $n |"
        rss_row=""
        for peer in $peers; do
            why=$(not_measured "$peer" "$sc" "$threads")
            if [ -n "$why" ]; then
                echo "run-all: $peer $label: not measured: $why" >&2
                row="$row n/a |"
                rss_row="$rss_row n/a |"
                continue
            fi
            cmd=$(peer_cmd "$peer")
            tag="$peer-$sc${threads:+-$threads}"
            start=$(date +%s.%N)
            b0=$(busy_ticks)
            : >"$results/$tag.out"; : >"$results/$tag.err"; : >"$results/$tag.time"
            rc=0
            for proc in $(seq 1 "$procs"); do
                if [ "$threads" = 1 ]; then
                    BENCH_THREADS=1 "$TIME" -v -o "$results/$tag.time.$proc" "$cmd" "$sc" "$n" "$reps" \
                        >>"$results/$tag.out" 2>>"$results/$tag.err"
                else
                    env -u BENCH_THREADS "$TIME" -v -o "$results/$tag.time.$proc" "$cmd" "$sc" "$n" "$reps" \
                        >>"$results/$tag.out" 2>>"$results/$tag.err"
                fi
                r=$?
                [ $rc -ne 0 ] || rc=$r
                cat "$results/$tag.time.$proc" >>"$results/$tag.time"
                rm -f "$results/$tag.time.$proc"
            done
            b1=$(busy_ticks)
            wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
            # Cores used by other processes meanwhile: the machine's busy time
            # less this run's own user + system time, over the wall time.
            others=$(awk -F': ' -v a="$b0" -v b="$b1" -v hz="$hz" -v w="$wall" '
                /User time|System time/ { own += $2 }
                END { if (w < 0.5) { print "?"; exit }   # too short for clock ticks
                      o = ((b - a) / hz - own) / w; if (o < 0) o = 0; printf "%.2f", o }' "$results/$tag.time")
            want=$(expected "$sc" "$n")
            best=$(awk -v sc="$sc" -v n="$n" -v want="$want" '
                $1 == sc && $2 == "n=" n && $3 == "check=" want && $4 ~ /^ms=/ && $5 ~ /^ns\/op=/ {
                    ok++; ms = substr($4, 4) + 0; ns = substr($5, 7)
                    if (best == "" || ms < bestms) { bestms = ms; best = ns }
                }
                END { if (ok > 0 && ok == NR) print best; else print "BAD" }' "$results/$tag.out")
            rss=$(awk -F': ' '/Maximum resident set size/ { if ($2 > m) m = $2 } END { printf "%.0f", m / 1024 }' "$results/$tag.time")
            cancel_only=""
            if [ "$sc" = cancel ]; then
                cancel_only=$(awk '/^cancel-only ms:/ { v = $3 + 0; if (b == "" || v < b) b = v } END { print b }' "$results/$tag.err")
            fi
            if [ $rc -eq 3 ]; then
                echo "run-all: $peer is not built; see $results/$tag.err" >&2
                missing=1; best="n/a"; rss="n/a"
            elif [ $rc -ne 0 ] || [ "$best" = BAD ]; then
                echo "run-all: $peer $sc N=$n failed (exit $rc) or printed a wrong check (want $want); see $results/$tag.*" >&2
                status=1; best="FAIL"
            fi
            printf 'run-all: %-6s %-23s N=%-8s best ns/op=%-10s peak RSS=%5s MiB  (%.1f s; others %s cores)%s\n' \
                "$peer" "$label" "$n" "$best" "$rss" "$wall" "$others" "${cancel_only:+  cancel-only best ms=$cancel_only}" >&2
            row="$row $best |"
            rss_row="$rss_row $rss |"
        done
        rows+=("$row$rss_row")
    done
done

header="| scenario | N |"; rule="|---|---:|"
for peer in $peers; do header="$header $peer ns/op |"; rule="$rule---:|"; done
for peer in $peers; do header="$header $peer peak RSS MiB |"; rule="$rule---:|"; done
echo "$header"
echo "$rule"
printf '%s\n' "${rows[@]}"
[ $status -eq 0 ] && [ $missing -eq 1 ] && status=3
exit $status
