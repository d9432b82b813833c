/*
 * context_asm.c — builds the first frame of a fresh stack for the assembly
 * backends (context_x86_64.S, context_aarch64.S). The frame is laid out
 * exactly as kin__ctx_switch saves one, so the first switch to it "returns"
 * into kin__ctx_trampoline, which calls entry(arg).
 */
#include <stdint.h>
#include <string.h>

#include "machine/context.h"

void kin__ctx_trampoline(void);

#if defined(__x86_64__)

void kin__ctx_make(kin__ctx *ctx, void *stack_lo, size_t stack_size,
                   kin__ctx_entry entry, void *arg) {
    uintptr_t top = ((uintptr_t)stack_lo + stack_size) & ~(uintptr_t)15;
    /* A zero return address above the trampoline's frame ends backtraces;
     * after `ret` pops the trampoline address, rsp = top - 16, aligned. */
    uint64_t *sp = (uint64_t *)(top - 16 - 64);
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
    __asm__ __volatile__("fnstcw %0" : "=m"(fpucw));
    /* Fresh coroutines start with the creating thread's FP control state;
     * every word of the 80 bytes is written once (no memset first). */
    sp[0] = (uint64_t)mxcsr | (uint64_t)fpucw << 32;
    sp[1] = 0;                          /* r15 */
    sp[2] = 0;                          /* r14 */
    sp[3] = (uint64_t)(uintptr_t)entry; /* r13 */
    sp[4] = (uint64_t)(uintptr_t)arg;   /* r12 */
    sp[5] = 0;                          /* rbx */
    sp[6] = 0;                          /* rbp */
    sp[7] = (uint64_t)(uintptr_t)kin__ctx_trampoline;
    sp[8] = 0; /* the zero return address that ends backtraces */
    sp[9] = 0;
    ctx->sp = sp;
}

#elif defined(__aarch64__)

void kin__ctx_make(kin__ctx *ctx, void *stack_lo, size_t stack_size,
                   kin__ctx_entry entry, void *arg) {
    uintptr_t top = ((uintptr_t)stack_lo + stack_size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 176);
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    memset(sp, 0, 176);
    sp[0] = (uint64_t)(uintptr_t)arg;                  /* x19 */
    sp[1] = (uint64_t)(uintptr_t)entry;                /* x20 */
    sp[10] = 0;                                        /* x29 */
    sp[11] = (uint64_t)(uintptr_t)kin__ctx_trampoline; /* x30 */
    sp[20] = fpcr;
    ctx->sp = sp;
}

#else
#error "assembly context backend selected for an unsupported architecture"
#endif
