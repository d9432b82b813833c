/*
 * context.h — switching between coroutine stacks.
 *
 * A context is the saved state of a suspended stack. Backends:
 *   context_x86_64.S   x86-64 System V: rbx, rbp, r12-r15, rsp, MXCSR and the
 *                      x87 control word (callee-saved per the ABI).
 *   context_aarch64.S  AArch64 AAPCS64: x19-x30, sp, d8-d15, FPCR.
 *   context_ucontext.c the portable fallback (POSIX ucontext), much slower:
 *                      swapcontext saves the signal mask with a system call.
 * CMake picks one (KIN_CONTEXT=auto|asm|ucontext).
 *
 * kin__ctx_switch saves the running state into *from and resumes *to; it
 * returns when something later switches back to *from. kin__ctx_make prepares
 * a fresh context that, on its first resume, calls entry(arg) on the given
 * stack; entry must never return (a finished coroutine switches away for the
 * last time instead).
 *
 * This layer knows nothing of sanitizers or Valgrind; scheduler.c wraps every
 * switch with those annotations.
 */
#ifndef KIN_CONTEXT_H
#define KIN_CONTEXT_H

#include <stddef.h>

#if defined(KIN_CONTEXT_UCONTEXT)
#include <ucontext.h>
typedef struct kin__ctx {
    ucontext_t uc;
} kin__ctx;
#else
typedef struct kin__ctx {
    void *sp; /* the saved stack pointer; registers live on that stack */
} kin__ctx;
#endif

typedef void (*kin__ctx_entry)(void *arg);

/* Where a suspended context's saved state begins on its stack (for
 * prefetching before a resume), or NULL if unknown. */
static inline const void *kin__ctx_sp(const kin__ctx *ctx) {
#if defined(KIN_CONTEXT_UCONTEXT)
    (void)ctx;
    return NULL;
#else
    return ctx->sp;
#endif
}

void kin__ctx_switch(kin__ctx *from, kin__ctx *to);

/* stack_lo/stack_size describe the usable stack (it grows down from
 * stack_lo + stack_size). */
void kin__ctx_make(kin__ctx *ctx, void *stack_lo, size_t stack_size,
                   kin__ctx_entry entry, void *arg);

#endif
