#!/bin/sh
# Renders the API reference: include/kin.h, with README.md as the main page
# and docs/guide.md as a page, to BUILD_DIR/docs/html.
# Usage: scripts/docs.sh BUILD_DIR
# Fails if doxygen reports an undocumented public symbol, or if a function
# that kin.h exports is missing from the reference (doxygen leaves out, and
# does not warn about, what it does not see as documented).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
if ! command -v doxygen >/dev/null 2>&1; then
    echo "docs: doxygen not found (Debian: apt-get install -y doxygen)" >&2
    exit 2
fi
mkdir -p "$1/docs" || exit 2
out=$(cd "$1/docs" && pwd)
header="$root/include/kin.h"
version=$(sed -n 's/^#define KIN_VERSION_STRING "\(.*\)"$/\1/p' "$header")

rm -rf "$out/html"
KIN_SOURCE_DIR="$root" KIN_DOCS_DIR="$out" KIN_VERSION="$version" \
    doxygen "$root/docs/Doxyfile" || exit 1
log="$out/warnings.log"

failed=0
if [ -s "$log" ]; then
    echo "doxygen warnings ($(wc -l <"$log")):"
    sed "s#$root/##" "$log"
fi
undocumented=$(grep -c 'is not documented' "$log")
if [ "$undocumented" -ne 0 ]; then
    echo "docs: $undocumented undocumented public symbols"
    failed=1
fi

# Every exported function must have its entry in the file's page.
page="$out/html/kin_8h.html"
if [ ! -f "$page" ]; then
    echo "docs: no reference page for kin.h: its comments are not doxygen" \
        "comments (/** ... */), or the file has no @file comment"
    failed=1
else
    missing=""
    for fn in $(sed -n 's/^KIN_EXPORT [^(]*[ *]\(kin_[a-z0-9_]*\)(.*/\1/p' "$header"); do
        # Listed as a link to its details, or in bold when it has only a
        # brief description; undocumented members are not listed at all.
        grep -q -e ">$fn</a>" -e "<b>$fn</b>" "$page" ||
            missing="$missing $fn"
    done
    if [ -n "$missing" ]; then
        echo "docs: functions missing from the reference:$missing"
        failed=1
    fi
fi

if [ "$failed" -ne 0 ]; then
    echo "docs: FAILED (output in $out/html)"
    exit 1
fi
echo "docs: $out/html/index.html (every public symbol documented)"
