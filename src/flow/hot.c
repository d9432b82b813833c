/*
 * hot.c — what kin_state_flow (state.c) and kin_shared_flow (shared.c)
 * share: the table of records their handles name, subscriber lists and
 * the subscriber's park / wake. The design is in hot.h.
 */
#include <stddef.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "flow/flow.h"
#include "flow/hot.h"
#include "sched/scheduler.h"

/* ---- The table ------------------------------------------------------------ */

_Atomic(void *) kin__hot_chunks[KIN__TABLE_MAX_CHUNKS];
kin__table kin__hot_table =
    KIN__TABLE_INIT(kin__hot_chunks, kin__hot, KIN__HOT_CHUNK_SHIFT,
                    free_next, idx, gen, 1);

kin__hot *kin__hot_alloc(uint8_t kind) {
    kin__hot *h = kin__table_alloc(&kin__hot_table);
    if (!h)
        return NULL;
    kin__lock_acquire(&h->lock);
    /* everything after the lock, gen and idx starts at zero (the lock is
     * held: a stale handle's lookup may be spinning on it) */
    memset((char *)h + offsetof(kin__hot, kind), 0,
           sizeof *h - offsetof(kin__hot, kind));
    h->kind = kind;
    return h;
}

kin__hot *kin__hot_get_failed(uint64_t id, kin__hot *h, const char *who,
                              const char *what, int *rc) {
    uint32_t gen = (uint32_t)(id >> 32);
    bool stale = false; /* else: a record of the other kind */
    if (h) {
        stale = h->gen != gen || h->kind == KIN__HOT_FREE;
        kin__lock_release(&h->lock);
    }
    if (!h || gen == 0)
        *rc = kin__misuse(KIN_EINVAL, "%s: invalid %s handle", who, what);
    else if (stale)
        *rc = kin__misuse(KIN_ESTALE, "%s: stale handle (the %s was destroyed)",
                          who, what);
    else
        *rc = kin__misuse(KIN_EINVAL, "%s: invalid %s handle (not a %s)", who,
                          what, what);
    return NULL;
}

void kin__hot_free_locked(kin__hot *h) {
    KIN__ASSERT(h->subs == NULL && h->qhead == NULL);
    h->kind = KIN__HOT_FREE;
    h->gen = kin__table_next_gen(h->gen, UINT32_MAX);
    kin__lock_release(&h->lock);
    kin__table_free(&kin__hot_table, h);
}

/* ---- Subscribers -------------------------------------------------------- */

void kin__hot_link(kin__hot *h, kin__hot_sub *s) {
    s->next = NULL;
    s->prev = h->subs_tail;
    if (h->subs_tail)
        h->subs_tail->next = s;
    else
        h->subs = s;
    h->subs_tail = s;
    h->nsubs++;
}

void kin__hot_unlink(kin__hot *h, kin__hot_sub *s) {
    if (s->prev)
        s->prev->next = s->next;
    else
        h->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        h->subs_tail = s->prev;
    s->next = s->prev = NULL;
    h->nsubs--;
    if (s->waiting) {
        s->waiting = false;
        h->nwaiting--;
    }
}

void kin__hot_wake_sub(kin__hot *h, kin__hot_sub *s) {
    KIN__ASSERT(s->waiting);
    s->waiting = false;
    h->nwaiting--;
    atomic_store_explicit(&s->fired, true, memory_order_release);
    /* Under the lock: the subscriber takes it again before its frame goes */
    kin__wake(&s->co->sched);
}

void kin__hot_kill_subs(kin__hot *h) {
    kin__hot_sub *s;
    while ((s = h->subs) != NULL) {
        bool parked = s->waiting;
        kin__hot_unlink(h, s);
        s->dead = true;
        if (parked) {
            atomic_store_explicit(&s->fired, true, memory_order_release);
            kin__wake(&s->co->sched);
        }
    }
    KIN__ASSERT(h->nsubs == 0 && h->nwaiting == 0);
}

void kin__hot_park(kin__hot *h, kin__hot_sub *s) {
    s->waiting = true;
    h->nwaiting++;
    atomic_store_explicit(&s->fired, false, memory_order_relaxed);
    kin__lock_release(&h->lock);
    kin__job_wait(s->co, &s->fired, true);
    kin__lock_acquire(&h->lock);
    if (s->waiting) { /* woken by a cancellation, not by a value */
        s->waiting = false;
        h->nwaiting--;
    }
}

/* ---- Results ------------------------------------------------------------- */

