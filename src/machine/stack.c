/*
 * stack.c — coroutine stacks (see stack.h for the memory picture and the
 * two modes).
 *
 * Globals and what guards them:
 *   g_default_size, g_guard_limit, g_page    set once under pthread_once
 *   g_guarded                                atomic: guard stacks mapped
 *   g_classes[], g_warm_total, g_epoch       g_mu (g_warm_total also read
 *                                            without it, as a hint)
 * Each kin__stack_pool belongs to one worker and is touched only by it.
 * g_mu is a leaf lock; system calls (munmap, madvise) are made after
 * releasing it.
 *
 * Per size class the global cache has two lists: warm stacks (their pages
 * still resident, reused at no cost) and cold canary-mode stacks (pages
 * given back with MADV_DONTNEED; the address range stays, as it belongs to
 * a chunk). Cold stacks are kept in an array, not a list: their descriptor
 * page was given back too.
 *
 * Trimming decays: a warm stack goes back to the kernel only once it has
 * gone unused for a whole epoch (DECAY_NS), not at the first idle moment.
 * Giving a stack back and faulting it in again later costs far more than
 * the spawn itself (in a VM, ~2 us for the madvise and 2-10 us per page
 * fault: the hypervisor backs each fresh page), so a program that parks a
 * million coroutines again and again keeps its stacks; one that stops
 * needing them gets the memory back a second later. The warm arrays are
 * LIFO, so the stacks not taken since the epoch began are the bottom
 * warm[0, low) of their class; at the next epoch those become the idle
 * ones, warm[0, idle), which trim releases (top of that range first).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/kin_assert.h"
#include "base/sanitizer.h"
#include "machine/stack.h"

#if KIN__ASAN
#include <sanitizer/asan_interface.h>
#endif

#define BATCH 128        /* stacks moved at once, pool <-> cache */
#define POOL_KEEP 64     /* a pool is trimmed to this when idle */
#define GLOBAL_KEEP 1024 /* warm stacks the cache keeps when trimmed */
#define TRIM_BATCH 4096  /* stacks released per trim call, at most */
#define DECAY_NS 1000000000ll /* a cached stack unused this long goes back */
#define CHUNK_BYTES (8u << 20)
#define CLASSES 16 /* distinct stack sizes cached */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static size_t g_page;
static size_t g_default_size;           /* written once in init_once */
atomic_size_t kin__stack_default_bytes; /* the same, for the fast path */
static size_t g_guard_limit;
static bool g_markers; /* guard pages as PTE markers (MADV_GUARD_INSTALL) */
static atomic_size_t g_guarded;
static atomic_size_t g_canary_total;
static atomic_size_t g_warm_total;

typedef struct cold_stack {
    char *lo;
    bool has_below; /* another stack of its chunk lies right below it */
    bool guarded;   /* a guard marker lies right below it */
} cold_stack;

/* A stack range to initialise outside g_mu (stack_init touches its top
 * page: a page fault must not be taken under the lock). */
typedef struct raw_stack {
    char *lo;
    bool has_below, guarded;
    bool fresh; /* newly carved (not from the cold list) */
} raw_stack;

enum { CARVE_NONE, CARVE_CANARY, CARVE_GUARD };

typedef struct size_class {
    size_t size;
    char *chunk, *chunk_end; /* the chunk being carved */
    bool chunk_started;      /* a stack was carved from it (canary below) */
    char *gchunk, *gchunk_end; /* the guard chunk being carved (markers) */
    kin__stack **warm;       /* released, pages resident (an array: no list
                          links in cold pages) */
    size_t nwarm, capwarm;
    size_t low;  /* warm[0, low) not taken since the epoch began */
    size_t idle; /* warm[0, idle) not taken for a whole epoch: releasable */
    cold_stack *cold; /* released, pages given back */
    size_t ncold, capcold;
} size_class;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static size_class g_classes[CLASSES];
static int64_t g_epoch; /* when the current trim epoch began (monotonic ns) */

/* After warm stacks were taken from c: lower its low-water marks. */
static inline void took_locked(size_class *c) {
    if (c->nwarm < c->low)
        c->low = c->nwarm;
    if (c->low < c->idle)
        c->idle = c->low;
}

