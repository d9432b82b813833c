#!/bin/sh
# examples/http_server checked with a real client, curl: GET /, two
# requests on one kept-alive connection, 404, 405, then SIGTERM: the server
# must exit 0 by itself. Exit 77 (CTest: skipped) when curl is missing.
#
#   tests/http_curl.sh PATH/TO/http_server
set -u
exe=$1
command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
tmp=$(mktemp -d)
fail() { echo "FAIL: $*"; kill -TERM "$pid" 2>/dev/null; rm -rf "$tmp"; exit 1; }

"$exe" 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^http server listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || fail "no port in: $(cat "$tmp/out" "$tmp/err")"
url=http://127.0.0.1:$port
c="curl -sS --max-time 5"

body=$($c "$url/") || fail "GET / failed"
[ "$body" = hello ] || fail "GET / answered '$body'"
echo "GET /: hello"

$c -v "$url/" "$url/" >"$tmp/two" 2>"$tmp/two.err" || fail "two GETs failed"
[ "$(cat "$tmp/two")" = "$(printf 'hello\nhello')" ] || fail "two GETs: $(cat "$tmp/two")"
grep -qi "re-using existing connection" "$tmp/two.err" ||
    fail "curl did not reuse the connection: $(cat "$tmp/two.err")"
echo "keep-alive: two requests on one connection"

code=$($c -o /dev/null -w '%{http_code}' "$url/missing")
[ "$code" = 404 ] || fail "GET /missing: $code"
echo "GET /missing: 404"
code=$($c -o /dev/null -w '%{http_code}' -X POST -d x "$url/")
[ "$code" = 405 ] || fail "POST /: $code"
echo "POST /: 405"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[ $rc = 0 ] || fail "exit status $rc after SIGTERM: $(cat "$tmp/err")"
grep -q "^received SIGTERM" "$tmp/out" || fail "no SIGTERM line: $(cat "$tmp/out")"
grep -q "^server stopped: 4 connections, 5 responses, 0 open$" "$tmp/out" ||
    fail "$(tail -1 "$tmp/out")"
echo "SIGTERM: exit 0, $(tail -1 "$tmp/out")"
rm -rf "$tmp"
