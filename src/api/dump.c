/*
 * dump.c — kin_dump, the live coroutine dump (Kotlin's dumpCoroutines), and
 * kin_dump_on_signal.
 *
 * The dump walks each root's tree the way cancellation does: holding the
 * locks of the path from the root to the job being printed, parent before
 * child, so children cannot complete and vanish under it; each line is
 * written as the walk reaches it (nothing is accumulated, so a million jobs
 * cost no memory). What a coroutine waits for comes from its dbg_* fields,
 * relaxed atomics it sets around each wait: the dump never reads a running
 * coroutine's private state, so it is safe from any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "job/registry.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"

static const char *state_name(int s) {
    switch (s) {
    case KIN_STATE_NEW:
        return "NEW";
    case KIN_STATE_ACTIVE:
        return "ACTIVE";
    case KIN_STATE_COMPLETING:
        return "COMPLETING";
    case KIN_STATE_CANCELLING:
        return "CANCELLING";
    case KIN_STATE_CANCELLED:
        return "CANCELLED";
    default:
        return "COMPLETED";
    }
}

static const char *kind_name(const kin__job *j) {
    if (j->kind == KIN__PLAIN) {
        if (j->flags & KIN__F_SCOPE_OBJ)
            return (j->flags & KIN__F_SUPERVISOR) ? "scope object (supervisor)"
                                                  : "scope object";
        if (j->flags & KIN__F_ASYNC)
            return "deferred";
        return (j->flags & KIN__F_SUPERVISOR) ? "supervisor job" : "job";
    }
    if (j->kind == KIN__SCOPE) {
        if (j->flags & KIN__F_NONCANCEL)
            return "non_cancellable";
        return (j->flags & KIN__F_SUPERVISOR) ? "supervisor_scope" : "scope";
    }
    if (j->flags & KIN__F_BLOCKING)
        return "run_blocking";
    return (j->flags & KIN__F_ASYNC) ? "async" : "launch";
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The deepest the stack has been touched: its lowest resident page
 * (stacks are touched from the top down). -1 if unknown. */
static long stack_high_water(const kin__stack *s) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return -1;
    uintptr_t lo = (uintptr_t)s->lo & ~(uintptr_t)(page - 1);
    uintptr_t top = (uintptr_t)s->lo + s->usable;
    size_t pages = (size_t)((top - lo + (uintptr_t)page - 1) / (uintptr_t)page);
    unsigned char vec[256];
    if (pages > sizeof vec) { /* big stacks: look at the top 1 MiB */
        lo = top - sizeof vec * (size_t)page;
        lo &= ~(uintptr_t)(page - 1);
        pages = sizeof vec;
    }
    if (mincore((void *)lo, pages * (size_t)page, vec) != 0)
        return -1;
    for (size_t i = 0; i < pages; i++)
        if (vec[i] & 1)
            return (long)(top - (lo + i * (size_t)page));
    return 0;
}

typedef struct dump_ctx {
    FILE *out;
    long printed;
    int64_t now;
} dump_ctx;