int kin__hot_destroyed_rc(const char *what) {
    kin__error_set(kin__error_make(KIN_ECANCELED, "CancellationException",
                                   NULL, "the %s was destroyed", what));
    return KIN_ECANCELED;
}

int kin__hot_cancelled_rc(kin__job *co) {
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

int kin__hot_outside(const char *who) {
    return kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine", who);
}

int kin__hot_check_size(kin__hot *h, const void *p, size_t size,
                        const char *who, const char *name) {
    size_t want = h->esize;
    if (KIN__LIKELY(size == want && (p || !size)))
        return 0;
    kin__lock_release(&h->lock);
    if (size != want)
        return kin__misuse(KIN_EINVAL,
                           "%s: size %zu, but the flow's values have %zu "
                           "bytes",
                           who, size, want);
    return kin__misuse(KIN_EINVAL, "%s: %s is NULL", who, name);
}

void *kin__hot_buf(void *buf, size_t bufsize, size_t esize) {
    if (esize <= bufsize)
        return buf;
    return kin__malloc(esize);
}

void kin__hot_buf_free(void *buf, void *p) {
    if (p != buf)
        kin__free(p);
}

/* ---- Collecting ------------------------------------------------------------ */

#define STACK_BUF 256 /* values up to this size are copied on the stack */

/* Checks the handle and gives the flow's value size: 0, or the code of
 * kin__hot_get with its message made. */
static int esize_of(uint64_t id, uint8_t kind, const char *who,
                    const char *what, size_t *esize) {
    int rc;
    *esize = 0;
    kin__hot *h = kin__hot_get(id, kind, who, what, &rc);
    if (!h)
        return rc;
    *esize = h->esize;
    kin__lock_release(&h->lock);
    return 0;
}

int kin__hot_collect(uint64_t id, uint8_t kind, const char *what,
                     size_t nvals, kin__hot_subscribe_fn subscribe,
                     kin__hot_fn fn, void *ctx, const char *who) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__hot_outside(who);
    size_t esize;
    int rc = esize_of(id, kind, who, what, &esize);
    if (rc < 0)
        return rc;
    char stack[2 * STACK_BUF];
    KIN__ASSERT(nvals >= 1 && nvals <= 2);
    char *buf = esize > SIZE_MAX / nvals
                    ? NULL
                    : kin__hot_buf(stack, nvals * STACK_BUF, nvals * esize);
    if (!buf)
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    kin__hot *h = kin__hot_get(id, kind, who, what, &rc);
    if (h) {
        kin__hot_sub sub = {0};
        sub.co = co;
        atomic_init(&sub.fired, false);
        rc = subscribe(h, &sub, buf, fn, ctx);
    }
    kin__hot_buf_free(stack, buf);
    return rc;
}

/* ---- as_flow: the cold flow stage that collects a hot flow ---------------- */

typedef struct hot_stage {
    kin__flow base;
    uint64_t id; /* [immutable] the hot flow's handle */
    int (*collect)(uint64_t id, kin__hot_fn fn, void *ctx, const char *who);
    const char *who;
} hot_stage;

static int emit_down(const void *value, void *ctx) {
    return kin__flow_emit_down(ctx, value);
}

static int hot_stage_collect(kin__flow *self, kin_flow_collector *down) {
    hot_stage *st = KIN__FLOW_FIELDS(hot_stage, self);
    return kin__flow_rc(st->collect(st->id, emit_down, down, st->who));
}

static const kin__flow_ops state_stage_ops = {"kin_state_flow_as_flow",
                                              hot_stage_collect, NULL};
static const kin__flow_ops shared_stage_ops = {"kin_shared_flow_as_flow",
                                               hot_stage_collect, NULL};

int kin__hot_as_flow(uint64_t id, uint8_t kind, kin_flow *out,
                     int (*collect)(uint64_t, kin__hot_fn, void *,
                                    const char *),
                     const char *who, const char *what, const char *col_who) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "%s: out is NULL", who);
    out->id = 0;
    size_t esize;
    int rc = esize_of(id, kind, who, what, &esize);
    if (rc < 0)
        return rc;
    kin__flow *st;
    const kin__flow_ops *ops =
        kind == KIN__HOT_STATE ? &state_stage_ops : &shared_stage_ops;
    if ((rc = kin__flow_make(out, ops, sizeof(hot_stage), esize, NULL, &st)))
        return rc;
    hot_stage *hs = KIN__FLOW_FIELDS(hot_stage, st);
    hs->id = id;
    hs->collect = collect;
    hs->who = col_who;
    return 0;
}
