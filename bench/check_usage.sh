#!/bin/sh
# kin-bench with an unknown scenario, a missing or non-numeric N, or N <= 0
# prints its usage and exits 2.
bench="$1"
fail=0
for args in "" "spawn" "nosuch 10" "spawn abc" "spawn 0" "spawn -5" "spawn 10 0" "spawn 10x" "spawn 10 2 3"; do
    # shellcheck disable=SC2086
    ${KIN_TEST_EMULATOR:-} "$bench" $args >/dev/null 2>/tmp/kin-bench-usage.$$
    rc=$?
    if [ $rc -ne 2 ] || ! grep -q "usage: kin-bench SCENARIO N" /tmp/kin-bench-usage.$$; then
        echo "kin-bench $args: exit $rc, want 2 with the usage"
        fail=1
    fi
done
rm -f /tmp/kin-bench-usage.$$
exit $fail
