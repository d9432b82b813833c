/*
 * ops.c — the sequential intermediate operators of cold flows: map,
 * filter, transform, take, on_each, on_start, on_completion, catch, retry,
 * retry_when, distinct_until_changed (kotlinx's Transform.kt, Limit.kt,
 * Emitters.kt, Errors.kt, Distinct.kt).
 *
 * Each is a stage (flow.h): immutable fields made by the operator call,
 * and a collect that runs in the collecting coroutine with its mutable
 * state in a collector struct on its own stack. A value goes down the
 * chain as nested calls: no switch, no channel, no malloc (map's output
 * buffer is on the stack, or one malloc per collect above 256 bytes).
 * Nothing here is shared between threads except the immutable stages.
 */
#include <string.h>

#include "base/error.h"
#include "flow/flow.h"

/* Takes *f over and checks the callback; on error *f is zero and the
 * upstream released (kin.h BUILDING). */
static kin__flow *op_start(kin_flow *f, const char *who, bool fn_ok, int *rc) {
    kin__flow *up = kin__flow_take_over(f, who, rc);
    if (!up)
        return NULL;
    if (!fn_ok) {
        kin__flow_unref(up);
        *rc = kin__misuse(KIN_EINVAL, "%s: fn is NULL", who);
        return NULL;
    }
    return up;
}

/* ---- What the operators share ---------------------------------------------
 * Most stages are a user function and its argument (fn_stage), and most
 * collects run the upstream into a collector that forwards to down
 * (fwd_col, on the collect's stack; its emit is the operator's). */

/* The user function of a stage, by operator. */
typedef union op_fn {
    kin_flow_map_fn map;
    kin_flow_pred_fn pred;
    kin_flow_transform_fn transform;
    kin_flow_value_fn value;
    kin_flow_start_fn start;
    kin_flow_cause_fn cause;
    kin_flow_equal_fn equal;
} op_fn;

typedef struct {
    kin__flow base;
    op_fn fn;
    void *arg;
} fn_stage;

/* Takes *f over and makes a stage of ops (ops->name names it in
 * messages) with fn and arg; fn_ok false: KIN_EINVAL, "fn is NULL". It
 * emits out_size bytes, or the upstream's esize if same_size. */
static int fn_stage_make(kin_flow *f, const kin__flow_ops *ops, bool fn_ok,
                         op_fn fn, void *arg, bool same_size,
                         size_t out_size) {
    int rc;
    kin__flow *up = op_start(f, ops->name, fn_ok, &rc), *st;
    if (!up)
        return rc;
    KIN_TRY(kin__flow_make(f, ops, sizeof(fn_stage),
                           same_size ? up->esize : out_size, up, &st));
    ((fn_stage *)st)->fn = fn;
    ((fn_stage *)st)->arg = arg;
    return 0;
}

typedef struct fwd_col {
    kin_flow_collector c; /* first: emit gets back here with a cast */
    kin_flow_collector *down;
    op_fn fn; /* a fn_stage's (fn_col_init) */
    void *arg;
    void *buf; /* fwd_run_buf: a value of the stage's esize */
} fwd_col;

/* m gets the fn and arg of self, a fn_stage. */
static inline void fn_col_init(fwd_col *m, kin__flow *self) {
    const fn_stage *st = (const fn_stage *)self;
    m->fn = st->fn;
    m->arg = st->arg;
}

/* Collects self's upstream into m with emit, forwarding to down (m's own
 * fields set by the caller). */
static int fwd_run(kin__flow *self, kin_flow_collector *down, fwd_col *m,
                   int (*emit)(kin_flow_collector *, const void *)) {
    kin__flow_collector_init(&m->c, emit, self->up->esize, down->owner);
    m->down = down;
    int rc = kin__flow_run(self->up, &m->c);
    kin__flow_collector_end(&m->c);
    return rc;
}

