/*
 * flow.c — the core of cold flows: the stage records and their checked
 * handles, references and on_free, kin_flow_emit with its checks
 * (context preservation, cancellation and exception transparency), the
 * helpers of flow.h (aborts, scratch, failure codes), the two basic
 * builders (kin_flow_new, kin_flow_from_array) and kin_flow_collect.
 * The design is in flow.h.
 *
 * Who owns what: a slot's refgen is the only shared mutable word of a
 * flow (CAS / fetch_sub); the table's mutex (base/table.h) guards the
 * free-slot list and the growth of the chunk table (chunks are never
 * freed). A stage's fields are written by kin__flow_make before its
 * handle exists and never again (on_free excepted: on_free_set claims it,
 * its writer holds a reference, and the releasing fetch_sub orders the
 * write before the free). A collector lives on its owner's stack and only
 * the owner touches it.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"
#include "flow/flow.h"

/* ---- The slot table -------------------------------------------------------*/

#define CHUNK_SHIFT 10 /* 2^26 live flows */

typedef struct kin__flow_slot {
    _Atomic uint64_t refgen; /* gen << 32 | references */
    uint32_t idx;            /* [immutable] */
    kin__flow *flow;         /* written while references == 0 only */
    struct kin__flow_slot *free_next; /* [table mu] */
} kin__flow_slot;

/* New slots: generation 1, no reference. */
static _Atomic(void *) g_chunks[KIN__TABLE_MAX_CHUNKS];
static kin__table g_table =
    KIN__TABLE_INIT(g_chunks, kin__flow_slot, CHUNK_SHIFT, free_next, idx,
                    refgen, (uint64_t)1 << 32);

/* Called with references at 0: bumps the generation (every handle to it
 * is stale from now on) and puts the slot back. */
static void slot_free(kin__flow_slot *s) {
    uint64_t v = atomic_load_explicit(&s->refgen, memory_order_relaxed);
    uint64_t gen = kin__table_next_gen((uint32_t)(v >> 32), UINT32_MAX);
    s->flow = NULL;
    atomic_store_explicit(&s->refgen, gen << 32, memory_order_release);
    kin__table_free(&g_table, s);
}

static kin__flow_slot *slot_peek(kin_flow h) {
    return kin__table_peek(&g_table, g_chunks, (uint32_t)h.id, CHUNK_SHIFT,
                           sizeof(kin__flow_slot));
}

kin_flow kin__flow_handle(kin__flow *f) {
    uint64_t v = atomic_load_explicit(&f->slot->refgen, memory_order_relaxed);
    kin_flow h = {(v & ~(uint64_t)0xffffffffu) | f->slot->idx};
    return h;
}

kin__flow *kin__flow_acquire(kin_flow h, const char *who, int *rc) {
    kin__flow_slot *s = slot_peek(h);
    if (KIN__UNLIKELY(!s)) {
        *rc = kin__misuse(KIN_EINVAL, "%s: invalid flow handle", who);
        return NULL;
    }
    uint64_t gen = h.id >> 32;
    uint64_t v = atomic_load_explicit(&s->refgen, memory_order_relaxed);
    for (;;) {
        if ((v >> 32) != gen || (uint32_t)v == 0) {
            *rc = kin__misuse(KIN_ESTALE,
                              "%s: stale flow handle (the flow was released)",
                              who);
            return NULL;
        }
        if (atomic_compare_exchange_weak_explicit(&s->refgen, &v, v + 1,
                                                  memory_order_acquire,
                                                  memory_order_relaxed))
            return s->flow;
    }
}

void kin__flow_ref(kin__flow *f) {
    atomic_fetch_add_explicit(&f->slot->refgen, 1, memory_order_relaxed);
}

/* Frees one stage whose last reference went; returns its upstream
 * reference (up) for the caller to drop, so a long chain is freed in a
 * loop rather than by recursion. */
static kin__flow *stage_free(kin__flow *f) {
    if (f->ops->destroy)
        f->ops->destroy(f);
    if (f->on_free)
        f->on_free(f->on_free_arg);
    kin__flow *up = f->up;
    if (f->up2)
        kin__flow_unref(f->up2);
    slot_free(f->slot);
    kin__free(f);
    return up;
}

void kin__flow_unref(kin__flow *f) {
    while (f) {
        uint64_t v = atomic_fetch_sub_explicit(&f->slot->refgen, 1,
                                               memory_order_acq_rel);
        KIN__ASSERT((uint32_t)v != 0);
        if ((uint32_t)v != 1)
            return;
        f = stage_free(f);
    }
}

