#!/bin/sh
# The tour: runs every example with a one-line header before each.
build=${1:-build}
for src in examples/*.c; do
    name=$(basename "$src" .c)
    exe="$build/examples/$name"
    [ -x "$exe" ] || continue
    title=$(sed -n 's#^/\* *\(.*\)$#\1#p;q' "$src")
    echo "=== $name — $title"
    "$exe"
    echo
done