/* fwd_run with m->buf a value of self->esize for the collect (map's
 * output, distinct's last value): on the stack, or one malloc if large.
 * Apart, so that operators without one do not carry its stack space. */
static int fwd_run_buf(kin__flow *self, kin_flow_collector *down, fwd_col *m,
                       int (*emit)(kin_flow_collector *, const void *)) {
    kin__flow_scratch s;
    kin__flow_scratch_init(&s);
    m->buf = kin__flow_scratch_get(&s, self->esize);
    if (!m->buf)
        return KIN_ENOMEM;
    int rc = fwd_run(self, down, m, emit);
    kin__flow_scratch_free(&s);
    return rc;
}

/* ---- map -------------------------------------------------------------------*/

static int map_emit(kin_flow_collector *c, const void *v) {
    fwd_col *m = (fwd_col *)c;
    int rc = m->fn.map(v, m->buf, m->arg);
    if (KIN__UNLIKELY(rc < 0))
        return kin__flow_rc(rc);
    return kin__flow_emit_down(m->down, m->buf);
}

static int map_collect(kin__flow *self, kin_flow_collector *down) {
    fwd_col m;
    fn_col_init(&m, self);
    return fwd_run_buf(self, down, &m, map_emit);
}

static const kin__flow_ops map_ops = {"kin_flow_map", map_collect, NULL};

int kin_flow_map(kin_flow *f, size_t out_size, kin_flow_map_fn fn,
                 void *arg) {
    return fn_stage_make(f, &map_ops, fn != NULL, (op_fn){.map = fn}, arg,
                         false, out_size);
}

/* ---- filter --------------------------------------------------------------------*/

static int filter_emit(kin_flow_collector *c, const void *v) {
    fwd_col *m = (fwd_col *)c;
    int rc = m->fn.pred(v, m->arg);
    if (rc > 0)
        return kin__flow_emit_down(m->down, v);
    return KIN__LIKELY(rc == 0) ? 0 : kin__flow_rc(rc);
}

static int filter_collect(kin__flow *self, kin_flow_collector *down) {
    fwd_col m;
    fn_col_init(&m, self);
    return fwd_run(self, down, &m, filter_emit);
}

static const kin__flow_ops filter_ops = {"kin_flow_filter", filter_collect,
                                         NULL};

int kin_flow_filter(kin_flow *f, kin_flow_pred_fn fn, void *arg) {
    return fn_stage_make(f, &filter_ops, fn != NULL, (op_fn){.pred = fn}, arg,
                         true, 0);
}

/* ---- transform -------------------------------------------------------------------*/

/* fn emits into down itself (Kotlin's transform gives the block the
 * downstream collector): its emits are checked there. */
static int transform_emit(kin_flow_collector *c, const void *v) {
    fwd_col *m = (fwd_col *)c;
    return kin__flow_user_done(m->down, m->fn.transform(m->down, v, m->arg));
}

static int transform_collect(kin__flow *self, kin_flow_collector *down) {
    fwd_col m;
    fn_col_init(&m, self);
    return fwd_run(self, down, &m, transform_emit);
}

static const kin__flow_ops transform_ops = {"kin_flow_transform",
                                            transform_collect, NULL};

int kin_flow_transform(kin_flow *f, size_t out_size, kin_flow_transform_fn fn,
                       void *arg) {
    return fn_stage_make(f, &transform_ops, fn != NULL,
                         (op_fn){.transform = fn}, arg, false, out_size);
}

/* ---- take ------------------------------------------------------------------------*/

typedef struct {
    kin__flow base;
    uint64_t n;
} take_stage;

typedef struct {
    fwd_col f; /* first */
    uint64_t left;
    kin__flow_abort abort;
} take_col;

/* As kotlinx's take: the n-th value goes down, then the upstream is
 * stopped with an abort this collect owns (emitAbort). */
