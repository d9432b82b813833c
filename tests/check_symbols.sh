#!/bin/sh
# The shared library exports only kin_ symbols (the one export macro and
# hidden visibility for everything else).
lib="$1"
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^kin_' | grep -v '^_init$\|^_fini$')
if [ -n "$bad" ]; then
    echo "symbols exported from $lib that do not start with kin_:"
    echo "$bad"
    exit 1
fi
count=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^kin_')
echo "$count kin_ symbols exported, nothing else"
[ "$count" -gt 50 ]
