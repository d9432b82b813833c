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
 * FREE RECORDS travel in magazines (Bonwick's slab allocator): arrays of
 * MAG_SLOTS pointers. Each thread has a loaded and a spare magazine; full
 * and empty magazines are exchanged with a global depot under g_mu. Moving
 * records never touches them, so a burst of a million spawns or frees costs
 * no cache miss for bookkeeping: the only memory a new record costs is what
 * the spawn writes into it.
 *
 * CLEAN ON FREE: a record is zeroed when it is reclaimed, while its lines
 * are still in the cache of the thread that used it last, not when it is
 * allocated, when they are cold. So kin__job_alloc hands out a record whose
 * fields are all zero except identity (refgen, idx) and the lock, which is
 * free unless a stale holder still has it (see kin__job.lock).
 *
 * Lock order: g_mu is a leaf.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "base/alloc.h"
#include "base/kin_assert.h"
#include "job/job.h"

#define CHUNK_SHIFT 12
#define CHUNK_SLOTS (1u << CHUNK_SHIFT)
#define MAX_CHUNKS (1u << 18) /* 2^30 slots */
#define MAG_SLOTS 128
#define SEQ_BLOCK 1024

typedef struct magazine {
    struct magazine *next; /* in the depot */
    unsigned n;
    kin__job *slot[MAG_SLOTS];
} magazine;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(kin__job *) g_chunks[MAX_CHUNKS];
static atomic_uint g_nslots = 1; /* slot 0 is never used: zero handle */
static magazine *g_full;         /* [g_mu] depot: full magazines */
static magazine *g_empty;        /* [g_mu] depot: empty magazines */
static atomic_uint_fast64_t g_seq;

typedef struct slot_cache {
    magazine *loaded, *spare;
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

static void register_cache(slot_cache *c) {
    pthread_once(&g_key_once, key_init);
    pthread_setspecific(g_key, c);
    c->registered = true;
}

static magazine *mag_new(void) {
    magazine *m = kin__malloc(sizeof *m);
    if (m) {
        m->next = NULL;
        m->n = 0;
    }
    return m;
}

/* Fills m with fresh slots, allocating a chunk when needed. g_mu held.
 * The magazine pops from its end, so the highest record goes in first:
 * records are handed out in ascending address order (prefetch-friendly).
 * g_nslots is published once, after the records are in the magazine
 * (nobody holds a handle to them before they are handed out). */
static void carve_locked(magazine *m) {
    uint32_t idx = atomic_load_explicit(&g_nslots, memory_order_relaxed);
    kin__job *got[MAG_SLOTS];
    unsigned n = 0, room = MAG_SLOTS - m->n;
    while (n < room && (idx >> CHUNK_SHIFT) < MAX_CHUNKS) {
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
        /* the rest of this chunk, at most what the magazine still takes */
        uint32_t off = idx & (CHUNK_SLOTS - 1);
        uint32_t k = CHUNK_SLOTS - off;
        if (k > room - n)
            k = room - n;
        for (uint32_t i = 0; i < k; i++)
            got[n++] = &chunk[off + i];
        idx += k;
    }
    atomic_store_explicit(&g_nslots, idx, memory_order_release);
    for (unsigned i = 0; i < n; i++) /* pop order: ascending addresses */
        m->slot[m->n++] = got[n - 1 - i];
}

/* The loaded magazine is empty: swap in the spare, or a full one from the
 * depot, or carve fresh slots. Returns false when memory ran out. Out of
 * line: inlined, it made every kin__job_alloc save five registers. */
static __attribute__((noinline)) bool refill(slot_cache *c) {
    if (!c->registered)
        register_cache(c);
    if (c->spare && c->spare->n) {
        magazine *t = c->loaded;
        c->loaded = c->spare;
        c->spare = t;
        return true;
    }
    pthread_mutex_lock(&g_mu);
    if (g_full) {
        magazine *m = g_full;
        g_full = m->next;
        if (c->loaded) {
            c->loaded->next = g_empty;
            g_empty = c->loaded;
        }
        c->loaded = m;
        pthread_mutex_unlock(&g_mu);
        return true;
    }
    if (!c->loaded) {
        c->loaded = g_empty;
        if (c->loaded)
            g_empty = c->loaded->next;
        else
            c->loaded = mag_new();
        if (!c->loaded) {
            pthread_mutex_unlock(&g_mu);
            return false;
        }
        c->loaded->n = 0;
    }
    carve_locked(c->loaded);
    bool ok = c->loaded->n > 0;
    pthread_mutex_unlock(&g_mu);
    return ok;
}

kin__job *kin__job_alloc(uint32_t refs) {
    slot_cache *c = &t_cache;
    if (KIN__UNLIKELY(!c->loaded || c->loaded->n == 0) && !refill(c))
        return NULL;
    if (kin__fault_hit())
        return NULL;
    kin__job *j = c->loaded->slot[--c->loaded->n];
    /* Clean on free: everything but identity is zero already. */
    uint64_t gen = atomic_load_explicit(&j->refgen, memory_order_relaxed) >> 32;
    atomic_store_explicit(&j->refgen, (gen << 32) | refs, memory_order_release);
    return j;
}

/* The loaded magazine is missing or full: make room (spare, depot), then
 * put j in. Out of line, so that slot_free saves no registers. */
static __attribute__((noinline)) void slot_free_slow(slot_cache *c,
                                                     kin__job *j) {
    if (!c->registered)
        register_cache(c);
    if (c->spare && c->spare->n < MAG_SLOTS) {
        magazine *t = c->loaded;
        c->loaded = c->spare;
        c->spare = t;
    } else {
        pthread_mutex_lock(&g_mu);
        if (c->spare && c->spare->n == MAG_SLOTS) {
            c->spare->next = g_full;
            g_full = c->spare;
            c->spare = NULL;
        }
        if (!c->spare) {
            c->spare = c->loaded;
            c->loaded = g_empty;
            if (c->loaded)
                g_empty = c->loaded->next;
            else
                c->loaded = mag_new();
            if (c->loaded)
                c->loaded->n = 0;
        }
        pthread_mutex_unlock(&g_mu);
        if (!c->loaded) {
            /* No memory for a magazine: the record stays reclaimed but
             * unreachable (a bounded leak under memory exhaustion). */
            c->loaded = c->spare;
            c->spare = NULL;
            return;
        }
    }
    c->loaded->slot[c->loaded->n++] = j;
}

/* Puts a reclaimed (and cleaned) record into the calling thread's cache. */
static inline void slot_free(kin__job *j) {
    slot_cache *c = &t_cache;
    if (KIN__UNLIKELY(!c->loaded || c->loaded->n == MAG_SLOTS)) {
        slot_free_slow(c, j);
        return;
    }
    c->loaded->slot[c->loaded->n++] = j;
}

/* Thread exit: give the magazines back to everyone. */
static void cache_flush(void *unused) {
    (void)unused;
    slot_cache *c = &t_cache;
    pthread_mutex_lock(&g_mu);
    magazine *ms[2] = {c->loaded, c->spare};
    for (int i = 0; i < 2; i++) {
        magazine *m = ms[i];
        if (!m)
            continue;
        if (m->n) {
            m->next = g_full;
            g_full = m;
        } else {
            m->next = g_empty;
            g_empty = m;
        }
    }
    c->loaded = c->spare = NULL;
    pthread_mutex_unlock(&g_mu);
}

/* Zeroes everything after identity: memset(&j->kind, 0, ...) written out
 * as 16-byte stores. Compilers expand a memset of this size into a string
 * instruction (rep stos: a slow start, and one counted instruction per
 * 8 bytes under callgrind) or a call; two dozen plain vector stores are
 * cheaper, and the lines are in the cache already (the record was just
 * used). Straight-line code, not a loop, so that it is not turned back
 * into a memset. */
typedef uint64_t zero16 __attribute__((vector_size(16), aligned(8), may_alias));
typedef uint64_t zero8 __attribute__((aligned(4), may_alias));
typedef uint32_t zero4 __attribute__((may_alias));

#define CLEAN_FROM offsetof(kin__job, kind)
#define CLEAN_HEAD ((16 - CLEAN_FROM % 16) % 16) /* to a 16-byte offset */
#define CLEAN_VECS ((sizeof(kin__job) - CLEAN_FROM - CLEAN_HEAD) / 16)
#define CLEAN_TAIL ((sizeof(kin__job) - CLEAN_FROM - CLEAN_HEAD) % 16)
_Static_assert(CLEAN_HEAD == 0 || CLEAN_HEAD == 4 || CLEAN_HEAD == 8 ||
                   CLEAN_HEAD == 12,
               "kin__job: identity ends on a 4-byte boundary");
_Static_assert(CLEAN_TAIL % 8 == 0, "kin__job: size a multiple of 8");

static inline void clean_record(kin__job *j) {
    char *p = (char *)j + CLEAN_FROM;
    if (CLEAN_VECS > 32) { /* a record too large for the stores below (the
                            * portable ucontext build: a ucontext_t each) */
        memset(p, 0, sizeof(kin__job) - CLEAN_FROM);
        return;
    }
    if (CLEAN_HEAD & 4) {
        *(zero4 *)p = 0;
        p += 4;
    }
    if (CLEAN_HEAD & 8) {
        *(zero8 *)p = 0;
        p += 8;
    }
    const zero16 z = {0, 0};
    zero16 *v = (zero16 *)p;
#define Z(i)                                                                   \
    if ((i) < CLEAN_VECS)                                                      \
        v[(i) < CLEAN_VECS ? (i) : 0] = z;
    Z(0) Z(1) Z(2) Z(3) Z(4) Z(5) Z(6) Z(7) Z(8) Z(9) Z(10) Z(11) Z(12) Z(13)
    Z(14) Z(15) Z(16) Z(17) Z(18) Z(19) Z(20) Z(21) Z(22) Z(23) Z(24) Z(25)
    Z(26) Z(27) Z(28) Z(29) Z(30) Z(31)
#undef Z
    p += CLEAN_VECS * 16;
    if (CLEAN_TAIL == 8)
        *(zero8 *)p = 0;
}

static void job_destroy(kin__job *j) {
    KIN__ASSERT(j->nodes_head == NULL);
    KIN__ASSERT(j->owned_head == NULL);
    KIN__ASSERT(j->child_head == NULL);
    if (j->result_free && j->result)
        j->result_free(j->result);
    kin_error *cause = atomic_load_explicit(&j->cause, memory_order_relaxed);
    kin_error *failure =
        atomic_load_explicit(&j->failure, memory_order_relaxed);
    /* A cancelled job usually holds its cause and nothing else (a million
     * cancelled children each come this way): a release is a call only
     * for a field that holds something. */
    if (KIN__UNLIKELY(cause != NULL))
        kin__error_unref(cause);
    if (KIN__UNLIKELY(failure != NULL))
        kin__error_unref(failure);
    if (KIN__UNLIKELY(j->later || j->cancel_self || j->cancel_kids ||
                      j->sched.error)) {
        kin__later_free(j->later); /* NULL once the job has finalized */
        kin_error_release(j->cancel_self);
        kin_error_release(j->cancel_kids);
        kin_error_release(j->sched.error);
    }
    if (j->name)
        kin__free(j->name);
    /* Bump the generation: every old handle is stale from here on. */
    uint64_t gen = atomic_load_explicit(&j->refgen, memory_order_relaxed) >> 32;
    gen = (gen + 1) & 0xffffffffu;
    if (gen == 0)
        gen = 1;
    /* Clean on free (see the top of this file). */
    clean_record(j);
    atomic_store_explicit(&j->refgen, gen << 32, memory_order_release);
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

/* sched/coro.h: the scheduler released a finished coroutine's stack. It
 * drops the coroutine's reference, and the tree reference too if the job
 * finalized on that stack (finalize_from in job.c left it for now). */
void kin__coro_retire(kin__coro *sco) {
    kin__job *j = kin__job_of(sco);
    uint32_t n = j->zombie_owns_tree ? 2 : 1;
    uint64_t old =
        atomic_fetch_sub_explicit(&j->refgen, n, memory_order_acq_rel);
    KIN__ASSERT((uint32_t)old >= n);
    if ((uint32_t)old == n)
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
