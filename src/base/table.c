/*
 * table.c — the slow path of the record tables (base/table.h): taking a
 * record off the free list or from a fresh index, growing the chunks,
 * putting a record back. All under the table's mutex; lookups never take
 * it (they read nslots and the chunk pointers, published with release
 * stores after the records they reach are set up).
 */
#include <string.h>

#include "base/alloc.h"
#include "base/table.h"

/* The record's free-list link. memcpy: the link is declared as a pointer
 * to the user's record type, not as void *. */
static void *link_get(kin__table *t, char *rec) {
    void *next;
    memcpy(&next, rec + t->free_off, sizeof next);
    return next;
}

static void link_set(kin__table *t, char *rec, void *next) {
    memcpy(rec + t->free_off, &next, sizeof next);
}

/* Sets up a record of a new chunk (zeroed, not reachable yet: the chunk
 * is published after): its index and first generation. memcpy: the
 * generation may be an atomic word (no other thread sees it yet). */
static void fresh(kin__table *t, char *rec, uint32_t idx) {
    memcpy(rec + t->idx_off, &idx, sizeof idx);
    if (t->gen_size == sizeof(uint32_t)) {
        uint32_t g = (uint32_t)t->gen_first;
        memcpy(rec + t->gen_off, &g, sizeof g);
    } else {
        uint64_t g = t->gen_first;
        memcpy(rec + t->gen_off, &g, sizeof g);
    }
}

/* The record of the next index never handed out, making its chunk if
 * needed; NULL when out of memory or full. t->mu held. */
static char *take_fresh(kin__table *t) {
    uint32_t idx = atomic_load_explicit(&t->nslots, memory_order_relaxed);
    uint32_t c = idx >> t->shift, slots = 1u << t->shift;
    if (c >= KIN__TABLE_MAX_CHUNKS)
        return NULL;
    char *chunk = atomic_load_explicit(&t->chunks[c], memory_order_relaxed);
    if (!chunk) {
        chunk = kin__calloc(slots, t->size);
        if (!chunk)
            return NULL;
        for (uint32_t i = 0; i < slots; i++)
            fresh(t, chunk + (size_t)i * t->size, (c << t->shift) | i);
        atomic_store_explicit(&t->chunks[c], chunk, memory_order_release);
    }
    atomic_store_explicit(&t->nslots, idx + 1, memory_order_release);
    return chunk + (size_t)(idx & (slots - 1)) * t->size;
}

void *kin__table_alloc(kin__table *t) {
    pthread_mutex_lock(&t->mu);
    char *rec = t->free;
    if (rec) {
        t->free = link_get(t, rec);
        link_set(t, rec, NULL);
    } else {
        rec = take_fresh(t);
    }
    pthread_mutex_unlock(&t->mu);
    return rec;
}

void kin__table_free(kin__table *t, void *rec) {
    pthread_mutex_lock(&t->mu);
    link_set(t, rec, t->free);
    t->free = rec;
    pthread_mutex_unlock(&t->mu);
}
