#!/usr/bin/env bash
# Every example once in real time (the example_* tests use virtual time):
# each must print its expected output. Run in parallel, two at a time.
exdir="$1"; src="$2"; emu="$3"
fail=0
tmp=$(mktemp -d)
for exp in "$src"/expected/*.stdout "$src"/expected-kin/*.stdout; do
    name=$(basename "$exp" .stdout)
    [ -x "$exdir/$name" ] || continue
    env=""
    [ "$name" = s004_cancel_flows_down ] && env="KIN_DEFAULT_THREADS=1"
    ( env $env $emu "$exdir/$name" >"$tmp/$name.out" 2>/dev/null
      cmp -s "$tmp/$name.out" "$exp" || echo "$name" >>"$tmp/failed" ) &
    [ $(jobs -p | wc -l) -ge 2 ] && wait -n 2>/dev/null || true
done
wait
if [ -f "$tmp/failed" ]; then
    echo "wall-clock output differs: $(cat "$tmp/failed" | tr '\n' ' ')"
    fail=1
fi
rm -rf "$tmp"
exit $fail
