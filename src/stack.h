/*
 * stack.h — coroutine stacks: allocation, per-thread pools, overflow checks.
 *
 * Memory of one stack (addresses grow upward):
 *
 *     map                                                          top
 *     | guard page | canary | usable stack ............ | kin__stack |
 *     (PROT_NONE)   lo ^                                  descriptor
 *
 * The descriptor sits at the top, in the page the coroutine touches first,
 * so a parked coroutine that used little stack costs one resident page.
 *
 * Two modes, because every guard page splits a mapping and Linux limits a
 * process to vm.max_map_count mappings (65530 by default):
 *   guard   one mmap per stack with a PROT_NONE page below it; an overflow
 *           faults at once and the SIGSEGV handler (on an alternate signal
 *           stack) names the coroutine.
 *   canary  stacks carved from large chunks with no guard pages; a canary
 *           word at the bottom is checked at every switch away from the
 *           coroutine. Used once guard stacks would take more than half the
 *           mapping budget, or always with KIN_STACK_GUARD=0.
 * Both report "kin: stack overflow in coroutine 'NAME' (stack of N bytes)"
 * and abort.
 *
 * Pools: each worker thread keeps finished stacks for reuse (no system call
 * per spawn in steady state); stacks beyond its cap are unmapped (guard) or
 * returned, with their pages released, to a global list (canary).
 */
#ifndef KIN_STACK_H
#define KIN_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIN__STACK_CANARY 0x6b696e2d63616e61ull /* "kin-cana" */
#define KIN__STACK_DEFAULT_SIZE (128u * 1024u)
#define KIN__STACK_MIN_SIZE (16u * 1024u)

typedef struct kin__stack {
    struct kin__stack *next; /* pool link while free */
    char *lo;                /* lowest usable byte; the canary lives here */
    size_t size;             /* the size asked for (what messages report) */
    size_t usable;           /* bytes from lo up to this descriptor */
    char *map;               /* guard mode: the whole mapping, else NULL */
    size_t map_len;
    unsigned vg_id; /* Valgrind stack id */
    bool guarded;
} kin__stack;

typedef struct kin__stack_pool {
    kin__stack *free; /* LIFO: the most recently used stack is warmest */
    size_t count;
} kin__stack_pool;

/* The default stack size: KIN_STACK_SIZE from the environment, or 128 KiB. */
size_t kin__stack_default_size(void);

/* Rounds a requested size up to whole pages, at least KIN__STACK_MIN_SIZE;
 * 0 means the default. */
size_t kin__stack_round(size_t size);

/* Takes a stack of exactly `size` bytes (already rounded) from the pool or
 * maps a new one. NULL when out of memory (or when fault injection says so). */
kin__stack *kin__stack_get(kin__stack_pool *pool, size_t size);

/* Gives a stack back to the pool (or frees it past the pool's cap). */
void kin__stack_put(kin__stack_pool *pool, kin__stack *s);

/* Frees every stack in the pool (thread exit). */
void kin__stack_pool_drain(kin__stack_pool *pool);

static inline bool kin__stack_canary_ok(const kin__stack *s) {
    return *(const volatile uint64_t *)(const void *)s->lo == KIN__STACK_CANARY;
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
    size_t guard_limit; /* how many guard stacks the mapping budget allows */
} kin__stack_stats;
void kin__stack_get_stats(kin__stack_stats *out);

/* Supplied by scheduler.c for the SIGSEGV handler: the stack and display name of
 * the coroutine running on this thread, or false if none. Async-signal-safe.*/
bool kin__running_stack(const kin__stack **s, char *name, size_t len);

#endif