static int take_emit(kin_flow_collector *c, const void *v) {
    take_col *m = (take_col *)c;
    int rc = kin__flow_emit_down(m->f.down, v);
    if (KIN__UNLIKELY(rc < 0))
        return rc;
    if (KIN__UNLIKELY(--m->left == 0))
        return kin__flow_abort_raise(&m->abort);
    return 0;
}

static int take_collect(kin__flow *self, kin_flow_collector *down) {
    take_stage *st = (take_stage *)self;
    take_col m;
    m.left = st->n;
    m.abort.err = NULL;
    int rc = fwd_run(self, down, &m.f, take_emit);
    if (kin__flow_abort_mine(&m.abort, rc))
        rc = 0;
    return rc;
}

static const kin__flow_ops take_ops = {"kin_flow_take", take_collect, NULL};

int kin_flow_take(kin_flow *f, uint64_t n) {
    int rc;
    kin__flow *up = op_start(f, "kin_flow_take", true, &rc), *st;
    if (!up)
        return rc;
    if (n == 0) {
        kin__flow_unref(up);
        return kin__misuse(KIN_EINVAL,
                           "kin_flow_take: Requested element count 0 should "
                           "be positive");
    }
    KIN_TRY(
        kin__flow_make(f, &take_ops, sizeof(take_stage), up->esize, up, &st));
    ((take_stage *)st)->n = n;
    return 0;
}

/* ---- on_each --------------------------------------------------------------------*/

static int each_emit(kin_flow_collector *c, const void *v) {
    fwd_col *m = (fwd_col *)c;
    int rc = m->fn.value(v, m->arg);
    if (KIN__UNLIKELY(rc < 0))
        return kin__flow_rc(rc);
    return kin__flow_emit_down(m->down, v);
}

static int each_collect(kin__flow *self, kin_flow_collector *down) {
    fwd_col m;
    fn_col_init(&m, self);
    return fwd_run(self, down, &m, each_emit);
}

static const kin__flow_ops each_ops = {"kin_flow_on_each", each_collect,
                                       NULL};

int kin_flow_on_each(kin_flow *f, kin_flow_value_fn fn, void *arg) {
    return fn_stage_make(f, &each_ops, fn != NULL, (op_fn){.value = fn}, arg,
                         true, 0);
}

/* ---- on_start ---------------------------------------------------------------------*/

/* As kotlinx's onStart: fn emits into the downstream collector, then the
 * upstream is collected straight into it. */
static int start_collect(kin__flow *self, kin_flow_collector *down) {
    fn_stage *st = (fn_stage *)self;
    int rc = kin__flow_user_done(down, st->fn.start(down, st->arg));
    if (rc < 0)
        return rc;
    return kin__flow_run(self->up, down);
}

static const kin__flow_ops start_ops = {"kin_flow_on_start", start_collect,
                                        NULL};

int kin_flow_on_start(kin_flow *f, kin_flow_start_fn fn, void *arg) {
    return fn_stage_make(f, &start_ops, fn != NULL, (op_fn){.start = fn}, arg,
                         true, 0);
}

/* ---- on_completion ------------------------------------------------------------------*/

/* After a failure fn gets a collector that fails every emit with the cause
 * (kotlinx's ThrowingCollector). */
typedef struct {
    kin_flow_collector c;
    kin_error *cause;
} throwing_col;

static int throwing_emit(kin_flow_collector *c, const void *v) {
    (void)v;
    throwing_col *t = (throwing_col *)c;
    kin__error_set(kin_error_retain(t->cause));
    return t->cause->code;
}

