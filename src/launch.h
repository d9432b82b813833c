/*
 * launch.h — the one way coroutines are made (kin_launch, kin_async, and the
 * scope-object variants all end in kin__spawn).
 */
#ifndef KIN_LAUNCH_H
#define KIN_LAUNCH_H

#include "job.h"

/* Makes a coroutine under parent (NULL: a root), owned by owner if out is
 * given (kin.h L2), and queues or starts it per opts->start. `who` names the
 * public function in error messages. Exactly one of fn / afn is set. */
int kin__spawn(const char *who, kin__job *parent, kin__job *owner,
               kin_job *out, const kin_launch_opts *opts, kin_fn fn,
               kin_async_fn afn, void *arg);

/* Starts a LAZY coroutine if it has not started (join and await do this). */
void kin__start_lazy(kin__job *j);

#endif