static size_t parse_size(const char *s) {
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return 0;
    if (*end == 'k' || *end == 'K')
        v <<= 10, end++;
    else if (*end == 'm' || *end == 'M')
        v <<= 20, end++;
    if (*end)
        return 0;
    return (size_t)v;
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#endif

/* Does the kernel install guard markers (Linux 6.13 and later), and do
 * they work? Accepting the advice is not enough: an emulator (qemu-user
 * takes unknown madvise advice as a no-op hint) says yes and guards
 * nothing. So the probe also reads the guarded page through a system call,
 * which must fail with EFAULT instead of a signal. */
static bool probe_markers(void) {
    char *p = mmap(NULL, 2 * g_page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bool ok = madvise(p, g_page, MADV_GUARD_INSTALL) == 0;
    if (ok) {
        int fds[2];
        if (pipe(fds) == 0) {
            ok = write(fds[1], p, 1) < 0 && errno == EFAULT;
            close(fds[0]);
            close(fds[1]);
        } else {
            ok = false;
        }
    }
    munmap(p, 2 * g_page);
    return ok;
}

static void init_once(void) {
    long p = sysconf(_SC_PAGESIZE);
    g_page = p > 0 ? (size_t)p : 4096;
    size_t sz = parse_size(getenv("KIN_STACK_SIZE"));
    g_default_size = KIN__STACK_DEFAULT_SIZE;
    if (sz)
        g_default_size = sz;
    if (g_default_size < KIN__STACK_MIN_SIZE)
        g_default_size = KIN__STACK_MIN_SIZE;
#if KIN__ASAN || KIN__TSAN
    /* Instrumented frames are several times larger. */
    if (!sz && g_default_size < 512u * 1024u)
        g_default_size = 512u * 1024u;
#endif
    g_default_size = (g_default_size + g_page - 1) & ~(g_page - 1);
    atomic_store_explicit(&kin__stack_default_bytes, g_default_size,
                          memory_order_release);

    /* Each guard stack costs two mappings (guard + stack); keep half of the
     * kernel's limit for everything else in the process. */
    size_t max_maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        unsigned long v;
        if (fscanf(f, "%lu", &v) == 1 && v > 0)
            max_maps = v;
        fclose(f);
    }
    g_guard_limit = max_maps / 4;
#if KIN__TSAN
    /* ThreadSanitizer maps a shadow stack per fiber (one per coroutine):
     * leave it a quarter of the limit as well. */
    g_guard_limit = max_maps / 8;
#endif
    /* Valgrind tracks far fewer mappings than the kernel allows. */
    if (KIN__RUNNING_ON_VALGRIND() && g_guard_limit > 1000)
        g_guard_limit = 1000;
    const char *g = getenv("KIN_STACK_GUARD");
    if (g && strcmp(g, "0") == 0)
        g_guard_limit = 0;
    /* KIN_STACK_GUARD=map: guard pages as mappings of their own, as on
     * kernels without guard markers (for tests). */
    g_markers = !(g && strcmp(g, "map") == 0) && probe_markers();
}

size_t kin__stack_default_size(void) {
    pthread_once(&g_once, init_once);
    return g_default_size;
}

size_t kin__stack_round(size_t size) {
    if (size == 0) { /* the common case, without the once-call */
        size_t d = atomic_load_explicit(&kin__stack_default_bytes,
                                        memory_order_acquire);
        if (d)
            return d;
    }
    pthread_once(&g_once, init_once);
    if (size == 0)
        return g_default_size;
    if (size < KIN__STACK_MIN_SIZE)
        size = KIN__STACK_MIN_SIZE;
    if (size > ((size_t)1 << 30)) /* 1 GiB: a job stores it in 32 bits */
        size = (size_t)1 << 30;
    return (size + g_page - 1) & ~(g_page - 1);
}

/* Places the descriptor and the reserve at the top of [lo, lo + size). Only
 * the top page is touched. */
static kin__stack *stack_init(char *lo, size_t size, bool has_below) {
    char *top = lo + size;
    *(uint64_t *)(void *)(top - KIN__STACK_RESERVE) = KIN__STACK_CANARY;
    kin__stack *s =
        (kin__stack *)(void *)(((uintptr_t)(top - KIN__STACK_RESERVE) -
                                sizeof(kin__stack)) &
                               ~(uintptr_t)63);
    memset(s, 0, sizeof *s);
    s->lo = lo;
    s->size = size;
    s->usable = (size_t)((char *)s - lo);
    if (has_below)
        s->canary =
            (const volatile uint64_t *)(const void *)(lo - KIN__STACK_RESERVE);
    s->vg_id = KIN__VALGRIND_STACK_REGISTER(lo, (char *)s);
    return s;
}

static void segv_install(void);

static kin__stack *map_guarded(size_t size) {
    size_t len = size + g_page;
    char *map = kin__mmap(len, PROT_READ | PROT_WRITE);
    if (map == MAP_FAILED)
        return NULL;
    if (mprotect(map, g_page, PROT_NONE) != 0) {
        munmap(map, len);
        return NULL;
    }
    kin__stack *s = stack_init(map + g_page, size, false);
    s->map = map;
    s->map_len = len;
    s->guarded = true;
    return s;
}

static size_class *class_for_locked(size_t size) {
    for (int i = 0; i < CLASSES; i++) {
        if (g_classes[i].size == size)
            return &g_classes[i];
        if (g_classes[i].size == 0) {
            g_classes[i].size = size;
            return &g_classes[i];
        }
    }
    return NULL;
}

/* Under g_mu: a warm stack from the global cache (returned), else in *r
 * the range of a cold one or of a new carving (NULL returned, r->lo set),
 * else nothing (the caller then maps a guard stack). */
static kin__stack *cache_get_locked(size_class *c, int carve, raw_stack *r) {
    if (c->nwarm) {
        atomic_fetch_sub_explicit(&g_warm_total, 1, memory_order_relaxed);
        kin__stack *s = c->warm[--c->nwarm];
        took_locked(c);
        return s;
    }
    if (c->ncold) {
        cold_stack cs = c->cold[--c->ncold];
        *r = (raw_stack){cs.lo, cs.has_below, cs.guarded, false};
        return NULL;
    }
    if (carve == CARVE_GUARD) {
        /* Slots of [guard page | stack], one mapping for the chunk: the
         * guard is a marker in the page table, not a mapping of its own. */
        size_t slot = g_page + c->size;
        if (!c->gchunk || (size_t)(c->gchunk_end - c->gchunk) < slot) {
            size_t n = CHUNK_BYTES / slot;
            if (n < 1)
                n = 1;
            char *chunk = kin__mmap(n * slot, PROT_READ | PROT_WRITE);
            if (chunk == MAP_FAILED)
                return NULL;
            c->gchunk = chunk;
            c->gchunk_end = chunk + n * slot;
        }
        *r = (raw_stack){c->gchunk + g_page, false, true, true};
        c->gchunk += slot;
        return NULL;
    }
    if (carve != CARVE_CANARY)
        return NULL;
    if (!c->chunk || (size_t)(c->chunk_end - c->chunk) < c->size) {
        size_t n = CHUNK_BYTES / c->size;
        if (n < 1)
            n = 1;
        size_t len = g_page + n * c->size;
        char *chunk = kin__mmap(len, PROT_READ | PROT_WRITE);
        if (chunk == MAP_FAILED)
            return NULL;
        /* A guard page under the chunk: the lowest stack has no canary. A
         * marker, where the kernel has them, leaves the chunk one mapping
         * (which merges with its neighbours). */
        if ((g_markers ? madvise(chunk, g_page, MADV_GUARD_INSTALL)
                       : mprotect(chunk, g_page, PROT_NONE)) != 0) {
            munmap(chunk, len);
            return NULL;
        }
        c->chunk = chunk + g_page;
        c->chunk_end = chunk + len;
        c->chunk_started = false;
    }
    *r = (raw_stack){c->chunk, c->chunk_started, false, true};
    c->chunk += c->size;
    c->chunk_started = true;
    atomic_fetch_add_explicit(&g_canary_total, 1, memory_order_relaxed);
    return NULL;
}

kin__stack *kin__stack_get_slow(kin__stack_pool *pool, size_t size) {
    for (size_t i = pool->count; i-- > 0;) {
        if (pool->e[i].size == size) {
            kin__stack *s = pool->e[i].s;
            pool->e[i] = pool->e[--pool->count];
            return s;
        }
    }
    pthread_once(&g_once, init_once);
    segv_install();
    if (kin__fault_hit())
        return NULL;
    /* Warm stacks from the cache: a batch, so the lock is taken once per
     * BATCH spawns, not once per spawn. */
    pthread_mutex_lock(&g_mu);
    size_class *c = class_for_locked(size);
    if (c && c->nwarm) {
        kin__stack *s = c->warm[--c->nwarm];
        size_t k = 0;
        while (k < BATCH && c->nwarm && pool->count < KIN__POOL_CAP) {
            kin__stack *t = c->warm[--c->nwarm];
            pool->e[pool->count].s = t;
            pool->e[pool->count].size = size;
            pool->count++;
            k++;
        }
        took_locked(c);
        atomic_fetch_sub_explicit(&g_warm_total, k + 1, memory_order_relaxed);
        pthread_mutex_unlock(&g_mu);
        return s;
    }
    pthread_mutex_unlock(&g_mu);
    bool guard = atomic_fetch_add_explicit(
                     &g_guarded, 1, memory_order_relaxed) < g_guard_limit;
    if (!guard)
        atomic_fetch_sub_explicit(&g_guarded, 1, memory_order_relaxed);
    kin__stack *s = NULL;
    raw_stack r = {0};
    int carve = !guard ? CARVE_CANARY : g_markers ? CARVE_GUARD : CARVE_NONE;
    pthread_mutex_lock(&g_mu);
    c = class_for_locked(size);
    if (c)
        s = cache_get_locked(c, carve, &r);
    pthread_mutex_unlock(&g_mu);
    if (guard && (s || (r.lo && !r.fresh))) /* cached: no new guard stack */
        atomic_fetch_sub_explicit(&g_guarded, 1, memory_order_relaxed);
    if (s)
        return s;
    if (r.lo && r.fresh && r.guarded &&
        madvise(r.lo - g_page, g_page, MADV_GUARD_INSTALL) != 0)
        r.lo = NULL; /* no memory for the marker: the slot is lost */
    if (r.lo) {
        s = stack_init(r.lo, size, r.has_below);
        if (r.guarded) {
            s->guarded = true;
            s->map = r.lo - g_page; /* the guard page; map_len 0: no mapping
                                       of its own */
        }
        return s;
    }
    if (guard || !c) {
        if (!guard) /* more distinct sizes than classes: guard it anyway */
            atomic_fetch_add_explicit(&g_guarded, 1, memory_order_relaxed);
        s = map_guarded(size);
        if (!s)
            atomic_fetch_sub_explicit(&g_guarded, 1, memory_order_relaxed);
    }
    return s;
}

static void release_now(kin__stack *s);

/* Moves the pool's entries [from, count) to the global cache (no system
 * call, no stack memory read). A pool nearly always holds one size, so
 * the class is looked up once per run of equal sizes, the warm array grown
 * once for the run, and the global count updated once per spill: a burst
 * of a million completions spills 128 stacks at a time, and each stack
 * costs a copy, not a class search and an atomic. */
static void pool_spill(kin__stack_pool *pool, size_t from) {
    if (pool->count <= from)
        return;
    kin__stack *orphans[KIN__POOL_CAP];
    size_t norphans = 0, added = 0;
    pthread_mutex_lock(&g_mu);
    for (size_t i = from; i < pool->count;) {
        size_t size = pool->e[i].size, end = i + 1;
        while (end < pool->count && pool->e[end].size == size)
            end++;
        size_class *c = class_for_locked(size);
        size_t need = c ? c->nwarm + (end - i) : 0;
        if (c && need > c->capwarm) {
            size_t cap = c->capwarm ? c->capwarm : 256;
            while (cap < need)
                cap *= 2;
            kin__stack **v = kin__realloc(c->warm, cap * sizeof *v);
            if (v) {
                c->warm = v;
                c->capwarm = cap;
            }
        }
        size_t take = 0;
        if (c) {
            take = c->capwarm - c->nwarm;
            if (take > end - i)
                take = end - i;
            kin__stack **dst = c->warm + c->nwarm;
            for (size_t k = 0; k < take; k++)
                dst[k] = pool->e[i + k].s;
            c->nwarm += take;
            added += take;
        }
        for (size_t k = i + take; k < end; k++)
            orphans[norphans++] = pool->e[k].s; /* no class or no memory */
        i = end;
    }
    atomic_fetch_add_explicit(&g_warm_total, added, memory_order_relaxed);
    pthread_mutex_unlock(&g_mu);
    pool->count = from;
    for (size_t i = 0; i < norphans; i++)
        release_now(orphans[i]);
}

void kin__stack_put_slow(kin__stack_pool *pool, kin__stack *s) {
#if KIN__ASAN
    /* The frames a finished coroutine switched away from for the last time
     * (coro_entry, transfer) never return, so their redzones stay poisoned
     * in ASan's shadow; the next coroutine on this stack would trip over
     * them. They lie in the top page. */
    size_t top = s->usable < 4096 ? s->usable : 4096;
    __asan_unpoison_memory_region(s->lo + s->usable - top, top);
#endif
    if (pool->count == KIN__POOL_CAP)
        pool_spill(pool, KIN__POOL_CAP - BATCH);
    pool->e[pool->count].s = s;
    pool->e[pool->count].size = s->size;
    pool->count++;
}

/* Gives the memory of one cached stack back to the kernel. */
static void release(kin__stack *s, cold_stack *cold_out, bool *cold) {
    KIN__VALGRIND_STACK_DEREGISTER(s->vg_id);
    if (s->map_len) { /* a guard stack with a mapping of its own */
        munmap(s->map, s->map_len);
        atomic_fetch_sub_explicit(&g_guarded, 1, memory_order_relaxed);
        *cold = false;
        return;
    }
    /* A chunk stack: its pages (the descriptor's too) go back; the range
     * stays for reuse, and so does a guard marker below it (MADV_DONTNEED
     * keeps markers). The stack above now reads a zero canary, which
     * kin__stack_ok accepts: nothing here can be corrupted any more. */
    cold_out->lo = s->lo;
    cold_out->has_below = s->canary != NULL;
    cold_out->guarded = s->guarded;
    size_t size = s->size;
    madvise(cold_out->lo, size, MADV_DONTNEED);
    *cold = true;
}

/* A stack the cache cannot keep: give it back now. A chunk stack's range
 * stays mapped (holding no memory) and is not reused. */
static void release_now(kin__stack *s) {
    cold_stack cs;
    bool cold;
    release(s, &cs, &cold);
}

static int64_t mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kin__stack_trim(kin__stack_pool *pool) {
    if (pool->count > POOL_KEEP)
        pool_spill(pool, POOL_KEEP);
    if (atomic_load_explicit(&g_warm_total, memory_order_relaxed) <=
        GLOBAL_KEEP)
        return INT64_MAX;
    int64_t now = mono_now();
    int64_t due = INT64_MAX;
    for (int i = 0; i < CLASSES; i++) {
        kin__stack *batch = NULL;
        size_t n = 0;
        pthread_mutex_lock(&g_mu);
        if (now - g_epoch >= DECAY_NS) { /* a new epoch */
            for (int k = 0; k < CLASSES; k++) {
                g_classes[k].idle = g_classes[k].low;
                g_classes[k].low = g_classes[k].nwarm;
            }
            g_epoch = now;
        }
        size_class *c = &g_classes[i];
        size_t total =
            atomic_load_explicit(&g_warm_total, memory_order_relaxed);
        n = c->idle;
        if (n > TRIM_BATCH)
            n = TRIM_BATCH;
        if (total <= GLOBAL_KEEP)
            n = 0;
        else if (n > total - GLOBAL_KEEP)
            n = total - GLOBAL_KEEP;
        /* Take warm[idle - n, idle); the stacks above it move down. */
        for (size_t k = c->idle - n; k < c->idle; k++) {
            c->warm[k]->next = batch;
            batch = c->warm[k];
        }
        if (n) {
            memmove(&c->warm[c->idle - n], &c->warm[c->idle],
                    (c->nwarm - c->idle) * sizeof *c->warm);
            c->nwarm -= n;
            c->low -= n;
            c->idle -= n;
            atomic_fetch_sub_explicit(&g_warm_total, n, memory_order_relaxed);
            total -= n;
        }
        if (total > GLOBAL_KEEP) { /* more later: now, or next epoch */
            int64_t t = c->idle ? now : g_epoch + DECAY_NS;
            if (t < due)
                due = t;
        }
        pthread_mutex_unlock(&g_mu);
        if (!batch)
            continue;
        cold_stack *colds = kin__calloc(n, sizeof *colds);
        size_t ncold = 0;
        while (batch) {
            kin__stack *next = batch->next;
            bool cold;
            release(batch, colds ? &colds[ncold] : &(cold_stack){0}, &cold);
            if (cold && colds)
                ncold++;
            batch = next;
        }
        if (ncold) {
            pthread_mutex_lock(&g_mu);
            if (c->ncold + ncold > c->capcold) {
                size_t cap = (c->ncold + ncold) * 2;
                cold_stack *v = kin__realloc(c->cold, cap * sizeof *v);
                if (v) {
                    c->cold = v;
                    c->capcold = cap;
                }
            }
            /* If the array could not grow, the ranges are lost to reuse
             * (still mapped, holding no memory): a leak of address space
             * only, under memory exhaustion. */
            for (size_t k = 0; k < ncold && c->ncold < c->capcold; k++)
                c->cold[c->ncold++] = colds[k];
            pthread_mutex_unlock(&g_mu);
        }
        kin__free(colds);
        if (n == TRIM_BATCH) /* enough for one call: come back at once */
            return now;
    }
    return due;
}

void kin__stack_pool_drain(kin__stack_pool *pool) {
    pool_spill(pool, 0);
}

void kin__stack_get_stats(kin__stack_stats *out) {
    pthread_once(&g_once, init_once);
    out->mapped = atomic_load(&g_guarded);
    out->canary = atomic_load(&g_canary_total);
    out->cached = atomic_load(&g_warm_total);
    out->guard_limit = g_guard_limit;
}

/* ---- Overflow reporting ------------------------------------------------- */

static void put_str(char *buf, size_t *n, size_t cap, const char *s) {
    while (*s && *n + 1 < cap)
        buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t *n, size_t cap, size_t v) {
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k > 0 && *n + 1 < cap)
        buf[(*n)++] = tmp[--k];
}