static int completion_collect(kin__flow *self, kin_flow_collector *down) {
    fn_stage *st = (fn_stage *)self;
    int rc = kin__flow_run(self->up, down);
    if (rc >= 0) /* success: fn may emit downstream */
        return kin__flow_user_done(down, st->fn.cause(down, NULL, st->arg));
    throwing_col t;
    t.cause = kin_error_retain(kin_last_error());
    kin__flow_collector_init(&t.c, throwing_emit, self->esize, down->owner);
    int frc = kin__flow_rc(st->fn.cause(&t.c, t.cause, st->arg));
    kin__flow_collector_end(&t.c);
    kin_error *cause = t.cause;
    if (frc < 0 && kin_last_error() != cause && !t.c.failed) {
        /* fn failed on its own: as kotlinx, a cancellation (an abort of
         * take too) is replaced by it; a failure keeps going with it
         * attached as suppressed (kin.h) */
        if (kin__is_cancel_code(rc)) {
            kin_error_release(cause);
            return frc;
        }
        kin__error_add_suppressed(cause, (kin_error *)kin_last_error());
    }
    kin__error_set(cause);
    return rc;
}

static const kin__flow_ops completion_ops = {"kin_flow_on_completion",
                                             completion_collect, NULL};

int kin_flow_on_completion(kin_flow *f, kin_flow_cause_fn fn, void *arg) {
    return fn_stage_make(f, &completion_ops, fn != NULL, (op_fn){.cause = fn},
                         arg, true, 0);
}

/* ---- catch, retry: kotlinx's catchImpl ---------------------------------------------*/

typedef struct {
    fwd_col f; /* first */
    kin_error *from_down; /* the downstream's failure, if it failed */
} catch_col;

static int catch_emit(kin_flow_collector *c, const void *v) {
    catch_col *m = (catch_col *)c;
    int rc = kin__flow_emit_down(m->f.down, v);
    if (KIN__UNLIKELY(rc < 0) && !m->from_down)
        m->from_down = kin_error_retain(kin_last_error());
    return rc;
}

/* Collects the upstream once into down. Returns 0 on success, a negative
 * code to pass on as it is (a downstream failure, the collector's
 * cancellation), or 1 with *cause (a reference) for an upstream failure
 * that catch / retry may handle. */
static int catch_impl(kin__flow *self, kin_flow_collector *down,
                      kin_error **cause) {
    catch_col m;
    m.from_down = NULL;
    int rc = fwd_run(self, down, &m.f, catch_emit);
    if (rc >= 0) {
        kin_error_release(m.from_down);
        return 0;
    }
    if (m.from_down) {
        /* any failure after the downstream's is rethrown (catchImpl) */
        if (kin_last_error() != m.from_down) {
            if (kin__is_cancel_code(rc)) {
                kin__error_set(m.from_down);
                return m.from_down->code;
            }
            kin__error_add_suppressed((kin_error *)kin_last_error(),
                                      m.from_down);
        }
        kin_error_release(m.from_down);
        return rc;
    }
    if (kin__flow_is_collector_cancel(down->owner, rc))
        return rc;
    *cause = kin_error_retain(kin_last_error());
    return 1;
}

static int catch_collect(kin__flow *self, kin_flow_collector *down) {
    fn_stage *st = (fn_stage *)self;
    kin_error *cause = NULL;
    int rc = catch_impl(self, down, &cause);
    if (rc <= 0)
        return rc;
    rc = st->fn.cause(down, cause, st->arg);
    if (rc < 0 && rc == cause->code && kin_error_code(kin_last_error()) != rc)
        kin__error_set(kin_error_retain(cause)); /* rethrown */
    kin_error_release(cause);
    return kin__flow_user_done(down, rc);
}

static const kin__flow_ops catch_ops = {"kin_flow_catch", catch_collect,
                                        NULL};

int kin_flow_catch(kin_flow *f, kin_flow_cause_fn fn, void *arg) {
    return fn_stage_make(f, &catch_ops, fn != NULL, (op_fn){.cause = fn}, arg,
                         true, 0);
}

typedef struct {
    kin__flow base;
    uint64_t retries; /* UINT64_MAX: retry_when (no limit) */
    kin_flow_retry_fn fn;
    void *arg;
    void (*arg_free)(void *); /* kin_flow_retry_backoff's copy of opts */
} retry_stage;

static void retry_destroy(kin__flow *self) {
    retry_stage *st = (retry_stage *)self;
    if (st->arg_free)
        st->arg_free(st->arg);
}

