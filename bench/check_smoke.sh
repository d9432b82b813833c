#!/bin/sh
# Every scenario at a tiny N prints one line per repetition with the right
# check value.
bench="$1"
fail=0
n=200
for sc in spawn spawn_mt spawn_cpu yield async park timers cancel supervise with_context suspend chan_pingpong chan_buffered mutex io_ready echo_1 echo_1000 idle_10k flow_chain; do
    case $sc in
        yield | suspend) want=$((2 * n)) ;;
        async) want=$((n * (n - 1) / 2)) ;;
        supervise) want=$((n - (n + 9) / 10)) ;;
        flow_chain) want=$((n / 2)) ;;
        *) want=$n ;;
    esac
    out=$(${KIN_TEST_EMULATOR:-} "$bench" $sc $n 2 2>/dev/null)
    lines=$(printf '%s\n' "$out" | grep -c "^$sc n=$n check=$want ms=[0-9.]* ns/op=[0-9.]* minflt/op=[0-9.]*$")
    if [ "$lines" -ne 2 ]; then
        echo "kin-bench $sc $n 2: want two lines with check=$want, got:"
        printf '%s\n' "$out"
        fail=1
    fi
done
exit $fail