static void print_waiting(dump_ctx *d, kin__job *j) {
    switch (atomic_load_explicit(&j->dbg_wait, memory_order_relaxed)) {
    case KIN__W_DELAY: {
        int64_t until =
            atomic_load_explicit(&j->dbg_until, memory_order_relaxed);
        fprintf(d->out, ", suspended in kin_delay (due in %lld ms)",
                (long long)((until - d->now) / 1000000));
        break;
    }
    case KIN__W_JOIN:
    case KIN__W_AWAIT:
    case KIN__W_CHILDREN:
    case KIN__W_CONTEXT:
    case KIN__W_CLOSE: {
        static const char *what[] = {
            [KIN__W_JOIN] = "joining",
            [KIN__W_AWAIT] = "awaiting",
            [KIN__W_CHILDREN] = "waiting for the children of",
            [KIN__W_CONTEXT] = "waiting for its with_context block",
            [KIN__W_CLOSE] = "closing"};
        int w = atomic_load_explicit(&j->dbg_wait, memory_order_relaxed);
        kin_job t = {
            atomic_load_explicit(&j->dbg_target, memory_order_relaxed)};
        char name[80] = "?";
        int err;
        kin__job *tj = kin__job_acquire(t, &err);
        if (tj) {
            kin__job_display_name(tj, name, sizeof name);
            kin__job_unref(tj);
        }
        fprintf(d->out, ", suspended %s %s", what[w], name);
        break;
    }
    case KIN__W_JOIN_ALL:
        fprintf(d->out, ", suspended in kin_join_all");
        break;
    case KIN__W_FD: {
        int64_t until =
            atomic_load_explicit(&j->dbg_until, memory_order_relaxed);
        fprintf(d->out, ", suspended waiting for fd %d",
                (int)atomic_load_explicit(&j->dbg_target,
                                          memory_order_relaxed));
        if (until)
            fprintf(d->out, " (times out in %lld ms)",
                    (long long)((until - d->now) / 1000000));
        break;
    }
    case KIN__W_AWAIT_ALL:
        fprintf(d->out, ", suspended in kin_await_all");
        break;
    case KIN__W_SUSPEND:
        fprintf(d->out, ", suspended by hand (kin_suspend)");
        break;
    case KIN__W_CHAN_SEND:
    case KIN__W_CHAN_RECV:
    case KIN__W_MUTEX:
    case KIN__W_SEMAPHORE: {
        static const char *what[] = {
            [KIN__W_CHAN_SEND] = "in kin_channel_send on channel",
            [KIN__W_CHAN_RECV] = "in kin_channel_receive on channel",
            [KIN__W_MUTEX] = "locking mutex",
            [KIN__W_SEMAPHORE] = "acquiring semaphore"};
        int w = atomic_load_explicit(&j->dbg_wait, memory_order_relaxed);
        fprintf(d->out, ", suspended %s #%llu", what[w],
                (unsigned long long)atomic_load_explicit(
                    &j->dbg_target, memory_order_relaxed));
        break;
    }
    case KIN__W_SELECT:
        fprintf(d->out, ", suspended in kin_select (%llu clauses)",
                (unsigned long long)atomic_load_explicit(&j->dbg_target,
                                                         memory_order_relaxed));
        break;
    default:
        break;
    }
}

/* One line for j; j's lock is held. */
static void print_job(dump_ctx *d, kin__job *j, int depth) {
    char name[80];
    kin__job_display_name(j, name, sizeof name);
    int s = atomic_load_explicit(&j->state, memory_order_relaxed);
    fprintf(d->out, "%*s%s '%s' [%s]", 2 * depth, "", kind_name(j), name,
            state_name(s));
    if (j->kind != KIN__SCOPE && j->sched.dispatcher)
        fprintf(d->out, " on %s", j->sched.dispatcher->name);
    if (j->kind == KIN__COROUTINE) {
        kin__worker *home =
            atomic_load_explicit(&j->sched.dbg_home, memory_order_relaxed);
        kin__stack *st =
            atomic_load_explicit(&j->sched.dbg_stack, memory_order_acquire);
        if (!home) {
            fprintf(d->out, s == KIN_STATE_NEW ? ", lazy, not started"
                                               : ", queued, not started");
        } else if (!st) {
            fprintf(d->out, ", body done");
        } else {
            char tname[16] = "";
            pthread_getname_np(home->thread, tname, sizeof tname);
            fprintf(d->out, " (thread %s)", tname);
            bool waiting =
                atomic_load_explicit(&j->dbg_wait, memory_order_relaxed) !=
                KIN__W_NONE;
            if (waiting)
                print_waiting(d, j);
            else
                fprintf(d->out, ", running or runnable");
            uintptr_t sp =
                waiting ? atomic_load_explicit(&j->sched.dbg_sp, memory_order_relaxed)
                        : 0;
            uintptr_t top = (uintptr_t)st->lo + st->usable;
            long hw = stack_high_water(st);
            if (sp > (uintptr_t)st->lo && sp <= top)
                fprintf(d->out, "; stack %lu B in use",
                        (unsigned long)(top - sp));
            if (hw >= 0)
                fprintf(d->out, ", %ld KiB touched of %zu KiB", hw / 1024,
                        st->size / 1024);
        }
    }
    if (j->active)
        fprintf(d->out, "; %u child%s", j->active, j->active == 1 ? "" : "ren");
    if (s == KIN_STATE_CANCELLING || s == KIN_STATE_CANCELLED) {
        kin_error *f = atomic_load_explicit(&j->failure, memory_order_acquire);
        kin_error *c =
            f ? f : atomic_load_explicit(&j->cause, memory_order_acquire);
        if (c)
            fprintf(d->out, "; cause %s: %s", c->type, c->message);
    }
    if (j->site_file)
        fprintf(d->out, "; launched at %s:%d", j->site_file, j->site_line);
    fputc('\n', d->out);
    d->printed++;
}

