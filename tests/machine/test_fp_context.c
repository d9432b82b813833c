/* The context switch saves what the ABI makes callee-saved, including the
 * floating-point control state (MXCSR and the x87 control word on x86-64,
 * FPCR on AArch64): each coroutine keeps its own rounding mode across
 * suspension points, and callee-saved registers survive switches. */
#include <fenv.h>

#include "check.h"

#if defined(__x86_64__)
/* The x87 control word and MXCSR are compared and loaded separately by the
 * switch (only when they differ): change each alone. */
static uint16_t x87_cw(void) {
    uint16_t cw;
    __asm__ __volatile__("fnstcw %0" : "=m"(cw));
    return cw;
}

static void set_x87_cw(uint16_t cw) {
    __asm__ __volatile__("fldcw %0" : : "m"(cw));
}

static uint32_t mxcsr(void) {
    uint32_t v;
    __asm__ __volatile__("stmxcsr %0" : "=m"(v));
    return v;
}

static void set_mxcsr(uint32_t v) {
    __asm__ __volatile__("ldmxcsr %0" : : "m"(v));
}

#define X87_PRECISION_SINGLE 0x0000u /* PC bits 8-9 = 00 */
#define X87_PC_MASK 0x0300u
#define MXCSR_FLUSH_TO_ZERO 0x8000u

static int x87_only(void *arg) {
    (void)arg;
    uint16_t cw = (uint16_t)((x87_cw() & ~X87_PC_MASK) | X87_PRECISION_SINGLE);
    uint32_t m = mxcsr();
    set_x87_cw(cw);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(kin_yield(), 0);
        CHECK_EQ(x87_cw(), cw);
        CHECK_EQ(mxcsr() & ~0x3fu, m & ~0x3fu); /* control bits unchanged */
    }
    return 0;
}

static int mxcsr_only(void *arg) {
    (void)arg;
    uint16_t cw = x87_cw();
    uint32_t m = (mxcsr() | MXCSR_FLUSH_TO_ZERO) & ~0x3fu;
    set_mxcsr(m);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(kin_yield(), 0);
        CHECK_EQ(mxcsr() & ~0x3fu, m);
        CHECK_EQ(x87_cw(), cw);
    }
    return 0;
}
#endif

static int towards_zero(void *arg) {
    (void)arg;
    CHECK_EQ(fegetround(), FE_TONEAREST); /* starts with the creator's */
    CHECK_EQ(fesetround(FE_TOWARDZERO), 0);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(kin_yield(), 0);
        CHECK_EQ(fegetround(), FE_TOWARDZERO);
        volatile double x = 1.0, y = 3.0;
        volatile double q = x / y;
        CHECK(q * 3.0 < 1.0); /* rounded down */
    }
    return 0;
}

static int upward(void *arg) {
    (void)arg;
    CHECK_EQ(fesetround(FE_UPWARD), 0);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(kin_yield(), 0);
        CHECK_EQ(fegetround(), FE_UPWARD);
    }
    return 0;
}

/* Many live values across a switch: the compiler keeps some in callee-saved
 * registers, which the switch must preserve. */
static int registers(void *arg) {
    long seed = (long)arg;
    long a = seed * 3, b = seed * 5, c = seed * 7, d = seed * 11, e = seed * 13,
         f = seed * 17;
    double x = (double)seed * 1.5, y = (double)seed * 2.5;
    for (int i = 0; i < 50; i++) {
        CHECK_EQ(kin_yield(), 0);
        a += 1, b += 2, c += 3, d += 4, e += 5, f += 6;
        x += 0.5, y += 0.25;
    }
    CHECK_EQ(a, seed * 3 + 50);
    CHECK_EQ(b, seed * 5 + 100);
    CHECK_EQ(c, seed * 7 + 150);
    CHECK_EQ(d, seed * 11 + 200);
    CHECK_EQ(e, seed * 13 + 250);
    CHECK_EQ(f, seed * 17 + 300);
    CHECK(x == (double)seed * 1.5 + 25.0);
    CHECK(y == (double)seed * 2.5 + 12.5);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, towards_zero, NULL));
    KIN_TRY(kin_launch(NULL, NULL, upward, NULL));
    for (long i = 1; i <= 4; i++)
        KIN_TRY(kin_launch(NULL, NULL, registers, (void *)i));
#if defined(__x86_64__)
    uint16_t cw = x87_cw();
    uint32_t m = mxcsr() & ~0x3fu;
    KIN_TRY(kin_launch(NULL, NULL, x87_only, NULL));
    KIN_TRY(kin_launch(NULL, NULL, mxcsr_only, NULL));
#endif
    for (int i = 0; i < 150; i++) {
        KIN_TRY(kin_yield());
        CHECK_EQ(fegetround(), FE_TONEAREST); /* ours is untouched */
#if defined(__x86_64__)
        CHECK_EQ(x87_cw(), cw);
        CHECK_EQ(mxcsr() & ~0x3fu, m);
#endif
    }
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(fegetround(), FE_TONEAREST);
    return 0;
}
