/*
 * check.h — the tests' assertions. A failed check prints the expression with
 * its file and line and exits non-zero. EXPECT(n) pins the order of events
 * the way kotlinx.coroutines' own tests do with expect(n): each numbered
 * step must be reached exactly in sequence, and FINISH(n) checks the last.
 */
#ifndef KIN_TEST_CHECK_H
#define KIN_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kin.h>

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",  \
                    __FILE__, __LINE__, #a, #b, a_, b_);                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",            \
                    b_ ? b_ : "(null)");                                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static int check_step_ __attribute__((unused));

#define EXPECT(n)                                                              \
    do {                                                                       \
        int s_ = ++check_step_;                                                \
        if (s_ != (n)) {                                                       \
            fprintf(stderr, "%s:%d: EXPECT(%d) reached as step %d\n",         \
                    __FILE__, __LINE__, (n), s_);                              \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define FINISH(n)                                                              \
    do {                                                                       \
        EXPECT(n);                                                             \
    } while (0)

#define CHECK_STEPS(n) CHECK_EQ(check_step_, (n))

/* The message of the current error, for checks. */
static inline const char *last_message(void) {
    return kin_error_message(kin_last_error());
}

#endif
