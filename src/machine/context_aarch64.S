/*
 * context_aarch64.S — context switch for AArch64 (AAPCS64).
 *
 * Callee-saved: x19-x28, the frame pointer x29, the link register x30, sp,
 * the low 64 bits of v8-v15 (d8-d15), and the FPCR control register.
 *
 * Saved frame, at the saved stack pointer:
 *     +0   x19 x20   +16 x21 x22   +32 x23 x24   +48 x25 x26
 *     +64  x27 x28   +80 x29 x30   +96 d8 d9     +112 d10 d11
 *     +128 d12 d13   +144 d14 d15  +160 fpcr     (176 bytes in all)
 */
    .text
    .globl kin__ctx_switch
    .hidden kin__ctx_switch
    .type kin__ctx_switch, %function
    .p2align 4
kin__ctx_switch:
    /* x0 = from, x1 = to */
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x10, fpcr
    str x10, [sp, #160]
    mov x9, sp
    str x9, [x0]
    ldr x9, [x1]
    mov sp, x9
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    /* Writing FPCR can be slow (it may synchronise the FP pipeline) and
     * is rarely needed: only when the saved value differs from ours. */
    ldr x9, [sp, #160]
    cmp x9, x10
    b.eq 1f
    msr fpcr, x9
1:
    add sp, sp, #176
    ret
    .size kin__ctx_switch, .-kin__ctx_switch

/* First code on a fresh stack: entry in x20, its argument in x19. */
    .globl kin__ctx_trampoline
    .hidden kin__ctx_trampoline
    .type kin__ctx_trampoline, %function
    .p2align 4
kin__ctx_trampoline:
    mov x29, #0
    mov x0, x19
    blr x20
    brk #0
    .size kin__ctx_trampoline, .-kin__ctx_trampoline

    .section .note.GNU-stack,"",%progbits