int kin__flow_make(kin_flow *out, const kin__flow_ops *ops, size_t stage_size,
                   size_t esize, kin__flow *up, kin__flow **stage) {
    KIN__ASSERT(stage_size >= sizeof(kin__flow));
    kin__flow *f = kin__calloc(1, stage_size);
    kin__flow_slot *s = f ? kin__table_alloc(&g_table) : NULL;
    if (!s) {
        kin__free(f);
        if (up)
            kin__flow_unref(up);
        if (out)
            out->id = 0;
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", ops->name);
    }
    f->ops = ops;
    f->esize = esize;
    f->up = up;
    f->slot = s;
    s->flow = f;
    uint64_t v = atomic_load_explicit(&s->refgen, memory_order_relaxed);
    atomic_store_explicit(&s->refgen, (v & ~(uint64_t)0xffffffffu) | 1,
                          memory_order_release);
    out->id = (v & ~(uint64_t)0xffffffffu) | s->idx;
    if (stage)
        *stage = f;
    return 0;
}

kin__flow *kin__flow_take_over(kin_flow *f, const char *who, int *rc) {
    if (!f) {
        *rc = kin__misuse(KIN_EINVAL, "%s: f is NULL", who);
        return NULL;
    }
    kin_flow h = *f;
    f->id = 0;
    if (h.id == 0) {
        *rc = kin__misuse(KIN_EINVAL, "%s: *f is no flow (zero handle)", who);
        return NULL;
    }
    kin__flow *up = kin__flow_acquire(h, who, rc);
    if (!up)
        return NULL;
    /* The caller's reference is now ours; drop the lookup's. */
    atomic_fetch_sub_explicit(&up->slot->refgen, 1, memory_order_relaxed);
    return up;
}

/* ---- Public reference calls -------------------------------------------------*/

int kin_flow_retain(kin_flow f) {
    int rc = 0;
    return kin__flow_acquire(f, "kin_flow_retain", &rc) ? 0 : rc;
}

int kin_flow_release(kin_flow f) {
    /* One CAS that checks the generation and drops the caller's reference,
     * so even two racing releases of one reference cannot both pass. */
    kin__flow_slot *s = slot_peek(f);
    if (!s)
        return kin__misuse(KIN_EINVAL, "kin_flow_release: invalid flow handle");
    uint64_t v = atomic_load_explicit(&s->refgen, memory_order_relaxed);
    for (;;) {
        if ((v >> 32) != (f.id >> 32) || (uint32_t)v == 0)
            return kin__misuse(KIN_ESTALE, "kin_flow_release: stale flow "
                                           "handle (the flow was released)");
        if (atomic_compare_exchange_weak_explicit(&s->refgen, &v, v - 1,
                                                  memory_order_acq_rel,
                                                  memory_order_relaxed))
            break;
    }
    if ((uint32_t)v == 1) {
        kin__flow *up = stage_free(s->flow);
        if (up)
            kin__flow_unref(up);
    }
    return 0;
}

int kin_flow_on_free(kin_flow f, void (*fn)(void *arg), void *arg) {
    int rc;
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_flow_on_free: fn is NULL");
    kin__flow *r = kin__flow_acquire(f, "kin_flow_on_free", &rc);
    if (!r)
        return rc;
    bool no = false;
    if (!atomic_compare_exchange_strong(&r->on_free_set, &no, true)) {
        kin__flow_unref(r);
        return kin__misuse(KIN_EBUSY,
                           "kin_flow_on_free: the flow already has an "
                           "on_free callback");
    }
    r->on_free = fn;
    r->on_free_arg = arg;
    kin__flow_unref(r);
    return 0;
}

size_t kin_flow_elem_size(kin_flow f) {
    kin__flow_slot *s = slot_peek(f);
    if (!s)
        return 0;
    uint64_t v = atomic_load_explicit(&s->refgen, memory_order_relaxed);
    for (;;) {
        if ((v >> 32) != (f.id >> 32) || (uint32_t)v == 0)
            return 0;
        if (atomic_compare_exchange_weak_explicit(&s->refgen, &v, v + 1,
                                                  memory_order_acquire,
                                                  memory_order_relaxed))
            break;
    }
    size_t n = s->flow->esize;
    kin__flow_unref(s->flow);
    return n;
}

/* ---- Failures, aborts, scratch ---------------------------------------------*/

