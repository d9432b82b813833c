#!/usr/bin/env bash
# kin's examples/http_server against a Go net/http hello server
# (bench/peers/go/http) under wrk on loopback: for each of -c100 and -c1000
# (-t2, DURATION each), Go then kin, the whole set ROUNDS times; prints a
# table of requests/s and latency p50/p99 (wrk --latency) and kin/Go ratios
# of the mean requests/s. Installs nothing: needs wrk and go (Debian:
# apt-get install -y wrk golang-go) and a built BUILD_DIR/examples/http_server
# (make BUILD_DIR=...). Every run stops by itself; the servers are stopped
# with SIGTERM at the end.
#
#   bench/http_vs_go.sh [BUILD_DIR] [DURATION] [ROUNDS]   (build 10s 2)
#
# Environment: KIN_PORT, GO_PORT (18080, 18081), CONNS ("100 1000").
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
dur=${2:-10s}
rounds=${3:-2}
kin_port=${KIN_PORT:-18080}
go_port=${GO_PORT:-18081}
conns=${CONNS:-100 1000}

for tool in wrk go; do
    command -v $tool >/dev/null || { echo "http_vs_go.sh: $tool not found (apt-get install -y wrk golang-go)" >&2; exit 2; }
done
kin_exe=$build/examples/http_server
[ -x "$kin_exe" ] || { echo "http_vs_go.sh: $kin_exe not built" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

out=$build/http-vs-go
mkdir -p "$out"
(cd "$repo/bench/peers/go" &&
    GOCACHE="$out/cache" GOPATH="$out/gopath" GOFLAGS= GO111MODULE=on \
    GOPROXY=off GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 \
    go build -trimpath -buildvcs=false -o "$out/http_hello" ./http)

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
"$kin_exe" "$kin_port" >"$out/kin.log" 2>&1 &
pids+=($!)
"$out/http_hello" "$go_port" >"$out/go.log" 2>&1 &
pids+=($!)
for port in $kin_port $go_port; do # wait until both answer
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
done

# wrk's latency in ms ("812.00us", "1.23ms", "1.10s")
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }

printf '%-5s %-6s %-5s %12s %9s %9s\n' round conns srv 'req/s' 'p50 ms' 'p99 ms'
declare -A sum
for r in $(seq "$rounds"); do
    for c in $conns; do
        for srv in go kin; do
            port=$go_port; [ $srv = kin ] && port=$kin_port
            log="$out/wrk-$srv-c$c-r$r.txt"
            wrk -t2 -c"$c" -d"$dur" --latency "http://127.0.0.1:$port/" >"$log" 2>&1 || true
            rps=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
            p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")
            p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
            errs=$(grep -E 'Socket errors|Non-2xx' "$log" | tr -s ' ' | tr '\n' ';' || true)
            printf '%-5s %-6s %-5s %12s %9s %9s  %s\n' "$r" "$c" $srv "${rps:-?}" "$p50" "$p99" "$errs"
            sum[$srv$c]=$(awk -v a="${sum[$srv$c]:-0}" -v b="${rps:-0}" 'BEGIN { print a + b }')
        done
    done
done
for c in $conns; do
    awk -v k="${sum[kin$c]}" -v g="${sum[go$c]}" -v c="$c" -v n="$rounds" 'BEGIN {
        printf "-c%-5s mean req/s: kin %.0f, Go %.0f, kin/Go %.2fx\n", c, k / n, g / n, g ? k / g : 0 }'
done
echo "(logs in $out)"
