/*
 * terminal.c — the terminal operators besides kin_flow_collect (flow.c):
 * first, single, reduce, fold, count, to_array, launch_in (kotlinx's
 * Reduce.kt, Count.kt, Collection.kt, Collect.kt's launchIn).
 *
 * Each collects in the calling coroutine with a collector on its stack;
 * first stops the upstream with its own abort (flow.h). Results are
 * written to the caller's memory only as the contract says (to_array
 * keeps nothing on error). launch_in's coroutine holds a reference to the
 * flow, dropped by a completion handler so that it goes even when the
 * body never runs (a coroutine born cancelled).
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "flow/flow.h"

/* Checks the size a terminal was given against the flow's. */
static int size_check(kin__flow *r, const char *who, const void *p,
                      size_t size) {
    if (size != r->esize)
        return kin__misuse(KIN_EINVAL,
                           "%s: size %zu is not the flow's elem_size %zu", who,
                           size, r->esize);
    if (!p && size)
        return kin__misuse(KIN_EINVAL, "%s: out is NULL", who);
    return 0;
}

/* ---- first ------------------------------------------------------------------*/

typedef struct {
    kin_flow_collector c;
    void *out;
    bool got;
    kin__flow_abort abort;
} first_col;

static int first_emit(kin_flow_collector *c, const void *v) {
    first_col *m = (first_col *)c;
    memcpy(m->out, v, c->esize);
    m->got = true;
    return kin__flow_abort_raise(&m->abort);
}

int kin_flow_first(kin_flow f, void *out, size_t size) {
    int rc;
    kin__job *owner;
    kin__flow *r = kin__flow_terminal_begin(f, "kin_flow_first", &rc, &owner);
    if (!r)
        return rc;
    rc = size_check(r, "kin_flow_first", out, size);
    if (rc == 0) {
        first_col m;
        kin__flow_collector_init(&m.c, first_emit, r->esize, owner);
        m.out = out;
        m.got = false;
        m.abort.err = NULL;
        rc = kin__flow_run(r, &m.c);
        if (kin__flow_abort_mine(&m.abort, rc))
            rc = 0;
        kin__flow_collector_end(&m.c);
        if (rc >= 0 && !m.got) {
            kin__error_set(kin__error_make(KIN_ENOELEM,
                                           "NoSuchElementException", NULL,
                                           "Expected at least one element"));
            rc = KIN_ENOELEM;
        }
    }
    kin__flow_unref(r);
    return rc < 0 ? rc : 0;
}

/* ---- single -------------------------------------------------------------------*/

typedef struct {
    kin_flow_collector c;
    void *out;
    bool got;
} single_col;

static int single_emit(kin_flow_collector *c, const void *v) {
    single_col *m = (single_col *)c;
    if (m->got) {
        kin__error_set(kin__error_make(KIN_EFLOW, "IllegalArgumentException",
                                       NULL, "Flow has more than one element"));
        return KIN_EFLOW;
    }
    memcpy(m->out, v, c->esize);
    m->got = true;
    return 0;
}

int kin_flow_single(kin_flow f, void *out, size_t size) {
    int rc;
    kin__job *owner;
    kin__flow *r = kin__flow_terminal_begin(f, "kin_flow_single", &rc, &owner);
    if (!r)
        return rc;
    rc = size_check(r, "kin_flow_single", out, size);
    if (rc == 0) {
        single_col m;
        kin__flow_collector_init(&m.c, single_emit, r->esize, owner);
        m.out = out;
        m.got = false;
        rc = kin__flow_run(r, &m.c);
        kin__flow_collector_end(&m.c);
        if (rc >= 0 && !m.got) {
            kin__error_set(kin__error_make(KIN_ENOELEM,
                                           "NoSuchElementException", NULL,
                                           "Flow is empty"));
            rc = KIN_ENOELEM;
        }
    }
    kin__flow_unref(r);
    return rc < 0 ? rc : 0;
}

/* ---- reduce and fold ------------------------------------------------------------*/

typedef struct {
    kin_flow_collector c;
    void *acc;
    kin_flow_fold_fn fn;
    void *arg;
    bool got; /* reduce: acc holds a value */
} fold_col;

static int reduce_emit(kin_flow_collector *c, const void *v) {
    fold_col *m = (fold_col *)c;
    if (!m->got) {
        memcpy(m->acc, v, c->esize);
        m->got = true;
        return 0;
    }
    int rc = m->fn(m->acc, v, m->arg);
    return KIN__LIKELY(rc >= 0) ? 0 : kin__flow_rc(rc);
}

static int fold_emit(kin_flow_collector *c, const void *v) {
    fold_col *m = (fold_col *)c;
    int rc = m->fn(m->acc, v, m->arg);
    return KIN__LIKELY(rc >= 0) ? 0 : kin__flow_rc(rc);
}

static int fold_run(kin_flow f, const char *who, void *acc, size_t size,
                    kin_flow_fold_fn fn, void *arg, bool reduce) {
    int rc;
    kin__job *owner;
    if (!fn)
        return kin__misuse(KIN_EINVAL, "%s: fn is NULL", who);
    if (!acc && (size || !reduce))
        return kin__misuse(KIN_EINVAL, "%s: acc is NULL", who);
    kin__flow *r = kin__flow_terminal_begin(f, who, &rc, &owner);
    if (!r)
        return rc;
    rc = reduce ? size_check(r, who, acc, size) : 0;
    if (rc == 0) {
        fold_col m;
        kin__flow_collector_init(&m.c, reduce ? reduce_emit : fold_emit,
                                 r->esize, owner);
        m.acc = acc;
        m.fn = fn;
        m.arg = arg;
        m.got = false;
        rc = kin__flow_run(r, &m.c);
        kin__flow_collector_end(&m.c);
        if (rc >= 0 && reduce && !m.got) {
            kin__error_set(kin__error_make(KIN_ENOELEM,
                                           "NoSuchElementException", NULL,
                                           "Empty flow can't be reduced"));
            rc = KIN_ENOELEM;
        }
    }
    kin__flow_unref(r);
    return rc < 0 ? rc : 0;
}

