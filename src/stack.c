/*
 * stack.c — coroutine stacks (see stack.h for the memory picture).
 *
 * Globals and what guards them:
 *   g_default_size, g_guard_limit, g_page   set once under pthread_once
 *   g_guarded                               atomic: guard stacks mapped now
 *   g_canary_*                              g_canary_mu
 * Each kin__stack_pool belongs to one worker thread and is touched only by
 * it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "alloc.h"
#include "kin_assert.h"
#include "sanitizer.h"
#include "stack.h"

#define POOL_CAP 64            /* stacks a worker keeps for reuse */
#define CHUNK_BYTES (8u << 20) /* canary mode carves stacks from 8 MiB */
#define CANARY_CLASSES 8       /* distinct canary stack sizes pooled */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static size_t g_page;
static size_t g_default_size;
static size_t g_guard_limit;
static atomic_size_t g_guarded;
static atomic_size_t g_canary_total;

/* Canary mode: per size class, the chunk being carved and the stacks given
 * back. */
typedef struct canary_class {
    size_t size;
    char *chunk; /* next unused byte of the current chunk */
    char *chunk_end;
    kin__stack *free;
} canary_class;
static pthread_mutex_t g_canary_mu = PTHREAD_MUTEX_INITIALIZER;
static canary_class g_canary[CANARY_CLASSES];

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
    const char *g = getenv("KIN_STACK_GUARD");
    if (g && strcmp(g, "0") == 0)
        g_guard_limit = 0;
}

size_t kin__stack_default_size(void) {
    pthread_once(&g_once, init_once);
    return g_default_size;
}

size_t kin__stack_round(size_t size) {
    pthread_once(&g_once, init_once);
    if (size == 0)
        return g_default_size;
    if (size < KIN__STACK_MIN_SIZE)
        size = KIN__STACK_MIN_SIZE;
    if (size > ((size_t)1 << 40))
        size = (size_t)1 << 40;
    return (size + g_page - 1) & ~(g_page - 1);
}

/* Places the descriptor at the top of [lo, lo+size) and writes the canary. */
static kin__stack *stack_init(char *lo, size_t size) {
    kin__stack *s = (kin__stack *)(void *)(lo + size - sizeof(kin__stack));
    s = (kin__stack *)(void *)((uintptr_t)s & ~(uintptr_t)63);
    memset(s, 0, sizeof *s);
    s->lo = lo;
    s->size = size;
    s->usable = (size_t)((char *)s - lo);
    *(uint64_t *)(void *)lo = KIN__STACK_CANARY;
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
    kin__stack *s = stack_init(map + g_page, size);
    s->map = map;
    s->map_len = len;
    s->guarded = true;
    return s;
}

static kin__stack *carve_canary(size_t size) {
    kin__stack *s = NULL;
    pthread_mutex_lock(&g_canary_mu);
    canary_class *c = NULL;
    for (int i = 0; i < CANARY_CLASSES; i++) {
        if (g_canary[i].size == size || g_canary[i].size == 0) {
            c = &g_canary[i];
            c->size = size;
            break;
        }
    }
    if (c && c->free) {
        s = c->free;
        c->free = s->next;
        s->next = NULL;
        *(uint64_t *)(void *)s->lo = KIN__STACK_CANARY;
    } else if (c) {
        if (c->chunk == NULL || (size_t)(c->chunk_end - c->chunk) < size) {
            size_t len =
                size > CHUNK_BYTES ? size : CHUNK_BYTES - CHUNK_BYTES % size;
            char *chunk = kin__mmap(len, PROT_READ | PROT_WRITE);
            if (chunk != MAP_FAILED) {
                c->chunk = chunk;
                c->chunk_end = chunk + len;
            }
        }
        if (c->chunk && (size_t)(c->chunk_end - c->chunk) >= size) {
            s = stack_init(c->chunk, size);
            c->chunk += size;
            atomic_fetch_add_explicit(&g_canary_total, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&g_canary_mu);
    if (!c) {
        /* More distinct sizes than classes: a mapping of its own. */
        char *map = kin__mmap(size, PROT_READ | PROT_WRITE);
        if (map == MAP_FAILED)
            return NULL;
        s = stack_init(map, size);
        s->map = map;
        s->map_len = size;
        atomic_fetch_add_explicit(&g_canary_total, 1, memory_order_relaxed);
    }
    return s;
}

kin__stack *kin__stack_get(kin__stack_pool *pool, size_t size) {
    pthread_once(&g_once, init_once);
    kin__stack **pp = &pool->free;
    for (kin__stack *s = pool->free; s; pp = &s->next, s = s->next) {
        if (s->size == size) {
            *pp = s->next;
            s->next = NULL;
            pool->count--;
            return s;
        }
    }
    size_t n = atomic_fetch_add_explicit(&g_guarded, 1, memory_order_relaxed);
    if (n < g_guard_limit) {
        segv_install();
        kin__stack *s = map_guarded(size);
        if (s)
            return s;
    }
    atomic_fetch_sub_explicit(&g_guarded, 1, memory_order_relaxed);
    segv_install();
    return carve_canary(size);
}

static void stack_free(kin__stack *s) {
    if (s->guarded) {
        KIN__VALGRIND_STACK_DEREGISTER(s->vg_id);
        char *map = s->map;
        size_t len = s->map_len;
        munmap(map, len);
        atomic_fetch_sub_explicit(&g_guarded, 1, memory_order_relaxed);
        return;
    }
    if (s->map) { /* a canary stack with a mapping of its own */
        KIN__VALGRIND_STACK_DEREGISTER(s->vg_id);
        munmap(s->map, s->map_len);
        return;
    }
    /* A chunk stack: release its pages (all but the descriptor's) and keep
     * the address range for reuse. */
    size_t page_off = (size_t)(((uintptr_t)s) & ~(uintptr_t)(g_page - 1)) -
                      (size_t)(uintptr_t)s->lo;
    if (page_off > 0)
        madvise(s->lo, page_off, MADV_DONTNEED);
    pthread_mutex_lock(&g_canary_mu);
    for (int i = 0; i < CANARY_CLASSES; i++) {
        if (g_canary[i].size == s->size) {
            s->next = g_canary[i].free;
            g_canary[i].free = s;
            break;
        }
    }
    pthread_mutex_unlock(&g_canary_mu);
}

void kin__stack_put(kin__stack_pool *pool, kin__stack *s) {
    if (pool->count >= POOL_CAP) {
        stack_free(s);
        return;
    }
    s->next = pool->free;
    pool->free = s;
    pool->count++;
}

void kin__stack_pool_drain(kin__stack_pool *pool) {
    kin__stack *s = pool->free;
    while (s) {
        kin__stack *next = s->next;
        stack_free(s);
        s = next;
    }
    pool->free = NULL;
    pool->count = 0;
}

void kin__stack_get_stats(kin__stack_stats *out) {
    pthread_once(&g_once, init_once);
    out->mapped = atomic_load(&g_guarded);
    out->canary = atomic_load(&g_canary_total);
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
    /* abort() would run the SIGABRT handler on this broken stack if the
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