/* Async-signal-safe: formats with no allocation and writes with write(2). */
void kin__stack_overflow(const kin__stack *s, const char *name) {
    char buf[256];
    size_t n = 0;
    put_str(buf, &n, sizeof buf, "kin: stack overflow in coroutine '");
    put_str(buf, &n, sizeof buf, name ? name : "?");
    put_str(buf, &n, sizeof buf, "' (stack of ");
    put_num(buf, &n, sizeof buf, s->size);
    put_str(buf, &n, sizeof buf, " bytes)\n");
    ssize_t w = write(2, buf, n);
    (void)w;
    /* abort() would run a SIGABRT handler on this broken stack if the
     * fault came from the guard page; we are on the alternate stack. */
    signal(SIGABRT, SIG_DFL);
    abort();
}

static struct sigaction g_old_segv, g_old_bus;
static atomic_int g_segv_state; /* 0 none, 1 installing, 2 installed */

/* The stack pointer of the interrupted code, or 0 if unknown. */
static uintptr_t interrupted_sp(void *uctx) {
    ucontext_t *uc = uctx;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

static void segv_handler(int sig, siginfo_t *si, void *uctx) {
    const kin__stack *s;
    char name[64];
    if (kin__running_stack(&s, name, sizeof name)) {
        char *addr = (char *)si->si_addr;
        uintptr_t sp = interrupted_sp(uctx);
        /* A fault in the guard page; or, in either mode, a stack pointer
         * that has left the coroutine's stack downwards (a canary stack's
         * runaway recursion faults only once it leaves its chunk). */
        if ((s->guarded && addr >= s->map && addr < s->lo + 64) ||
            (sp && sp < (uintptr_t)s->lo + 64 &&
             sp + ((uintptr_t)1 << 30) > (uintptr_t)s->lo))
            kin__stack_overflow(s, name);
    }
    /* Not ours: hand over to whoever was there before. */
    struct sigaction *old = sig == SIGSEGV ? &g_old_segv : &g_old_bus;
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction) {
            old->sa_sigaction(sig, si, uctx);
            return;
        }
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    /* Default action: reinstall it and return; the fault repeats and the
     * kernel delivers it with the default disposition. */
    signal(sig, SIG_DFL);
}

static void segv_install(void) {
    if (atomic_load_explicit(&g_segv_state, memory_order_acquire) == 2)
        return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_segv_state, &expected, 1)) {
        while (atomic_load(&g_segv_state) != 2)
            sched_yield();
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
#if !KIN__ASAN && !KIN__TSAN
    /* Under sanitizers their own handlers already report faults. */
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
#else
    (void)sa;
#endif
    atomic_store_explicit(&g_segv_state, 2, memory_order_release);
}

/* Alternate signal stack of this thread, if kin made it. */
static _Thread_local void *t_altstack;
static _Thread_local size_t t_altstack_len;

void kin__stack_thread_init(void) {
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return; /* the thread has one already */
    size_t len = 64 * 1024;
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return;
    stack_t ss = {.ss_sp = mem, .ss_size = len, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(mem, len);
        return;
    }
    t_altstack = mem;
    t_altstack_len = len;
}

void kin__stack_thread_fini(void) {
    if (!t_altstack)
        return;
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(t_altstack, t_altstack_len);
    t_altstack = NULL;
}