int kin__flow_rc_slow(int rc) {
    bool cancel = kin__is_cancel_code(rc);
    kin__error_set(kin__error_make(
        rc, cancel ? "CancellationException" : "Failure", NULL, "%s",
        cancel ? "Job was cancelled" : kin_strerror(rc)));
    return rc;
}

int kin__flow_user_done(kin_flow_collector *c, int rc) {
    if (KIN__LIKELY(!c->failed))
        return kin__flow_rc(rc);
    if (!c->violated && rc < 0)
        return kin__flow_rc(rc); /* the emitter's own result */
    /* A violation, or a downstream failure the emitter swallowed: no
     * failure is lost. */
    kin__error_set(kin_error_retain(c->err));
    return c->failed;
}

bool kin__flow_is_collector_cancel(kin__job *owner, int rc) {
    return kin__is_cancel_code(rc) && kin__job_is_cancelling(owner->cur);
}

int kin__flow_abort_raise(kin__flow_abort *a) {
    if (!a->err)
        a->err = kin__error_make(KIN_ECANCELED, "AbortFlowException", NULL,
                                 "Flow was aborted, no more elements needed");
    kin__error_set(kin_error_retain(a->err));
    return KIN_ECANCELED;
}

bool kin__flow_abort_mine(kin__flow_abort *a, int rc) {
    if (!a->err)
        return false;
    bool mine = rc == KIN_ECANCELED && kin_last_error() == a->err;
    if (mine)
        kin_clear_error();
    kin_error_release(a->err);
    a->err = NULL;
    return mine;
}

void *kin__flow_scratch_get(kin__flow_scratch *s, size_t n) {
    if (n <= sizeof s->small)
        return s->small;
    s->big = kin__malloc(n);
    if (!s->big)
        kin__misuse(KIN_ENOMEM, "flow: out of memory (a %zu-byte value)", n);
    return s->big;
}

void kin__flow_free_big(void *p) {
    kin__free(p);
}

/* ---- Emit ---------------------------------------------------------------------*/

static __attribute__((noinline)) int emit_wrong_context(void) {
    return kin__misuse(
        KIN_EFLOW,
        "Flow invariant is violated: emission from another coroutine is "
        "detected. FlowCollector is not thread-safe and concurrent "
        "emissions are prohibited. To mitigate this restriction please use "
        "kin_channel_flow instead of kin_flow_new (and kin_flow_on, not "
        "kin_with_context, to run the upstream on another dispatcher)");
}

static __attribute__((noinline)) int emit_after_failure(kin_flow_collector *c) {
    kin_error *prev = c->err;
    kin_error *e = kin__error_make(
        KIN_EFLOW, "IllegalStateException", prev,
        "Flow exception transparency is violated: a previous emit failed "
        "with %s: %s, but then an emission attempt was detected. Emissions "
        "after a failed emit are prohibited in order to avoid unspecified "
        "behaviour; kin_flow_catch can be used instead",
        kin_error_type(prev), kin_error_message(prev));
    c->violated = true;
    c->failed = KIN_EFLOW;
    c->err = kin_error_retain(e);
    kin_error_release(prev);
    kin__error_set(e);
    return KIN_EFLOW;
}

static __attribute__((noinline)) int emit_bad_args(kin_flow_collector *c,
                                                   const void *value,
                                                   size_t size) {
    if (size != c->esize)
        return kin__misuse(KIN_EINVAL,
                           "kin_flow_emit: size %zu is not the flow's "
                           "elem_size %zu",
                           size, c->esize);
    (void)value;
    return kin__misuse(KIN_EINVAL, "kin_flow_emit: value is NULL");
}

