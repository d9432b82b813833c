/*
 * stack.h — coroutine stacks: allocation, caches, overflow checks.
 *
 * Memory of one stack (addresses grow upward; the stack grows down):
 *
 *     guard mode:   | guard page | usable stack ........ | kin__stack | rsv |
 *     canary mode:  ...rsv(k-1) | usable stack (k) ..... | kin__stack | rsv |
 *                               ^ lo                                  ^ top
 *
 * The descriptor and a 16-byte reserve sit at the top, in the page the
 * coroutine touches first, so a parked coroutine that used little stack
 * costs one resident page (its frames plus these 80 bytes).
 *
 * Two modes, because a PROT_NONE guard page splits a mapping and Linux
 * limits a process to vm.max_map_count mappings (65530 by default):
 *   guard   a guard page below each stack; an overflow faults at once and
 *           the SIGSEGV handler (on an alternate signal stack) names the
 *           coroutine. On Linux 6.13 and later the guard is a page-table
 *           marker (MADV_GUARD_INSTALL, ~0.7 us) in 8 MiB chunks of
 *           [guard | stack] slots: no mapping of its own, and it survives
 *           MADV_DONTNEED, so a stack given back keeps its range and guard
 *           for reuse. Older kernels (or KIN_STACK_GUARD=map) get one
 *           mapping per stack with a PROT_NONE page (mmap + mprotect, ~4
 *           us, two mappings). The first vm.max_map_count / 4 stacks get
 *           guard mode either way.
 *   canary  stacks carved one after another from 8 MiB chunks (a guard page
 *           below each chunk only; a marker where the kernel has them, so
 *           that the chunks merge into a few mappings). Stack k's overflow runs first into the
 *           reserve at the top of stack k-1, which holds a canary word; it is
 *           checked, with the stack pointer, each time k switches away. Used
 *           once guard stacks would take half the mapping budget, or always
 *           with KIN_STACK_GUARD=0.
 * Both report "kin: stack overflow in coroutine 'NAME' (stack of N bytes)"
 * and abort.
 *
 * Caches: a finished coroutine's stack goes to its worker's pool, then to a
 * global cache, with no system call: a burst of a million completions does
 * not turn into a million munmaps. An idle worker trims (kin__stack_trim):
 * its pool back to a few dozen stacks, and the global cache back to a
 * budget, giving the kernel back the stacks that stayed unused for a second
 * (Go's scavenger and jemalloc's decay work the same way): a stack
 * reused soon costs no page fault.
 */
#ifndef KIN_STACK_H
#define KIN_STACK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/kin_assert.h"
#include "base/sanitizer.h"

#define KIN__STACK_CANARY 0x6b696e2d63616e61ull /* "kin-cana" */
#define KIN__STACK_DEFAULT_SIZE (128u * 1024u)
#define KIN__STACK_MIN_SIZE (16u * 1024u)
#define KIN__STACK_RESERVE 16u /* the canary of the stack above */

typedef struct kin__stack {
    struct kin__stack *next; /* cache link while free */
    char *lo;                /* lowest usable byte */
    size_t size;             /* the size asked for (what messages report) */
    size_t usable;           /* bytes from lo up to this descriptor */
    char *map;               /* guard mode: its guard page, else NULL */
    size_t map_len;          /* its own mapping's length (map..), else 0 */
    const volatile uint64_t *canary; /* canary mode: the word below lo */
    unsigned vg_id;                  /* Valgrind stack id */
    bool guarded;
} kin__stack;

/* A worker's free stacks, as (pointer, size) pairs: finding one of the
 * right size reads no stack memory (a cached stack's pages are cold). */
#define KIN__POOL_CAP 256
typedef struct kin__stack_pool {
    size_t count; /* LIFO: the most recently used stack is warmest */
    struct {
        kin__stack *s;
        size_t size;
    } e[KIN__POOL_CAP];
} kin__stack_pool;

/* The default stack size: KIN_STACK_SIZE from the environment, or 128 KiB. */
size_t kin__stack_default_size(void);

