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

# Runs example $1 once; true if it printed its expected output $2.
run_matches() {
    local env=""
    [ "$1" = s004_cancel_flows_down ] && env="KIN_DEFAULT_THREADS=1"
    env $env $emu "$exdir/$1" >"$tmp/$1.out" 2>/dev/null
    cmp -s "$tmp/$1.out" "$2"
}

for exp in "$src"/expected/*.stdout "$src"/expected-kin/*.stdout; do
    name=$(basename "$exp" .stdout)
    [ -x "$exdir/$name" ] || continue
    ( run_matches "$name" "$exp" || echo "$name" >>"$tmp/differed" ) &
    [ $(jobs -p | wc -l) -ge 2 ] && wait -n 2>/dev/null || true
done
wait
for name in $(cat "$tmp/differed" 2>/dev/null); do
    exp="$src/expected/$name.stdout"
    [ -f "$exp" ] || exp="$src/expected-kin/$name.stdout"
    same=0
    for try in 1 2; do
        if run_matches "$name" "$exp"; then same=1; break; fi
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
