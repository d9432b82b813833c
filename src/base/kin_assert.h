/*
 * kin_assert.h — internal assertions and compiler hints.
 *
 * KIN__ASSERT is on in debug builds (NDEBUG unset) and costs nothing in
 * release builds. An assertion failure means a bug in kin, never bad input:
 * bad input is reported through return codes.
 */
#ifndef KIN_ASSERT_H
#define KIN_ASSERT_H

#ifdef NDEBUG
#define KIN__ASSERT(cond) ((void)0)
#else
#define KIN__ASSERT(cond)                                                      \
    ((cond) ? (void)0 : kin__assert_fail(#cond, __FILE__, __LINE__))
#endif

#define KIN__LIKELY(x) __builtin_expect(!!(x), 1)
#define KIN__UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Prints "kin: internal error: COND (FILE:LINE)" and aborts. */
__attribute__((noreturn)) void kin__assert_fail(const char *cond,
                                                const char *file, int line);

/* Prints "kin: MESSAGE" on stderr with write(2) (async-signal-safe) and
 * aborts. */
__attribute__((noreturn)) void kin__fatal(const char *msg);

#endif
