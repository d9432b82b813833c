#!/bin/sh
# check_layers.sh SRC_DIR — the arrows of docs/architecture.md point down.
#
# src/ has one folder per layer, bottom up:
#     base  machine  sched  job  api  sync  io  flow
# A file may include headers of its own layer and of the layers below it,
# always as "layer/file.h" (plus the public <kin.h>); never a header of a
# layer above it. A lower layer that must call up declares the function in
# its own header and the layer above defines it (sched/coro.h), so no
# include points up. Every source file must sit in a layer folder.
# Exits 1 and names each offending line.
set -u
src=${1:-$(dirname "$0")/../src}
layers="base machine sched job api sync io flow"

rank() {
    i=0
    for l in $layers; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}

bad=0
checked=0
for f in $(find "$src" -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' \) | sort); do
    rel=${f#"$src"/}
    layer=${rel%%/*}
    if [ "$layer" = "$rel" ] || [ "$(rank "$layer")" -lt 0 ]; then
        echo "$rel: not inside a layer folder ($layers)"
        bad=1
        continue
    fi
    own=$(rank "$layer")
    checked=$((checked + 1))
    # every quoted include, with its line number
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
        sed 's/^\([0-9]*\):.*"\(.*\)".*/\1 \2/' >"${TMPDIR:-/tmp}/kin_layers.$$"
    while read -r line inc; do
        [ "$inc" = "kin.h" ] && continue
        target=${inc%%/*}
        if [ "$target" = "$inc" ]; then
            echo "$rel:$line: #include \"$inc\": name the layer (\"layer/file.h\")"
            bad=1
            continue
        fi
        tr=$(rank "$target")
        if [ "$tr" -lt 0 ]; then
            echo "$rel:$line: #include \"$inc\": unknown layer '$target'"
            bad=1
        elif [ "$tr" -gt "$own" ]; then
            echo "$rel:$line: #include \"$inc\": $layer may not include $target (a layer above it)"
            bad=1
        elif [ ! -f "$src/$inc" ]; then
            echo "$rel:$line: #include \"$inc\": no such file"
            bad=1
        fi
    done <"${TMPDIR:-/tmp}/kin_layers.$$"
    rm -f "${TMPDIR:-/tmp}/kin_layers.$$"
done
if [ "$checked" -eq 0 ]; then
    echo "check_layers: no source files under $src"
    exit 1
fi
[ $bad -eq 0 ] && echo "check_layers: $checked files, every include points down or sideways"
exit $bad