static int retry_collect(kin__flow *self, kin_flow_collector *down) {
    retry_stage *st = (retry_stage *)self;
    for (uint64_t attempt = 0;; attempt++) {
        kin_error *cause = NULL;
        int rc = catch_impl(self, down, &cause);
        if (rc <= 0)
            return rc;
        int again = attempt < st->retries;
        if (again && st->fn)
            again = st->fn(cause, attempt, st->arg);
        if (again > 0) {
            kin_error_release(cause);
            continue;
        }
        if (again < 0) { /* the predicate's own failure */
            kin_error_release(cause);
            return kin__flow_rc(again);
        }
        kin__error_set(cause); /* let the failure through */
        return cause->code;
    }
}

static const kin__flow_ops retry_ops = {"kin_flow_retry", retry_collect,
                                        retry_destroy};

int kin__flow_retry_make(kin_flow *f, const char *who, uint64_t retries,
                         kin_flow_retry_fn fn, void *arg, bool fn_required,
                         void (*arg_free)(void *)) {
    int rc;
    kin__flow *up = op_start(f, who, fn || !fn_required, &rc), *st;
    if (!up) {
        if (arg_free)
            arg_free(arg);
        return rc;
    }
    if (retries == 0) {
        kin__flow_unref(up);
        if (arg_free)
            arg_free(arg);
        return kin__misuse(KIN_EINVAL,
                           "%s: Expected positive amount of retries, but "
                           "had 0",
                           who);
    }
    rc = kin__flow_make(f, &retry_ops, sizeof(retry_stage), up->esize, up,
                        &st);
    if (rc < 0) {
        if (arg_free)
            arg_free(arg);
        return rc;
    }
    ((retry_stage *)st)->retries = retries;
    ((retry_stage *)st)->fn = fn;
    ((retry_stage *)st)->arg = arg;
    ((retry_stage *)st)->arg_free = arg_free;
    return 0;
}

int kin_flow_retry(kin_flow *f, uint64_t retries, kin_flow_retry_fn fn,
                   void *arg) {
    return kin__flow_retry_make(f, "kin_flow_retry", retries, fn, arg, false,
                                NULL);
}

int kin_flow_retry_when(kin_flow *f, kin_flow_retry_fn fn, void *arg) {
    return kin__flow_retry_make(f, "kin_flow_retry_when", UINT64_MAX, fn, arg,
                                true, NULL);
}

/* ---- distinct_until_changed -----------------------------------------------------------*/

typedef struct {
    fwd_col f; /* first; f.fn.equal: eq (NULL: bytes), f.buf: the last */
    size_t esize;
    bool has_prev;
} distinct_col;

static int distinct_emit(kin_flow_collector *c, const void *v) {
    distinct_col *m = (distinct_col *)c;
    if (m->has_prev) {
        int same = m->f.fn.equal ? m->f.fn.equal(m->f.buf, v, m->f.arg)
                                 : memcmp(m->f.buf, v, m->esize) == 0;
        if (KIN__UNLIKELY(same < 0))
            return kin__flow_rc(same);
        if (same)
            return 0;
    }
    memcpy(m->f.buf, v, m->esize);
    m->has_prev = true;
    return kin__flow_emit_down(m->f.down, v);
}

static int distinct_collect(kin__flow *self, kin_flow_collector *down) {
    distinct_col m;
    fn_col_init(&m.f, self);
    m.esize = self->esize;
    m.has_prev = false;
    return fwd_run_buf(self, down, &m.f, distinct_emit);
}

static const kin__flow_ops distinct_ops = {"kin_flow_distinct_until_changed",
                                           distinct_collect, NULL};

int kin_flow_distinct_until_changed(kin_flow *f, kin_flow_equal_fn eq,
                                    void *arg) {
    return fn_stage_make(f, &distinct_ops, true, (op_fn){.equal = eq}, arg,
                         true, 0);
}