/* Prints root's tree, holding the locks of the path (iteratively: trees
 * may be deep and this may run on a small coroutine stack). */
static void dump_tree(kin__job *root, void *arg) {
    dump_ctx *d = arg;
    kin__lock_acquire(&root->lock);
    print_job(d, root, 0);
    kin__job *node = root, *child = root->child_head;
    int depth = 1;
    for (;;) {
        if (child) {
            kin__lock_acquire(&child->lock);
            print_job(d, child, depth);
            if (child->child_head) {
                node = child;
                child = node->child_head;
                depth++;
                continue;
            }
            kin__job *next = child->sib_next;
            kin__lock_release(&child->lock);
            child = next;
            continue;
        }
        if (node == root)
            break;
        kin__job *next = node->sib_next; /* guarded by the parent's lock */
        kin__job *up = node->parent;
        kin__lock_release(&node->lock);
        node = up;
        child = next;
        depth--;
    }
    kin__lock_release(&root->lock);
}

int kin_dump(FILE *out) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_dump: out is NULL");
    dump_ctx d = {.out = out, .now = mono_ns()};
    flockfile(out);
    fprintf(out, "kin %s: live jobs\n", KIN_VERSION_STRING);
    size_t roots = kin__registry_visit(dump_tree, &d);
    fprintf(out, "(%zu root%s, %ld job%s)\n", roots, roots == 1 ? "" : "s",
            d.printed, d.printed == 1 ? "" : "s");
    funlockfile(out);
    fflush(out);
    return d.printed > INT32_MAX ? INT32_MAX : (int)d.printed;
}

/* ---- On a signal ------------------------------------------------------- */

static int g_pipe[2] = {-1, -1};
static atomic_int g_dump_fd = -1;
static pthread_once_t g_sig_once = PTHREAD_ONCE_INIT;
static int g_sig_ok;

static void on_signal(int sig) {
    (void)sig;
    int saved = errno;
    char b = 1;
    ssize_t r = write(g_pipe[1], &b, 1); /* async-signal-safe */
    (void)r;
    errno = saved;
}

static void *dump_thread(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "kin-dump");
    for (;;) {
        char b;
        ssize_t r = read(g_pipe[0], &b, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL;
        int fd = atomic_load(&g_dump_fd);
        int dup_fd = fd >= 0 ? dup(fd) : -1;
        FILE *f = dup_fd >= 0 ? fdopen(dup_fd, "w") : NULL;
        if (f) {
            kin_dump(f);
            fclose(f);
        } else if (dup_fd >= 0) {
            close(dup_fd);
        }
    }
}

static void sig_init(void) {
    if (pipe(g_pipe) != 0)
        return;
    fcntl(g_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(g_pipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(g_pipe[1], F_SETFL, O_NONBLOCK); /* a burst of signals: drop */
    kin__fd_mark_own(g_pipe[0], true); /* never a caller's to use */
    kin__fd_mark_own(g_pipe[1], true);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The dump thread blocks every signal: the handler runs elsewhere. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    g_sig_ok = pthread_create(&t, &attr, dump_thread, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

int kin_dump_on_signal(int signo, int fd) {
    if (fd < 0 || signo <= 0 || signo == SIGKILL || signo == SIGSTOP ||
        signo >= NSIG)
        return kin__misuse(KIN_EINVAL,
                           "kin_dump_on_signal: signal %d or fd %d cannot "
                           "be used",
                           signo, fd);
    pthread_once(&g_sig_once, sig_init);
    if (!g_sig_ok)
        return kin__misuse(KIN_ENOMEM,
                           "kin_dump_on_signal: could not start the dump "
                           "thread");
    atomic_store(&g_dump_fd, fd);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, NULL) != 0)
        return kin__misuse(KIN_EINVAL,
                           "kin_dump_on_signal: signal %d cannot be caught",
                           signo);
    return 0;
}