static __attribute__((noinline)) int emit_cancelled(kin__job *me) {
    kin_error *e = kin__job_cancel_error(me->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

static __attribute__((noinline)) void emit_failed(kin_flow_collector *c,
                                                  int rc) {
    c->failed = rc;
    c->err = kin_error_retain(kin_last_error());
}

int kin_flow_emit(kin_flow_collector *out, const void *value, size_t size) {
    if (KIN__UNLIKELY(!out))
        return kin__misuse(KIN_EINVAL, "kin_flow_emit: out is NULL");
    kin__job *me = kin__running_job();
    if (KIN__UNLIKELY(me != out->owner))
        return emit_wrong_context();
    if (KIN__UNLIKELY(size != out->esize || (!value && size)))
        return emit_bad_args(out, value, size);
    if (KIN__UNLIKELY(out->failed))
        return emit_after_failure(out);
    if (KIN__UNLIKELY(kin__job_is_cancelling(me->cur)))
        return emit_cancelled(me);
    int rc = out->emit(out, value);
    if (KIN__UNLIKELY(rc < 0))
        emit_failed(out, rc);
    return rc;
}

/* ---- Terminals' common part -------------------------------------------------*/

kin__flow *kin__flow_terminal_begin(kin_flow f, const char *who, int *rc,
                                    kin__job **owner) {
    kin__job *me = kin__running_job();
    if (!me) {
        *rc = kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine", who);
        return NULL;
    }
    *owner = me;
    return kin__flow_acquire(f, who, rc);
}

/* ---- kin_flow_new -------------------------------------------------------------*/

typedef struct {
    kin__flow base;
    kin_flow_emitter_fn fn;
    void *arg;
} new_stage;

static int new_collect(kin__flow *self, kin_flow_collector *down) {
    new_stage *st = (new_stage *)self;
    return kin__flow_user_done(down, st->fn(down, st->arg));
}

static const kin__flow_ops new_ops = {"kin_flow_new", new_collect, NULL};

int kin_flow_new(kin_flow *out, size_t elem_size, kin_flow_emitter_fn fn,
                 void *arg) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_flow_new: out is NULL");
    out->id = 0;
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_flow_new: fn is NULL");
    kin__flow *f = NULL; /* gcc -O3 cannot tell KIN_TRY set it */
    KIN_TRY(kin__flow_make(out, &new_ops, sizeof(new_stage), elem_size, NULL,
                           &f));
    new_stage *st = (new_stage *)f;
    st->fn = fn;
    st->arg = arg;
    return 0;
}

/* ---- kin_flow_from_array --------------------------------------------------------*/

typedef struct {
    kin__flow base;
    size_t n;
    alignas(max_align_t) unsigned char values[];
} array_stage;

/* Kotlin's asFlow is a flow { } builder: each value checks cancellation
 * (one load of the collecting job's state). */
static int array_collect(kin__flow *self, kin_flow_collector *down) {
    array_stage *st = (array_stage *)self;
    kin__job *cur_owner = down->owner;
    size_t es = self->esize;
    const unsigned char *p = st->values;
    for (size_t i = 0; i < st->n; i++, p += es) {
        if (KIN__UNLIKELY(kin__job_is_cancelling(cur_owner->cur)))
            return emit_cancelled(cur_owner);
        int rc = kin__flow_emit_down(down, p);
        if (KIN__UNLIKELY(rc < 0))
            return rc;
    }
    return 0;
}

static const kin__flow_ops array_ops = {"kin_flow_from_array", array_collect,
                                        NULL};

int kin_flow_from_array(kin_flow *out, const void *values, size_t n,
                        size_t elem_size) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_flow_from_array: out is NULL");
    out->id = 0;
    if (!values && n > 0)
        return kin__misuse(KIN_EINVAL,
                           "kin_flow_from_array: values is NULL with n > 0");
    if (elem_size && n > (SIZE_MAX - sizeof(array_stage)) / elem_size)
        return kin__misuse(KIN_EINVAL, "kin_flow_from_array: n * elem_size "
                                       "overflows");
    kin__flow *f = NULL; /* as in kin_flow_new */
    KIN_TRY(kin__flow_make(out, &array_ops,
                           sizeof(array_stage) + n * elem_size, elem_size,
                           NULL, &f));
    array_stage *st = (array_stage *)f;
    st->n = n;
    if (n * elem_size != 0)
        memcpy(st->values, values, n * elem_size);
    return 0;
}

/* ---- kin_flow_collect -------------------------------------------------------------*/

typedef struct {
    kin_flow_collector c;
    kin_flow_value_fn fn;
    void *arg;
} collect_state;

static int collect_emit(kin_flow_collector *c, const void *value) {
    collect_state *st = (collect_state *)c;
    int rc = st->fn(value, st->arg);
    return KIN__LIKELY(rc >= 0) ? 0 : kin__flow_rc(rc);
}

int kin_flow_collect(kin_flow f, kin_flow_value_fn fn, void *arg) {
    int rc;
    kin__job *owner;
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_flow_collect: fn is NULL");
    kin__flow *r = kin__flow_terminal_begin(f, "kin_flow_collect", &rc, &owner);
    if (!r)
        return rc;
    collect_state st;
    kin__flow_collector_init(&st.c, collect_emit, r->esize, owner);
    st.fn = fn;
    st.arg = arg;
    rc = kin__flow_run(r, &st.c);
    kin__flow_collector_end(&st.c);
    kin__flow_unref(r);
    return rc < 0 ? rc : 0;
}
