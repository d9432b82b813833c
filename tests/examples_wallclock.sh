#!/usr/bin/env bash
# Every example in real time (the example_* tests use virtual time): each
# must print its expected output. Run in parallel, two at a time. The seeds'
# timings leave a margin of 100 ms or more between events; an example that
# differs is run twice more, one at a time, and fails only if it differs
# every time (a loaded machine can stall a process past a margin, which no
# semantics explains; a real difference shows every time).
exdir="$1"; src="$2"; emu="$3"
fail=0
tmp=$(mktemp -d)
for exp in "$src"/expected/*.stdout "$src"/expected-kin/*.stdout; do
    name=$(basename "$exp" .stdout)
    [ -x "$exdir/$name" ] || continue
    env=""
    [ "$name" = s004_cancel_flows_down ] && env="KIN_DEFAULT_THREADS=1"
    ( env $env $emu "$exdir/$name" >"$tmp/$name.out" 2>/dev/null
      cmp -s "$tmp/$name.out" "$exp" || echo "$name" >>"$tmp/differed" ) &
    [ $(jobs -p | wc -l) -ge 2 ] && wait -n 2>/dev/null || true
done
wait
for name in $(cat "$tmp/differed" 2>/dev/null); do
    exp="$src/expected/$name.stdout"
    [ -f "$exp" ] || exp="$src/expected-kin/$name.stdout"
    env=""
    [ "$name" = s004_cancel_flows_down ] && env="KIN_DEFAULT_THREADS=1"
    same=0
    for try in 1 2; do
        env $env $emu "$exdir/$name" >"$tmp/$name.out" 2>/dev/null
        if cmp -s "$tmp/$name.out" "$exp"; then same=1; break; fi
    done
    if [ $same = 1 ]; then
        echo "$name: differed once, then matched (a timing slip)"
    else
        echo "$name" >>"$tmp/failed"
        diff "$exp" "$tmp/$name.out" | head -20
    fi
done
if [ -f "$tmp/failed" ]; then
    echo "wall-clock output differs: $(cat "$tmp/failed" | tr '\n' ' ')"
    fail=1
fi
rm -rf "$tmp"
exit $fail
