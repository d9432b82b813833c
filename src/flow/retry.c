/*
 * retry.c — retry with exponential backoff: kin_retry for a suspending
 * function and kin_flow_retry_backoff for a flow (a retry_when stage of
 * ops.c whose predicate sleeps the backoff delay).
 *
 * The delay before try k (k >= 1; try 0 is the first) is
 * min(base * factor^(k-1), max), scaled by a factor in [1-jitter,
 * 1+jitter] drawn from splitmix64(seed, k): a pure function of the seed
 * and k, so a flow's stage (shared by concurrent collects, immutable) needs
 * no mutable random state and a test with a seed sees exact delays. The
 * sleep is kin_delay: cancellable at once, virtual under kin_run_test.
 * Nothing here is shared between threads except the immutable options
 * copy a flow stage owns.
 */
#include <math.h>
#include <time.h>

#include "base/alloc.h"
#include "base/error.h"
#include "flow/flow.h"

typedef struct {
    uint32_t attempts;
    int64_t base_ms;
    double factor;
    int64_t max_ms;
    double jitter;
    uint64_t seed;
    kin_flow_retry_fn retry_if;
    void *arg;
} backoff;

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Fills b from opts (NULL: defaults); KIN_EINVAL with a message if bad. */
static int backoff_init(backoff *b, const kin_retry_opts *opts,
                        const char *who) {
    kin_retry_opts o = opts ? *opts : (kin_retry_opts){0};
    if (o.base_ms < 0 || o.max_ms < 0)
        return kin__misuse(KIN_EINVAL, "%s: negative delay in the options",
                           who);
    if (o.factor != 0 && !(o.factor >= 1.0 && isfinite(o.factor)))
        return kin__misuse(KIN_EINVAL, "%s: factor %g must be >= 1", who,
                           o.factor);
    if (!(o.jitter >= 0.0 && o.jitter <= 1.0))
        return kin__misuse(KIN_EINVAL, "%s: jitter %g must be in 0..1", who,
                           o.jitter);
    b->attempts = o.attempts ? o.attempts : 3;
    b->base_ms = o.base_ms ? o.base_ms : 100;
    b->factor = o.factor != 0 ? o.factor : 2.0;
    b->max_ms = o.max_ms;
    b->jitter = o.jitter;
    b->seed = o.seed;
    if (!b->seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        b->seed = splitmix64((uint64_t)ts.tv_nsec ^
                             ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)b);
        if (!b->seed)
            b->seed = 1;
    }
    b->retry_if = o.retry_if;
    b->arg = o.arg;
    return 0;
}

/* The delay before try k >= 1, in ms. */
static int64_t backoff_delay(const backoff *b, uint64_t k) {
    double cap = b->max_ms ? (double)b->max_ms : 9.0e15;
    double d = (double)b->base_ms;
    for (uint64_t i = 1; i < k && d < cap; i++)
        d *= b->factor;
    if (d > cap)
        d = cap;
    if (b->jitter > 0) {
        double u = (double)(splitmix64(b->seed + k) >> 11) / 9007199254740992.0;
        d *= 1.0 - b->jitter + 2.0 * b->jitter * u;
    }
    return (int64_t)(d + 0.5);
}

/* Whether try `attempt` (0-based) that failed with cause is retried: 1
 * after sleeping the delay, 0 no, negative a failure (of retry_if, or the
 * sleep's cancellation). */
static int backoff_next(const backoff *b, const kin_error *cause,
                        uint64_t attempt) {
    if (attempt + 1 >= b->attempts)
        return 0;
    if (kin_error_is_cancellation(cause))
        return 0;
    if (b->retry_if) {
        int r = b->retry_if(cause, attempt, b->arg);
        if (r <= 0)
            return r < 0 ? kin__flow_rc(r) : 0;
    }
    int rc = kin_delay(backoff_delay(b, attempt + 1));
    return rc < 0 ? rc : 1;
}

int kin_retry(const kin_retry_opts *opts, kin_fn fn, void *arg) {
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_retry: fn is NULL");
    if (!kin__running_job())
        return kin__misuse(KIN_ENOTCORO,
                           "kin_retry: called outside a coroutine");
    backoff b;
    KIN_TRY(backoff_init(&b, opts, "kin_retry"));
    for (uint64_t attempt = 0;; attempt++) {
        int rc = fn(arg);
        if (rc >= 0)
            return 0;
        rc = kin__flow_rc(rc);
        kin_error *cause = kin_error_retain(kin_last_error());
        int next = backoff_next(&b, cause, attempt);
        if (next > 0) {
            kin_error_release(cause);
            continue;
        }
        if (next < 0) {
            kin_error_release(cause);
            return next;
        }
        kin__error_set(cause); /* fn's last failure stays current */
        return rc;
    }
}

static int backoff_retry_fn(const kin_error *cause, uint64_t attempt,
                            void *arg) {
    return backoff_next(arg, cause, attempt);
}

static void backoff_free(void *p) {
    kin__free(p);
}

int kin_flow_retry_backoff(kin_flow *f, const kin_retry_opts *opts) {
    backoff tmp;
    int rc = backoff_init(&tmp, opts, "kin_flow_retry_backoff");
    backoff *b = rc == 0 ? kin__malloc(sizeof *b) : NULL;
    if (!b) {
        if (rc == 0)
            rc = kin__misuse(KIN_ENOMEM,
                             "kin_flow_retry_backoff: out of memory");
        kin_error *e = kin_error_retain(kin_last_error());
        if (f && f->id) { /* BUILDING: the upstream goes on error */
            kin_flow_release(*f);
        }
        if (f)
            f->id = 0;
        kin__error_set(e);
        return rc;
    }
    *b = tmp;
    return kin__flow_retry_make(f, "kin_flow_retry_backoff", UINT64_MAX,
                                backoff_retry_fn, b, true, backoff_free);
}
