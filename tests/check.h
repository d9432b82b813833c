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
            fprintf(stderr,                                                    \
                    "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n",      \
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
            fprintf(stderr, "%s:%d: EXPECT(%d) reached as step %d\n",          \
                    __FILE__, __LINE__, (n), s_);                              \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define FINISH(n)                                                              \
    do {                                                                       \
        EXPECT(n);                                                             \
    } while (0)

#define CHECK_STEPS(n) CHECK_EQ(check_step_, (n))

/* A row of a misuse table: the call returns the code kin.h documents, and
 * the current error has that code and a message holding `words` (what a
 * reader needs to see). check_cases_ counts the rows. */
static int check_cases_ __attribute__((unused));

#define MISUSE(call, code, words)                                              \
    do {                                                                       \
        kin_clear_error();                                                     \
        int rc_ = (call);                                                      \
        check_cases_++;                                                        \
        if (rc_ != (code)) {                                                   \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %s\n", __FILE__, \
                    __LINE__, #call, rc_, kin_strerror(rc_), #code);           \
            exit(1);                                                           \
        }                                                                      \
        const char *m_ = kin_error_message(kin_last_error());                  \
        if (!kin_last_error() || kin_error_code(kin_last_error()) != (code) || \
            !strstr(m_, (words))) {                                            \
            fprintf(stderr, "%s:%d: %s: message \"%s\" lacks \"%s\"\n",        \
                    __FILE__, __LINE__, #call, m_, (words));                   \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* A misuse row for functions that answer false/NULL rather than a code. */
#define QUIET(expr)                                                            \
    do {                                                                       \
        check_cases_++;                                                        \
        CHECK(expr);                                                           \
    } while (0)

/* Big iteration counts shrink under tools that slow everything down:
 * ThreadSanitizer (x50), AddressSanitizer (x10), or the divisor in the
 * environment variable KIN_TEST_SCALE (CI sets it for Valgrind). */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHECK_TOOL_DIVISOR 50
#elif __has_feature(address_sanitizer)
#define CHECK_TOOL_DIVISOR 10
#endif
#endif
#if !defined(CHECK_TOOL_DIVISOR) && defined(__SANITIZE_THREAD__)
#define CHECK_TOOL_DIVISOR 50
#endif
#if !defined(CHECK_TOOL_DIVISOR) && defined(__SANITIZE_ADDRESS__)
#define CHECK_TOOL_DIVISOR 10
#endif
#ifndef CHECK_TOOL_DIVISOR
#define CHECK_TOOL_DIVISOR 1
#endif

static inline long test_scale(long n) {
    long d = CHECK_TOOL_DIVISOR;
    const char *env = getenv("KIN_TEST_SCALE");
    if (env && atol(env) > 0)
        d *= atol(env);
    return n / d > 0 ? n / d : 1;
}

/* For tests that keep n coroutines parked at once: under ThreadSanitizer
 * each one costs about five memory mappings (its fiber's shadow stack and
 * the shadow of kin's stack), so the kernel's map limit (65530) caps them
 * near 12000; take 5000 there. */
static inline long test_scale_parked(long n) {
#if CHECK_TOOL_DIVISOR == 50
    n /= 4;
#endif
    return test_scale(n);
}

/* Memory measurements mean something only without a tool in the process
 * (sanitizers keep their own metadata and quarantines). */
static inline int test_measures_memory(void) {
    return CHECK_TOOL_DIVISOR == 1 && !getenv("KIN_TEST_SCALE");
}

/* The message of the current error, for checks. */
static inline const char *last_message(void) {
    return kin_error_message(kin_last_error());
}

#endif
