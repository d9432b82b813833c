/*
 * context_x86_64.S — context switch for x86-64 System V.
 *
 * The ABI makes rbx, rbp, r12-r15 and rsp callee-saved, plus the control
 * bits of MXCSR and the x87 control word. kin__ctx_switch is an ordinary
 * call, so the caller already saved everything else.
 *
 * Saved frame, at the saved stack pointer (low address first):
 *     +0   MXCSR (4 bytes), x87 control word (2 bytes), pad
 *     +8   r15
 *     +16  r14
 *     +24  r13
 *     +32  r12
 *     +40  rbx
 *     +48  rbp
 *     +56  return address
 */
    .text
    .globl kin__ctx_switch
    .hidden kin__ctx_switch
    .type kin__ctx_switch, @function
    .p2align 4
kin__ctx_switch:
    /* rdi = from, rsi = to */
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movl (%rsp), %eax       /* our FP control state, to compare below */
    movzwl 4(%rsp), %ecx    /* (loads of the stores' own widths forward) */
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    /* ldmxcsr and fldcw cost several cycles each and are rarely needed
     * (coroutines of one thread almost always share one FP state): load
     * them only when the saved state differs from the current one. */
    cmpl (%rsp), %eax
    jne 2f
    cmpw 4(%rsp), %cx
    jne 2f
1:
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
2:
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    jmp 1b
    .cfi_endproc
    .size kin__ctx_switch, .-kin__ctx_switch

/*
 * First code run on a fresh stack: kin__ctx_make left entry in r13 and its
 * argument in r12. The stack is 16-byte aligned here, as the ABI wants
 * before a call.
 */
    .globl kin__ctx_trampoline
    .hidden kin__ctx_trampoline
    .type kin__ctx_trampoline, @function
    .p2align 4
kin__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size kin__ctx_trampoline, .-kin__ctx_trampoline

    .section .note.GNU-stack,"",@progbits
