#!/bin/sh
# Checks the code of the guide. Usage: docs/check_snippets.sh BUILD_DIR
#
# 1. Every docs/snippets/NAME.c is a complete program. It must compile
#    against include/ and BUILD_DIR/libkin.a with -Wall -Wextra -Werror, run
#    within 10 s and exit 0. If docs/snippets/NAME.out exists, the program's
#    stdout must equal it.
# 2. Every ```c block of docs/guide.md and README.md follows a line
#    <!-- snippet: NAME.c --> and is a verbatim excerpt of that file. A line
#    holding only "/* ... */" stands for omitted code: the pieces around it
#    must appear in the file in that order.
# 3. Every block after a line <!-- output: NAME --> equals
#    docs/snippets/NAME.out.
# CC picks the compiler (default cc).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd) || exit 2
lib="$build/libkin.a"
if [ ! -f "$lib" ]; then
    echo "$lib not found: build kin first" >&2
    exit 2
fi
CC=${CC:-cc}
# The outputs and timings in the guide are those of real time.
unset KIN_VIRTUAL_TIME
snippets="$root/docs/snippets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

failed=0
count=0
for src in "$snippets"/*.c; do
    name=$(basename "$src" .c)
    count=$((count + 1))
    if ! $CC -std=c11 -Wall -Wextra -Werror -I"$root/include" "$src" "$lib" \
        -lpthread -o "$tmp/$name" 2>"$tmp/$name.cc"; then
        echo "FAIL $name: does not compile"
        cat "$tmp/$name.cc"
        failed=1
        continue
    fi
    start=$(date +%s)
    if (cd "$tmp" && timeout 10 "./$name" >"$name.stdout" 2>"$name.stderr"); then
        rc=0
    else
        rc=$?
    fi
    secs=$(($(date +%s) - start))
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && why="timed out after 10 s" || why="exit status $rc"
        echo "FAIL $name: $why"
        cat "$tmp/$name.stdout" "$tmp/$name.stderr"
        failed=1
        continue
    fi
    if [ -f "$snippets/$name.out" ] &&
        ! cmp -s "$snippets/$name.out" "$tmp/$name.stdout"; then
        echo "FAIL $name: stdout differs from $name.out"
        diff -u "$snippets/$name.out" "$tmp/$name.stdout"
        failed=1
        continue
    fi
    echo "ok   $name (${secs} s)"
done

# The code blocks of the guide and the README against the snippet files.
for doc in docs/guide.md README.md; do
if ! awk -v dir="$snippets" -v name="$doc" '
function slurp(path,    s, line, n, r) {
    s = ""; n = 0
    while ((r = (getline line < path)) > 0) { s = s line "\n"; n++ }
    close(path)
    if (r < 0) return "\001missing"
    return s
}
function bad(msg) { print "FAIL " name ":" start ": " msg; errors++ }
function check_code(    text, pos, i, rest, at) {
    text = slurp(dir "/" snippet)
    if (text == "\001missing") { bad("no file docs/snippets/" snippet); return }
    pos = 1
    for (i = 1; i <= nchunks; i++) {
        if (chunk[i] == "") continue
        rest = substr(text, pos)
        at = index(rest, chunk[i])
        if (at == 0) {
            bad("this block is not an excerpt of " snippet \
                " (piece " i " not found in order)")
            return
        }
        pos += at - 1 + length(chunk[i])
    }
    codeblocks++
}
function check_output(    text) {
    text = slurp(dir "/" output ".out")
    if (text == "\001missing") { bad("no file docs/snippets/" output ".out"); return }
    if (text != block) bad("this output differs from " output ".out")
    else outblocks++
}
/^<!-- snippet: [^ ]+ -->$/ { snippet = $3; next }
/^<!-- output: [^ ]+ -->$/  { output = $3; next }
!inblock && /^```/ {
    inblock = 1; start = NR; lang = substr($0, 4)
    block = ""; nchunks = 1; chunk[1] = ""
    next
}
inblock && /^```[ \t]*$/ {
    inblock = 0
    if (lang == "c") {
        if (snippet == "") bad("```c block without <!-- snippet: NAME.c -->")
        else check_code()
    } else if (output != "") {
        check_output()
    }
    snippet = ""; output = ""
    next
}
inblock {
    block = block $0 "\n"
    if ($0 ~ /^[ \t]*\/\* \.\.\. \*\/[ \t]*$/) chunk[++nchunks] = ""
    else chunk[nchunks] = chunk[nchunks] $0 "\n"
    next
}
END {
    if (inblock) { print "FAIL " name ": unclosed code block at line " start; errors++ }
    printf "%s: %d code blocks match their snippets, %d output blocks match\n", \
        name, codeblocks, outblocks
    exit errors > 0
}' "$root/$doc"; then
    failed=1
fi
done

if [ "$failed" -ne 0 ]; then
    echo "check_snippets: FAILED"
    exit 1
fi
echo "check_snippets: all $count snippets compile, run and print what the guide says"
