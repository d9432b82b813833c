/* Stress: several plain threads and pool coroutines launch, cancel, await,
 * fail and time out at once, round after round. Invariants checked:
 *   - every coroutine completes, and its completion handler runs once
 *     (no lost wake-up, no double completion);
 *   - no job completes before its children (the parent's handler has not
 *     run when a child's handler runs);
 *   - every failure reaches exactly one place (a handler call, an awaiter,
 *     or the scope), counted;
 *   - nothing runs after kin_scope_close returned;
 *   - nothing is left: no root remains, and kin_shutdown finishes.
 * 300 rounds, also under ThreadSanitizer (about 10 s there); KIN_TEST_SCALE
 * (Valgrind) divides them. KIN_STRESS_SEED varies the programs. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "job/registry.h"

enum { THREADS = 3, PER_THREAD = 40 };

typedef struct node {
    struct node *all_next; /* every node of a round, freed at its end */
    atomic_int completions;
    atomic_int done; /* its completion handler ran */
    struct node *parent;
    int kind;
    unsigned seed;
} node;

static atomic_long handler_failures, awaited_failures, launched, finished;
static atomic_int closed, violations;

static void on_complete(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause;
    node *n = arg;
    if (atomic_load(&closed))
        atomic_fetch_add(&violations, 1); /* ran after the scope returned */
    if (atomic_fetch_add(&n->completions, 1) != 0)
        atomic_fetch_add(&violations, 1); /* completed twice */
    if (n->parent && atomic_load(&n->parent->done))
        atomic_fetch_add(&violations, 1); /* parent completed first */
    atomic_store(&n->done, 1);
    atomic_fetch_add(&finished, 1);
}

static void on_failure(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)arg;
    CHECK_STR(kin_error_type(e), "StressFailure");
    atomic_fetch_add(&handler_failures, 1);
}

static _Atomic(struct node *) all_nodes;

static struct node *new_node(void) {
    struct node *n = calloc(1, sizeof *n);
    CHECK(n);
    n->all_next = atomic_load(&all_nodes);
    while (!atomic_compare_exchange_weak(&all_nodes, &n->all_next, n)) {
    }
    return n;
}

static void free_nodes(void) {
    struct node *n = atomic_exchange(&all_nodes, NULL);
    while (n) {
        struct node *next = n->all_next;
        free(n);
        n = next;
    }
}

