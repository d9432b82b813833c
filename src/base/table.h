/*
 * table.h — the table of records behind checked handles, shared by
 * channels (sync/channel.c), Mutex and Semaphore (sync/semaphore.c), cold
 * flows (flow/flow.c) and StateFlow / SharedFlow (flow/hot.c).
 *
 * WHY. kin.h promises that a stale or garbage handle gives an error, never
 * undefined behaviour. So records live in chunks that are allocated on
 * demand and never freed (type-stable memory, as the job records of
 * job/slot.c): every index below nslots names memory that stays a record
 * of that one type for the life of the process, so a lookup may touch it
 * even when the handle is stale, and then tells by the generation. A
 * freed record goes on a free list and is reused; its user moves the
 * generation on before freeing it (kin__table_next_gen), so old handles
 * stop matching. Memory is bounded by the peak number of live records.
 *
 * WHAT IS HERE, WHAT IS NOT. Here: allocation and the free list (under
 * the table's mutex, a leaf: the slow path, out of line in table.c) and a
 * lookup's bounds check and chunk load (kin__table_has, kin__table_at,
 * kin__table_peek: inline, and given its user's constant shift and record
 * size they compile to the same code as a hand-written lookup). Each user keeps its own handle layout
 * ({generation << 32 | index}, a channel's producer bit), its generation
 * compare (under the record's spinlock, or in a flow slot's reference
 * word) and its fast path.
 *
 * Index 0 is never handed out: the zero handle names nothing.
 */
#ifndef KIN_BASE_TABLE_H
#define KIN_BASE_TABLE_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/kin_assert.h"

/* Chunks per table: (1 << 16) << shift records at most. */
#define KIN__TABLE_MAX_CHUNKS (1u << 16)

typedef struct kin__table {
    /* read by every lookup */
    atomic_uint nslots; /* indices handed out so far, 0 included */
    /* [immutable] the layout */
    _Atomic(void *) *chunks; /* KIN__TABLE_MAX_CHUNKS, NULL until made */
    size_t size;             /* bytes per record */
    unsigned shift;          /* 1 << shift records per chunk */
    size_t free_off;         /* the free-list link (a pointer to a record) */
    size_t idx_off;          /* the record's index (a uint32_t) */
    size_t gen_off;          /* the word holding its generation */
    size_t gen_size;         /* 4 or 8 bytes */
    uint64_t gen_first;      /* that word in a new record (generation 1) */
    /* the slow path, on its own cache line: alloc and free write here
     * while lookups on other threads read nslots */
    alignas(64) pthread_mutex_t mu; /* leaf */
    void *free;                     /* [mu] freed records */
} kin__table;

/* A table of records of `type` in the chunk array `chunks` (a global of
 * KIN__TABLE_MAX_CHUNKS: zeroed, in .bss, and at a fixed address for the
 * lookups). link: the member that links free records; idx: the uint32_t
 * member that holds the record's index; gen: the member (4 or 8 bytes)
 * that holds its generation, which new records get as `first` (1, or a
 * flow slot's 1 << 32: generation 1 in the high half, no reference). The
 * rest of a new record is zero. */
#define KIN__TABLE_INIT(chunks_, type, shift_, link, idx, gen, first)         \
    {                                                                          \
        .nslots = 1, .chunks = (chunks_), .size = sizeof(type),               \
        .shift = (shift_), .free_off = offsetof(type, link),                  \
        .idx_off = offsetof(type, idx), .gen_off = offsetof(type, gen),       \
        .gen_size = sizeof(((type *)0)->gen), .gen_first = (first),           \
        .mu = PTHREAD_MUTEX_INITIALIZER, .free = NULL                         \
    }

/* A record off the free list, or a fresh one; NULL when out of memory or
 * the table is full. The caller sets it up (under its own lock). */
void *kin__table_alloc(kin__table *t);

/* Puts rec back (its generation already moved on: no handle names it). */
void kin__table_free(kin__table *t, void *rec);

/* True if idx names a record: not 0 and handed out (else a foreign or
 * garbage handle). */
static inline bool kin__table_has(kin__table *t, uint32_t idx) {
    return KIN__LIKELY(idx != 0 && idx < atomic_load_explicit(
                                             &t->nslots,
                                             memory_order_acquire));
}

/* The record at idx (kin__table_has) in the chunk array of its table.
 * shift and size must be the table's constants, for the code to be a
 * hand-written lookup's. The record may be free or reused: the caller
 * compares the generation. */
static inline void *kin__table_at(_Atomic(void *) *chunks, uint32_t idx,
                                  unsigned shift, size_t size) {
    char *chunk =
        atomic_load_explicit(&chunks[idx >> shift], memory_order_acquire);
    return chunk + (size_t)(idx & ((1u << shift) - 1)) * size;
}

/* Both: the record at idx, or NULL if there is none. (A caller that fails
 * at once on a bad index uses the two itself: the compiler cannot tell
 * that the record's address is never NULL, and tests it again.) */
static inline void *kin__table_peek(kin__table *t, _Atomic(void *) *chunks,
                                    uint32_t idx, unsigned shift,
                                    size_t size) {
    if (KIN__UNLIKELY(!kin__table_has(t, idx)))
        return NULL;
    return kin__table_at(chunks, idx, shift, size);
}

/* The generation after gen, kept within mask (the bits a handle has for
 * it) and never 0: records start at 1, so no generation-0 handle (a zero
 * or garbage one) ever matches. */
static inline uint32_t kin__table_next_gen(uint32_t gen, uint32_t mask) {
    gen = (gen + 1) & mask;
    return gen ? gen : 1;
}

#endif
