/*
 * context_ucontext.c — the portable context backend: POSIX makecontext /
 * swapcontext. Correct everywhere ucontext exists, but each switch saves and
 * restores the signal mask with a system call, so it is an order of magnitude
 * slower than the assembly backends. Selected with KIN_CONTEXT=ucontext, or
 * automatically on architectures without an assembly backend.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/kin_assert.h"
#include "machine/context.h"

/* makecontext passes int arguments only: split the pointers in two. */
static void trampoline(unsigned e_hi, unsigned e_lo, unsigned a_hi,
                       unsigned a_lo) {
    kin__ctx_entry entry =
        (kin__ctx_entry)(uintptr_t)(((uint64_t)e_hi << 32) | (uint64_t)e_lo);
    void *arg = (void *)(uintptr_t)(((uint64_t)a_hi << 32) | (uint64_t)a_lo);
    entry(arg);
    kin__fatal("internal error: a coroutine entry returned");
}

void kin__ctx_make(kin__ctx *ctx, void *stack_lo, size_t stack_size,
                   kin__ctx_entry entry, void *arg) {
    if (getcontext(&ctx->uc) != 0)
        kin__fatal("getcontext failed");
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = stack_size;
    ctx->uc.uc_link = NULL;
    uint64_t e = (uint64_t)(uintptr_t)entry, a = (uint64_t)(uintptr_t)arg;
    makecontext(&ctx->uc, (void (*)(void))trampoline, 4, (unsigned)(e >> 32),
                (unsigned)(e & 0xffffffffu), (unsigned)(a >> 32),
                (unsigned)(a & 0xffffffffu));
}

void kin__ctx_switch(kin__ctx *from, kin__ctx *to) {
    if (swapcontext(&from->uc, &to->uc) != 0)
        kin__fatal("swapcontext failed");
}
