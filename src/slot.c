/*
 * slot.c — the table of job records and their handles.
 *
 * A kin_job is {generation << 32 | index}. Records live in chunks of
 * CHUNK_SLOTS that are allocated on demand and never freed ("type-stable
 * memory"), so looking a handle up can never touch unmapped memory, whatever
 * the handle holds: the index is bounds-checked, then the record's
 * generation is compared. A record's generation is bumped when it is
 * reclaimed, so every handle to the old job reads as stale (L1). Memory is
 * bounded by the peak number of live records (L4).
 *
 * refgen packs the generation and the reference count in one atomic word, so
 * "check the generation and take a reference" is a single compare-and-swap
 * that cannot race with reclamation.
 *
 * Free records are cached per thread (no lock on the spawn path) and spill to
 * a global list under g_mu when a cache grows past CACHE_MAX; g_mu also
 * guards chunk allocation. Lock order: g_mu is a leaf.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "job.h"
#include "kin_assert.h"

#define CHUNK_SHIFT 12
#define CHUNK_SLOTS (1u << CHUNK_SHIFT)
#define MAX_CHUNKS (1u << 18) /* 2^30 slots */
#define CACHE_MAX 512
#define BATCH 64
#define SEQ_BLOCK 1024

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(kin__job *) g_chunks[MAX_CHUNKS];
static atomic_uint g_nslots = 1; /* slot 0 is never used: zero handle */
static kin__job *g_free;         /* [g_mu] */
static size_t g_nfree;           /* [g_mu] */
static atomic_uint_fast64_t g_seq;

typedef struct slot_cache {
    kin__job *head;
    size_t n;
    uint64_t seq_next, seq_end;
    bool registered;
} slot_cache;

static _Thread_local slot_cache t_cache;
static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;

static void cache_flush(void *unused);

static void key_init(void) {
    pthread_key_create(&g_key, cache_flush);
}

static inline kin__job *slot_at(uint32_t idx) {
    kin__job *chunk = atomic_load_explicit(&g_chunks[idx >> CHUNK_SHIFT],
                                           memory_order_acquire);
    return &chunk[idx & (CHUNK_SLOTS - 1)];
}

/* Moves up to BATCH free records into the calling thread's cache. Called
 * with g_mu held. Returns false if memory ran out. */
static bool refill_locked(slot_cache *c) {
    while (c->n < BATCH && g_free) {
        kin__job *j = g_free;
        g_free = j->free_next;
        g_nfree--;
        j->free_next = c->head;
        c->head = j;
        c->n++;
    }
    if (c->n)
        return true;
    /* Carve a batch of fresh slots, allocating a chunk when needed. */
    uint32_t first = atomic_load_explicit(&g_nslots, memory_order_relaxed);
    for (uint32_t k = 0; k < BATCH; k++) {
        uint32_t idx = first + k;
        if ((idx >> CHUNK_SHIFT) >= MAX_CHUNKS)
            break;
        kin__job *chunk = atomic_load_explicit(&g_chunks[idx >> CHUNK_SHIFT],
                                               memory_order_relaxed);
        if (!chunk) {
            chunk = kin__calloc(CHUNK_SLOTS, sizeof(kin__job));
            if (!chunk)
                break;
            for (uint32_t i = 0; i < CHUNK_SLOTS; i++) {
                chunk[i].idx = ((idx >> CHUNK_SHIFT) << CHUNK_SHIFT) | i;
                atomic_init(&chunk[i].refgen, (uint64_t)1 << 32);
            }
            atomic_store_explicit(&g_chunks[idx >> CHUNK_SHIFT], chunk,
                                  memory_order_release);
        }
        kin__job *j = &chunk[idx & (CHUNK_SLOTS - 1)];
        j->free_next = c->head;
        c->head = j;
        c->n++;
        atomic_store_explicit(&g_nslots, idx + 1, memory_order_release);
    }
    return c->n > 0;
}

static void register_cache(slot_cache *c) {
    if (c->registered)
        return;
    pthread_once(&g_key_once, key_init);
    pthread_setspecific(g_key, c);
    c->registered = true;
}