static unsigned next(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static int value(void *arg, void **out) {
    node *n = arg;
    KIN_TRY(kin_delay(next(&n->seed) % 2));
    *out = (void *)(intptr_t)(n->kind + 1);
    return 0;
}

static int failing_value(void *arg, void **out) {
    (void)arg, (void)out;
    KIN_TRY(kin_yield());
    return kin_fail("StressFailure", "async");
}

static int slow(void *arg) {
    (void)arg;
    return kin_delay(50);
}

static node *child_node(node *parent, int kind) {
    node *c = new_node();
    c->parent = parent;
    c->kind = kind;
    c->seed = next(&parent->seed);
    return c;
}

static int watch(kin_job j, node *n) {
    atomic_fetch_add(&launched, 1);
    return kin_invoke_on_completion(j, on_complete, n);
}

static int worker(void *arg);
static int sup_body(void *arg);

static int children_scope(void *arg) {
    node *n = arg;
    for (int i = 0; i < 3; i++) {
        node *c = child_node(n, (n->kind + i) % 5);
        kin_job j;
        KIN_TRY(kin_launch(&j, NULL, worker, c));
        KIN_TRY(watch(j, c));
    }
    return 0;
}

static int worker(void *arg) {
    node *n = arg;
    kin_launch_opts io = {.dispatcher = kin_dispatcher_io()};
    switch (n->kind) {
    case 0: { /* children, some nested, in a scope */
        if (n->parent && n->parent->parent)
            return kin_delay(1); /* keep the tree small */
        return kin_coroutine_scope(children_scope, n);
    }
    case 1: { /* await values from IO and Default */
        kin_job a, b;
        node *ca = child_node(n, 10), *cb = child_node(n, 11);
        KIN_TRY(kin_async(&a, &io, value, ca));
        KIN_TRY(watch(a, ca));
        KIN_TRY(kin_async(&b, NULL, value, cb));
        KIN_TRY(watch(b, cb));
        void *va, *vb;
        KIN_TRY(kin_await(a, &va));
        KIN_TRY(kin_await(b, &vb));
        CHECK_EQ((intptr_t)va, 11);
        CHECK_EQ((intptr_t)vb, 12);
        return 0;
    }
    case 2: { /* a timeout that fires */
        int rc = kin_with_timeout(1, slow, NULL);
        if (rc == KIN_ETIMEDOUT)
            return 0;
        return rc;
    }
    case 3: { /* an awaited failure in a supervisor */
        return kin_supervisor_scope(sup_body, n);
    }
    default: /* a failure that goes to the handler */
        KIN_TRY(kin_yield());
        return kin_fail("StressFailure", "launch");
    }
}

static int sup_body(void *arg) {
    node *n = arg;
    kin_job f;
    node *c = child_node(n, 12);
    KIN_TRY(kin_async(&f, NULL, failing_value, c));
    KIN_TRY(watch(f, c));
    int rc = kin_await(f, NULL);
    if (rc == KIN_EFAILED)
        atomic_fetch_add(&awaited_failures, 1);
    else
        KIN_TRY(rc);
    return 0;
}

typedef struct thread_arg {
    kin_scope scope;
    unsigned seed;
} thread_arg;

static void *producer(void *arg) {
    thread_arg *ta = arg;
    kin_job jobs[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++) {
        node *n = new_node();
        n->kind = (int)(next(&ta->seed) % 5);
        n->seed = next(&ta->seed);
        kin_launch_opts o = {.handler = on_failure};
        if (next(&ta->seed) % 4 == 0)
            o.dispatcher = kin_dispatcher_io();
        CHECK_EQ(kin_scope_launch(ta->scope, &jobs[i], &o, worker, n), 0);
        CHECK_EQ(watch(jobs[i], n), 0);
    }
    for (int i = 0; i < PER_THREAD; i++)
        if (next(&ta->seed) % 3 == 0)
            CHECK_EQ(kin_cancel(jobs[i], NULL), 0);
    for (int i = 0; i < PER_THREAD; i++)
        CHECK_EQ(kin_job_release(jobs[i]), 0);
    return NULL;
}

int main(void) {
    long rounds = 300;
    const char *scale = getenv("KIN_TEST_SCALE");
    if (scale && atol(scale) > 1)
        rounds /= atol(scale);
    const char *seed_env = getenv("KIN_STRESS_SEED");
    unsigned seed = seed_env ? (unsigned)atol(seed_env) : 1;
    for (long r = 0; r < rounds; r++) {
        atomic_store(&closed, 0);
        kin_scope s;
        CHECK_EQ(kin_scope_new(&s, &(kin_scope_opts){.supervisor = true,
                                                     .handler = on_failure}),
                 0);
        pthread_t t[THREADS];
        thread_arg ta[THREADS];
        for (int k = 0; k < THREADS; k++) {
            ta[k] = (thread_arg){s, seed * 104729u + (unsigned)(r * 7919 + k)};
            CHECK_EQ(pthread_create(&t[k], NULL, producer, &ta[k]), 0);
        }
        for (int k = 0; k < THREADS; k++)
            pthread_join(t[k], NULL);
        CHECK_EQ(kin_scope_close(s), 0);
        atomic_store(&closed, 1);
        CHECK_EQ(atomic_load(&finished), atomic_load(&launched));
        CHECK_EQ(atomic_load(&violations), 0);
        free_nodes(); /* every handler has run: nothing reads them */
    }
    usleep(10000);
    CHECK_EQ(atomic_load(&violations), 0);
    CHECK_EQ(kin__registry_count(), 0);
    CHECK_EQ(kin_shutdown(), 0);
    fprintf(stderr,
            "%ld rounds, %ld coroutines, %ld failures to handlers, %ld to "
            "awaiters\n",
            rounds, atomic_load(&launched), atomic_load(&handler_failures),
            atomic_load(&awaited_failures));
    return 0;
}
