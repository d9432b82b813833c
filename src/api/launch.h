/*
 * launch.h — the one way coroutines are made (kin_launch, kin_async, and the
 * scope-object variants all end in kin__spawn).
 */
#ifndef KIN_LAUNCH_H
#define KIN_LAUNCH_H

#include "job/job.h"

/* How kin__spawn makes a coroutine. */
typedef struct kin__spawn_req {
    const char *who;  /* the public function, for messages */
    kin__job *parent; /* NULL: a root (registered) */
    kin__job *owner;  /* owner of the handle, if one is asked for */
    uint8_t flags;    /* extra KIN__F_* (with_context: SCOPED) */
    kin__job **hold;  /* if set: receives the job with a reference */
} kin__spawn_req;

/* Makes a coroutine under rq->parent, owned by rq->owner if out is given
 * (kin.h L2), on opts' dispatcher (else the parent's, else Default), and
 * queues or starts it per opts->start. Exactly one of fn / afn is set. */
int kin__spawn(const kin__spawn_req *rq, kin_job *out,
               const kin_launch_opts *opts, kin_fn fn, kin_async_fn afn,
               void *arg);

/* Starts a LAZY coroutine if it has not started (join and await do this). */
void kin__start_lazy(kin__job *j);

/* A cause given to a cancelling call (kin_cancel, kin_job_cancel_children):
 * NULL becomes "Job was cancelled"; a cause that is not a cancellation is
 * released and NULL returned with the misuse reported for `who`. */
kin_error *kin__cancel_cause(const char *who, kin_error *cause);

/* Job.ensureActive() of j (jobapi.c; also for scope objects). */
int kin__job_ensure_active_of(kin__job *j);

#endif