kin__job *kin__job_alloc(uint32_t refs) {
    slot_cache *c = &t_cache;
    if (KIN__UNLIKELY(!c->head)) {
        register_cache(c);
        pthread_mutex_lock(&g_mu);
        bool ok = refill_locked(c);
        pthread_mutex_unlock(&g_mu);
        if (!ok)
            return NULL;
    }
    if (kin__fault_hit())
        return NULL;
    kin__job *j = c->head;
    c->head = j->free_next;
    c->n--;
    j->free_next = NULL;
    memset(&j->kind, 0, sizeof *j - offsetof(kin__job, kind));
    uint64_t gen = atomic_load_explicit(&j->refgen, memory_order_relaxed) >> 32;
    atomic_store_explicit(&j->refgen, (gen << 32) | refs, memory_order_release);
    return j;
}

static void slot_free(kin__job *j) {
    /* Bump the generation: every old handle is stale from here on. */
    uint64_t gen = atomic_load_explicit(&j->refgen, memory_order_relaxed) >> 32;
    gen = (gen + 1) & 0xffffffffu;
    if (gen == 0)
        gen = 1;
    atomic_store_explicit(&j->refgen, gen << 32, memory_order_release);

    slot_cache *c = &t_cache;
    register_cache(c);
    j->free_next = c->head;
    c->head = j;
    c->n++;
    if (c->n > CACHE_MAX) {
        pthread_mutex_lock(&g_mu);
        while (c->n > CACHE_MAX / 2) {
            kin__job *x = c->head;
            c->head = x->free_next;
            c->n--;
            x->free_next = g_free;
            g_free = x;
            g_nfree++;
        }
        pthread_mutex_unlock(&g_mu);
    }
}

/* Thread exit: give the cached records back to everyone. */
static void cache_flush(void *unused) {
    (void)unused;
    slot_cache *c = &t_cache;
    pthread_mutex_lock(&g_mu);
    while (c->head) {
        kin__job *x = c->head;
        c->head = x->free_next;
        x->free_next = g_free;
        g_free = x;
        g_nfree++;
    }
    c->n = 0;
    pthread_mutex_unlock(&g_mu);
}

static void job_destroy(kin__job *j) {
    KIN__ASSERT(j->nodes_head == NULL);
    KIN__ASSERT(j->owned_head == NULL);
    KIN__ASSERT(j->child_head == NULL);
    if (j->result_free && j->result)
        j->result_free(j->result);
    kin_error_release(j->cause);
    kin_error_release(j->failure);
    kin_error_release(j->cancel_self);
    kin_error_release(j->cancel_kids);
    kin_error_release(j->error);
    slot_free(j);
}

void kin__job_ref(kin__job *j) {
    atomic_fetch_add_explicit(&j->refgen, 1, memory_order_relaxed);
}

void kin__job_unref(kin__job *j) {
    uint64_t old =
        atomic_fetch_sub_explicit(&j->refgen, 1, memory_order_acq_rel);
    KIN__ASSERT((uint32_t)old != 0);
    if ((uint32_t)old == 1)
        job_destroy(j);
}

kin__job *kin__job_acquire(kin_job h, int *err) {
    uint32_t idx = (uint32_t)h.id;
    uint32_t gen = (uint32_t)(h.id >> 32);
    if (idx == 0 || gen == 0 ||
        idx >= atomic_load_explicit(&g_nslots, memory_order_acquire)) {
        *err = KIN_EINVAL;
        return NULL;
    }
    kin__job *j = slot_at(idx);
    uint64_t w = atomic_load_explicit(&j->refgen, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(w >> 32) != gen || (uint32_t)w == 0) {
            *err = KIN_ESTALE;
            return NULL;
        }
        if (atomic_compare_exchange_weak_explicit(&j->refgen, &w, w + 1,
                                                  memory_order_acquire,
                                                  memory_order_acquire))
            return j;
    }
}

uint64_t kin__job_next_seq(void) {
    slot_cache *c = &t_cache;
    if (KIN__UNLIKELY(c->seq_next == c->seq_end)) {
        c->seq_next =
            atomic_fetch_add_explicit(&g_seq, SEQ_BLOCK, memory_order_relaxed) +
            1;
        c->seq_end = c->seq_next + SEQ_BLOCK;
    }
    return c->seq_next++;
}