int kin_flow_reduce(kin_flow f, void *acc, size_t size, kin_flow_fold_fn fn,
                    void *arg) {
    return fold_run(f, "kin_flow_reduce", acc, size, fn, arg, true);
}

int kin_flow_fold(kin_flow f, void *acc, size_t acc_size, kin_flow_fold_fn fn,
                  void *arg) {
    (void)acc_size; /* any size: the caller's memory, fn knows its layout */
    return fold_run(f, "kin_flow_fold", acc, 1, fn, arg, false);
}

/* ---- count -----------------------------------------------------------------------*/

typedef struct {
    kin_flow_collector c;
    uint64_t n;
} count_col;

static int count_emit(kin_flow_collector *c, const void *v) {
    (void)v;
    ((count_col *)c)->n++;
    return 0;
}

int kin_flow_count(kin_flow f, uint64_t *out) {
    int rc;
    kin__job *owner;
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_flow_count: out is NULL");
    kin__flow *r = kin__flow_terminal_begin(f, "kin_flow_count", &rc, &owner);
    if (!r)
        return rc;
    count_col m;
    kin__flow_collector_init(&m.c, count_emit, r->esize, owner);
    m.n = 0;
    rc = kin__flow_run(r, &m.c);
    kin__flow_collector_end(&m.c);
    kin__flow_unref(r);
    if (rc < 0)
        return rc;
    *out = m.n;
    return 0;
}

/* ---- to_array -----------------------------------------------------------------------*/

typedef struct {
    kin_flow_collector c;
    unsigned char *buf;
    size_t n, cap;
} array_col;

static int array_emit(kin_flow_collector *c, const void *v) {
    array_col *m = (array_col *)c;
    size_t es = c->esize;
    if (m->n == m->cap && es) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        if (cap > SIZE_MAX / es)
            return kin__misuse(KIN_ENOMEM, "kin_flow_to_array: out of memory");
        unsigned char *b = kin__realloc(m->buf, cap * es);
        if (!b)
            return kin__misuse(KIN_ENOMEM, "kin_flow_to_array: out of memory");
        m->buf = b;
        m->cap = cap;
    }
    if (es)
        memcpy(m->buf + m->n * es, v, es);
    m->n++;
    return 0;
}

int kin_flow_to_array(kin_flow f, void **values, size_t *n) {
    int rc;
    kin__job *owner;
    if (!values || !n)
        return kin__misuse(KIN_EINVAL, "kin_flow_to_array: %s is NULL",
                           !values ? "values" : "n");
    *values = NULL;
    *n = 0;
    kin__flow *r =
        kin__flow_terminal_begin(f, "kin_flow_to_array", &rc, &owner);
    if (!r)
        return rc;
    array_col m;
    kin__flow_collector_init(&m.c, array_emit, r->esize, owner);
    m.buf = NULL;
    m.n = m.cap = 0;
    rc = kin__flow_run(r, &m.c);
    kin__flow_collector_end(&m.c);
    kin__flow_unref(r);
    if (rc < 0) {
        kin__free(m.buf);
        return rc;
    }
    *values = m.buf;
    *n = m.n;
    return 0;
}

/* ---- launch_in -------------------------------------------------------------------------*/

typedef struct {
    kin_flow_collector c;
} ignore_col;

static int ignore_emit(kin_flow_collector *c, const void *v) {
    (void)c;
    (void)v;
    return 0;
}

static int launch_body(void *arg) {
    kin__flow *r = arg;
    ignore_col m;
    kin__flow_collector_init(&m.c, ignore_emit, r->esize, kin__running_job());
    int rc = kin__flow_run(r, &m.c);
    kin__flow_collector_end(&m.c);
    return rc < 0 ? rc : 0;
}

static void launch_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job;
    (void)cause;
    kin__flow_unref(arg);
}

int kin_flow_launch_in(kin_flow f, kin_scope scope, kin_job *job) {
    int rc;
    if (job)
        job->id = 0;
    if (!scope.id && !kin__running_job())
        return kin__misuse(KIN_ENOTCORO,
                           "kin_flow_launch_in: called outside a coroutine "
                           "without a scope");
    kin__flow *r = kin__flow_acquire(f, "kin_flow_launch_in", &rc);
    if (!r)
        return rc;
    /* LAZY, then the handler, then start: the reference is dropped by the
     * handler whether or not the body ever runs. */
    kin_launch_opts o = {.start = KIN_START_LAZY, .name = "launch_in"};
    kin_job j;
    rc = scope.id ? kin_scope_launch(scope, &j, &o, launch_body, r)
                  : kin_launch(&j, &o, launch_body, r);
    if (rc < 0) {
        kin__flow_unref(r);
        return rc;
    }
    rc = kin_invoke_on_completion(j, launch_done, r);
    if (rc < 0) {
        kin_error *e = kin_error_retain(kin_last_error());
        kin_cancel(j, NULL); /* never started: its body never runs */
        kin_job_release(j);
        kin__flow_unref(r);
        kin__error_set(e);
        return rc;
    }
    kin_start(j);
    if (job)
        *job = j;
    else
        kin_job_release(j);
    return 0;
}
