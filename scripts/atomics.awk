# atomics.awk: executed atomic read-modify-write instructions (lock-prefixed,
# xchg with memory, mfence) of one object, from a callgrind profile made with
# --dump-instr=yes. Each costs a full store-buffer drain (~6 ns on the 2-core
# EPYC guest of the README's table, against ~0.1 ns for a plain instruction),
# so on a fast path they, not instruction counts, often set the speed.
# Usage: objdump -d --no-show-raw-insn OBJ | awk -v obj=OBJ -v n=OPS \
#            -f scripts/atomics.awk - CALLGRIND_OUT
# Prints the count per op. POSIX awk (mawk): hex is parsed by hand.
function hex(s,    i, c, v) {
    v = 0
    s = tolower(s)
    sub(/^0x/, "", s)
    for (i = 1; i <= length(s); i++) {
        c = index("0123456789abcdef", substr(s, i, 1)) - 1
        if (c < 0) break
        v = v * 16 + c
    }
    return v
}
function pos(tok, last) {
    if (tok ~ /^0x/) return hex(tok)
    if (tok ~ /^\+/) { tok = substr(tok, 2); return last + (tok ~ /^0x/ ? hex(tok) : tok + 0) }
    if (tok ~ /^-/) { tok = substr(tok, 2); return last - (tok ~ /^0x/ ? hex(tok) : tok + 0) }
    if (tok == "*") return last
    return hex(tok)
}
# First input: the disassembly. "  4a2c1:	lock cmpxchg %ecx,(%rdx)"
FNR == NR {
    if ($1 ~ /^[0-9a-f]+:$/) {
        ins = $2
        if (ins == "lock" || ins == "mfence" || (ins ~ /^xchg/ && $0 ~ /\(/))
            atomic[hex(substr($1, 1, length($1) - 1))] = 1
    }
    next
}
# Second input: the profile.
/^ob=/ {
    id = $1; sub(/^ob=/, "", id)
    if (NF > 1) { nm = $0; sub(/^ob=\([0-9]+\) /, "", nm); obname[id] = nm }
    o = obname[id]; b = obj; sub(/.*\//, "", o); sub(/.*\//, "", b)
    inobj = (o == b) # by file name: the profile may name it absolutely
    next
}
/^calls=/ { skip = 1; next }
/^[0-9+*-]/ {
    last = pos($1, last)
    if (skip) { skip = 0; next }
    if (inobj && (last in atomic)) total += $3
    next
}
END { printf "%.2f\n", (n > 0 ? total / n : 0) }