/* Rounds a requested size up to whole pages, at least KIN__STACK_MIN_SIZE;
 * 0 means the default. */
size_t kin__stack_round(size_t size);

/* The default size once known (else 0): kin__stack_round(0) without a
 * call, for the spawn fast path. */
extern atomic_size_t kin__stack_default_bytes;
static inline size_t kin__stack_default_fast(void) {
    size_t d =
        atomic_load_explicit(&kin__stack_default_bytes, memory_order_acquire);
    return d ? d : kin__stack_round(0);
}

/* Takes a stack of exactly `size` bytes (already rounded) from the pool, the
 * global cache, or a new mapping. NULL when out of memory (or when fault
 * injection says so). */
kin__stack *kin__stack_get_slow(kin__stack_pool *pool, size_t size);
static inline kin__stack *kin__stack_get(kin__stack_pool *pool, size_t size) {
    /* The common case inline: the most recently pooled stack fits (the
     * search of the rest, the global cache and new mappings are in the
     * slow path, whose frame is large). */
    size_t n = pool->count;
    if (KIN__LIKELY(n != 0) && pool->e[n - 1].size == size) {
        pool->count = n - 1;
        return pool->e[n - 1].s;
    }
    return kin__stack_get_slow(pool, size);
}

/* Gives a stack back (to the pool, or the global cache past its size). */
void kin__stack_put_slow(kin__stack_pool *pool, kin__stack *s);
static inline void kin__stack_put(kin__stack_pool *pool, kin__stack *s) {
#if !KIN__ASAN /* ASan unpoisons the stack's top first (stack.c) */
    size_t n = pool->count;
    if (KIN__LIKELY(n < KIN__POOL_CAP)) {
        pool->e[n].s = s;
        pool->e[n].size = s->size;
        pool->count = n + 1;
        return;
    }
#endif
    kin__stack_put_slow(pool, s);
}

/* Idle-time housekeeping: shrinks the pool to its budget and gives the
 * kernel back the cached stacks that went unused for a second (a slice at a
 * time). Returns when to call again if still idle (CLOCK_MONOTONIC ns; now
 * if there is more to release at once, INT64_MAX if nothing is pending):
 * the caller sleeps no longer than that. Cheap when there is nothing to
 * do. */
int64_t kin__stack_trim(kin__stack_pool *pool);

/* Frees every stack in the pool (worker teardown). */
void kin__stack_pool_drain(kin__stack_pool *pool);

/* Overflow check at a switch away from the coroutine that runs on s: its
 * stack pointer must be inside, and, in canary mode, the canary below
 * intact (0 means the stack below was released: it cannot be corrupted). */
static inline bool kin__stack_ok(const kin__stack *s, const void *sp) {
    if (!s->canary)
        return true; /* guard mode: the guard page reports */
    uint64_t c = *s->canary;
    return (c == KIN__STACK_CANARY || c == 0) &&
           (const char *)sp >= s->lo + 256;
}

/* Reports an overflow of s in the named coroutine and aborts. */
__attribute__((noreturn)) void kin__stack_overflow(const kin__stack *s,
                                                   const char *name);

/* Gives the calling thread an alternate signal stack (if it has none) so the
 * SIGSEGV handler can run after a guard-page fault. Call once per worker. */
void kin__stack_thread_init(void);
void kin__stack_thread_fini(void);

/* Statistics for tests and benchmarks. */
typedef struct kin__stack_stats {
    size_t mapped;      /* stacks currently mapped in guard mode */
    size_t canary;      /* stacks ever carved in canary mode */
    size_t cached;      /* stacks in the global cache */
    size_t guard_limit; /* how many guard stacks the mapping budget allows */
} kin__stack_stats;
void kin__stack_get_stats(kin__stack_stats *out);

/* Supplied by scheduler.c for the SIGSEGV handler: the stack and display
 * name of the coroutine running on this thread, or false if none.
 * Async-signal-safe. */
bool kin__running_stack(const kin__stack **s, char *name, size_t len);

#endif
