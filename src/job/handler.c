/*
 * handler.c — where failures that nobody awaits end (DESIGN rule 7), and
 * what happens when a handler itself fails.
 *
 * An uncaught failure goes to the exception handler in the coroutine's
 * context, else to the default handler: the one set with
 * kin_set_default_handler, else a line on stderr. A handler fails by
 * calling kin_handler_fail (C's "throw" out of a callback); as kotlinx's
 * handleCoroutineException does, the handler's failure then goes on to the
 * default handler, wrapped in "Exception while trying to handle coroutine
 * exception" with the original failure suppressed in it. Completion
 * handlers that fail do not stop the others; their failures are gathered
 * into one CompletionHandlerException (the first as its cause, later ones
 * suppressed) and reported once, like an uncaught failure of the job.
 *
 * The handler being run is a frame on a per-thread stack (handlers may run
 * handlers: kin_invoke_on_completion on a completed job calls at once).
 * g_handler_mu is a leaf.
 */
#include <pthread.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/error.h"
#include "job/job.h"
#include "kin.h"

static pthread_mutex_t g_handler_mu = PTHREAD_MUTEX_INITIALIZER;
static kin_handler_fn g_handler;
static void *g_handler_arg;

typedef struct handler_frame {
    kin_error *failure; /* what the handler reported, or NULL */
    struct handler_frame *prev;
} handler_frame;

static __thread handler_frame *t_frame;

void kin_set_default_handler(kin_handler_fn fn, void *arg) {
    pthread_mutex_lock(&g_handler_mu);
    g_handler = fn;
    g_handler_arg = arg;
    pthread_mutex_unlock(&g_handler_mu);
}

int kin_handler_fail(kin_error *failure) {
    if (!failure)
        return kin__misuse(KIN_EINVAL, "kin_handler_fail: failure is NULL");
    handler_frame *f = t_frame;
    if (!f) {
        kin_error_release(failure);
        return kin__misuse(KIN_EPERM,
                           "kin_handler_fail: called outside an exception "
                           "or completion handler");
    }
    if (!f->failure) {
        f->failure = failure;
    } else {
        kin__error_add_suppressed(f->failure, failure);
        kin_error_release(failure);
    }
    return 0;
}

static void frame_push(handler_frame *f) {
    f->failure = NULL;
    f->prev = t_frame;
    t_frame = f;
}

/* Pops the frame; returns what the handler reported (a reference). */
static kin_error *frame_pop(handler_frame *f) {
    t_frame = f->prev;
    return f->failure;
}

/* "name#id" of a lent handle, without the public API (a layer above). */
static void name_of(kin_job job, char *buf, size_t len) {
    int rc;
    kin__job *j = kin__job_acquire(job, &rc);
    if (!j) {
        snprintf(buf, len, "?");
        return;
    }
    kin__job_display_name(j, buf, len);
    kin__job_unref(j);
}

static void print_uncaught(kin_job job, const kin_error *failure) {
    char name[64];
    name_of(job, name, sizeof name);
    size_t nsup = kin_error_suppressed_count(failure);
    if (nsup)
        fprintf(stderr,
                "kin: uncaught failure in coroutine '%s': %s: %s (+%zu "
                "suppressed)\n",
                name, kin_error_type(failure), kin_error_message(failure),
                nsup);
    else
        fprintf(stderr, "kin: uncaught failure in coroutine '%s': %s: %s\n",
                name, kin_error_type(failure), kin_error_message(failure));
    fflush(stderr);
}

/* kotlinx's handlerException: the handler's failure, with the one it was
 * handling suppressed in it; the original itself if the handler reported
 * that very object. Takes over thrown; returns a new reference. */
static kin_error *handler_exception(const kin_error *original,
                                    kin_error *thrown) {
    if (thrown == original)
        return thrown;
    kin_error *wrap =
        kin__error_make(thrown->code, "RuntimeException", thrown,
                        "Exception while trying to handle coroutine exception");
    kin__error_add_suppressed(wrap, (kin_error *)original);
    kin_error_release(thrown);
    return wrap;
}

void kin__default_handler(kin_job job, const kin_error *failure) {
    pthread_mutex_lock(&g_handler_mu);
    kin_handler_fn fn = g_handler;
    void *arg = g_handler_arg;
    pthread_mutex_unlock(&g_handler_mu);
    if (!fn) {
        print_uncaught(job, failure);
        return;
    }
    handler_frame f;
    frame_push(&f);
    fn(job, failure, arg);
    kin_error *thrown = frame_pop(&f);
    if (thrown) { /* the default handler failed: nothing is left but stderr */
        kin_error *e = handler_exception(failure, thrown);
        print_uncaught(job, e);
        kin_error_release(e);
    }
}

void kin__report_uncaught(kin_job job, kin_handler_fn fn, void *arg,
                          const kin_error *failure) {
    if (!fn) {
        kin__default_handler(job, failure);
        return;
    }
    handler_frame f;
    frame_push(&f);
    fn(job, failure, arg);
    kin_error *thrown = frame_pop(&f);
    if (thrown) {
        kin_error *e = handler_exception(failure, thrown);
        kin__default_handler(job, e);
        kin_error_release(e);
    }
}

void kin__call_completion(kin__job *j, kin_job h, kin__node *n,
                          const kin_error *cause, kin_error **gathered) {
    handler_frame f;
    frame_push(&f);
    n->fn(h, cause, n->arg);
    kin_error *thrown = frame_pop(&f);
    if (!thrown)
        return;
    if (*gathered) {
        kin__error_add_suppressed(*gathered, thrown);
        kin_error_release(thrown);
        return;
    }
    char name[64];
    kin__job_display_name(j, name, sizeof name);
    *gathered = kin__error_make(thrown->code, "CompletionHandlerException",
                                thrown, "Exception in completion handler for %s",
                                name);
    kin_error_release(thrown);
}

void kin__report_completion_failure(kin__job *j, kin_error *gathered) {
    if (!gathered)
        return;
    kin__report_uncaught(kin__job_handle(j), j->handler, j->handler_arg,
                         gathered);
    kin_error_release(gathered);
}

uint32_t kin__job_watch(kin__job *j, kin_job h, kin__node *n) {
    kin_error *cause;
    uint32_t id = kin__job_add_handler(j, n, &cause);
    if (id)
        return id;
    kin_error *failed = NULL;
    kin__call_completion(j, h, n, cause, &failed);
    kin__free(n);
    kin_error_release(cause);
    kin__report_completion_failure(j, failed);
    return 0;
}
