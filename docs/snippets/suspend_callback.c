/* Suspending by hand: a callback API (a resolver that calls back from a
 * thread of its own after a blocking getaddrinfo) wrapped into a call that
 * suspends, with cancellation. Kotlin's suspendCancellableCoroutine. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kin.h>

/* ---- A callback API, as a C library might offer it --------------------- */

typedef void (*resolve_cb)(void *ctx, int err, const char *addr);

typedef struct request {
    char host[64];
    int delay_ms; /* a slow name server */
    resolve_cb done;
    void *ctx;
} request;

static void *resolver_thread(void *arg) {
    request *r = arg;
    nanosleep(&(struct timespec){.tv_nsec = r->delay_ms * 1000000L}, NULL);
    struct addrinfo hints = {.ai_family = AF_INET}, *res = NULL;
    char addr[INET_ADDRSTRLEN] = "";
    int err = getaddrinfo(r->host, NULL, &hints, &res); /* blocks */
    if (err == 0) {
        struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
        freeaddrinfo(res);
    }
    r->done(r->ctx, err, addr); /* called back from this thread */
    free(r);
    return NULL;
}

/* Looks host up on a thread of its own and calls done(ctx, err, addr) from
 * that thread, once. Returns 0 or -1. */
static int resolve(const char *host, int delay_ms, resolve_cb done,
                   void *ctx) {
    request *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    snprintf(r->host, sizeof r->host, "%s", host);
    r->delay_ms = delay_ms;
    r->done = done;
    r->ctx = ctx;
    pthread_t t;
    if (pthread_create(&t, NULL, resolver_thread, r) != 0) {
        free(r);
        return -1;
    }
    pthread_detach(t);
    return 0;
}

/* ---- The same lookup as a suspending call ------------------------------ */

static atomic_bool late_answer_seen; /* only to print in a fixed order */

/* Shared by the suspended coroutine and the resolver's callback, which
 * may come after the coroutine gave up: each holds a reference. */
typedef struct lookup {
    kin_cont cont;
    atomic_bool abandoned;
    atomic_int refs;
} lookup;

static void lookup_unref(lookup *l) {
    if (atomic_fetch_sub(&l->refs, 1) == 1)
        free(l);
}

/* The resolver's callback, on the resolver's thread. */
static void on_resolved(void *ctx, int err, const char *addr) {
    lookup *l = ctx;
    int rc;
    if (err)
        rc = kin_resume_error(
            l->cont, kin_error_new(-EHOSTUNREACH, "UnknownHostException",
                                   "%s", gai_strerror(err)));
    else /* the copy is freed if the coroutine does not take it */
        rc = kin_resume_ex(l->cont, strdup(addr), free);
    if (rc < 0) {
        printf("resolver: late answer %s (%s): %s\n", addr,
               atomic_load(&l->abandoned) ? "abandoned" : "?",
               kin_error_message(kin_last_error()));
        atomic_store(&late_answer_seen, true);
    }
    lookup_unref(l);
}

/* Runs if the caller is cancelled while it waits, before it continues. */
static void on_cancel(kin_cont cont, void *arg) {
    (void)cont;
    lookup *l = arg;
    atomic_store(&l->abandoned, true); /* a real API: cancel the request */
    printf("lookup cancelled\n");
}

typedef struct lookup_args {
    const char *host;
    int delay_ms;
    lookup *l;
} lookup_args;

/* kin_suspend's start: runs before the coroutine parks. */
static void start_lookup(kin_cont cont, void *arg) {
    lookup_args *a = arg;
    a->l->cont = cont;
    kin_cont_on_cancel(cont, on_cancel, a->l); /* first, then hand it out */
    if (resolve(a->host, a->delay_ms, on_resolved, a->l) < 0) {
        lookup_unref(a->l); /* the callback will never come */
        kin_resume_error(cont, kin_error_new(-EAGAIN, "ResolverException",
                                             "cannot start the lookup"));
    }
}

/* Suspends until host is resolved; *addr receives a malloc'd string. */
static int lookup_host(const char *host, int delay_ms, char **addr) {
    lookup_args a = {host, delay_ms, calloc(1, sizeof(lookup))};
    if (!a.l)
        return -ENOMEM;
    atomic_init(&a.l->refs, 2); /* ours and the resolver's */
    int rc = kin_suspend(start_lookup, &a, (void **)addr);
    lookup_unref(a.l);
    return rc;
}

/* ---- Using it ------------------------------------------------------------ */

static int slow_lookup(void *arg) {
    (void)arg;
    char *addr;
    KIN_TRY(lookup_host("localhost", 300, &addr)); /* takes 300 ms */
    printf("slow lookup gave %s\n", addr);
    free(addr);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    char *addr;
    KIN_TRY(lookup_host("localhost", 0, &addr));
    printf("localhost is %s\n", addr);
    free(addr);

    int rc = kin_with_timeout(100, slow_lookup, NULL);
    printf("slow lookup: %s\n", kin_strerror(rc));

    while (!atomic_load(&late_answer_seen))
        KIN_TRY(kin_delay(10));
    return 0;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
