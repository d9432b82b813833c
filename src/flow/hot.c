/*
 * hot.c — what kin_state_flow (state.c) and kin_shared_flow (shared.c)
 * share: the table of records their handles name, subscriber lists and
 * the subscriber's park / wake. The design is in hot.h.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "flow/flow.h"
#include "flow/hot.h"
#include "sched/scheduler.h"

/* ---- The table ------------------------------------------------------------ */

#define CHUNK_SHIFT KIN__HOT_CHUNK_SHIFT
#define CHUNK_SLOTS (1u << CHUNK_SHIFT)
#define MAX_CHUNKS KIN__HOT_MAX_CHUNKS

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* leaf */
_Atomic(kin__hot *) kin__hot_chunks[MAX_CHUNKS];
atomic_uint kin__hot_nslots = 1; /* slot 0 is never used: zero handle */
static kin__hot *g_free;         /* [g_mu] freed records */

/* A free record (unlocked), or NULL if out of memory. g_mu held. */
static kin__hot *take_slot_locked(void) {
    kin__hot *h = g_free;
    if (h) {
        g_free = h->free_next;
        return h;
    }
    uint32_t idx = atomic_load_explicit(&kin__hot_nslots, memory_order_relaxed);
    if ((idx >> CHUNK_SHIFT) >= MAX_CHUNKS)
        return NULL;
    kin__hot *chunk = atomic_load_explicit(&kin__hot_chunks[idx >> CHUNK_SHIFT],
                                           memory_order_relaxed);
    if (!chunk) {
        chunk = kin__calloc(CHUNK_SLOTS, sizeof *chunk);
        if (!chunk)
            return NULL;
        for (uint32_t i = 0; i < CHUNK_SLOTS; i++) {
            chunk[i].idx = ((idx >> CHUNK_SHIFT) << CHUNK_SHIFT) | i;
            chunk[i].gen = 1;
        }
        atomic_store_explicit(&kin__hot_chunks[idx >> CHUNK_SHIFT], chunk,
                              memory_order_release);
    }
    atomic_store_explicit(&kin__hot_nslots, idx + 1, memory_order_release);
    return &chunk[idx & (CHUNK_SLOTS - 1)];
}

kin__hot *kin__hot_alloc(uint8_t kind) {
    pthread_mutex_lock(&g_mu);
    kin__hot *h = take_slot_locked();
    pthread_mutex_unlock(&g_mu);
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
    h->gen = h->gen + 1 == 0 ? 1 : h->gen + 1;
    kin__lock_release(&h->lock);
    pthread_mutex_lock(&g_mu);
    h->free_next = g_free;
    g_free = h;
    pthread_mutex_unlock(&g_mu);
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
    int rc;
    kin__hot *h = kin__hot_get(id, kind, who, what, &rc);
    if (!h)
        return rc;
    size_t esize = h->esize;
    kin__lock_release(&h->lock);
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
