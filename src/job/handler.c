/*
 * handler.c — where an uncaught failure ends (DESIGN rule 7): the handler
 * set with kin_set_default_handler, else a line on stderr. The job layer
 * calls kin__default_handler from finalize when no parent and no handler in
 * the coroutine's context took the failure. g_handler_mu is a leaf.
 */
#include <pthread.h>
#include <stdio.h>

#include "base/error.h"
#include "kin.h"

static pthread_mutex_t g_handler_mu = PTHREAD_MUTEX_INITIALIZER;
static kin_handler_fn g_handler;
static void *g_handler_arg;

void kin_set_default_handler(kin_handler_fn fn, void *arg) {
    pthread_mutex_lock(&g_handler_mu);
    g_handler = fn;
    g_handler_arg = arg;
    pthread_mutex_unlock(&g_handler_mu);
}

void kin__default_handler(kin_job job, const kin_error *failure) {
    pthread_mutex_lock(&g_handler_mu);
    kin_handler_fn fn = g_handler;
    void *arg = g_handler_arg;
    pthread_mutex_unlock(&g_handler_mu);
    if (fn) {
        fn(job, failure, arg);
        return;
    }
    char name[64];
    if (kin_job_name(job, name, sizeof name) < 0)
        snprintf(name, sizeof name, "?");
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
