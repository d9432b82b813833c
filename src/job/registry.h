/*
 * registry.h — the roots: scope objects, global-scope coroutines and
 * kin_run_blocking coroutines. Every job descends from one, so "no root
 * left" means "no coroutine left": what kin_shutdown waits for, and where
 * a dump of the tree starts.
 */
#ifndef KIN_REGISTRY_H
#define KIN_REGISTRY_H

#include <stddef.h>

typedef struct kin__job kin__job;

/* Adds a root (takes no reference: the root unregisters when it
 * completes, from finalize). */
void kin__registry_add(kin__job *root);
void kin__registry_remove(kin__job *root);
size_t kin__registry_count(void);

/* Calls fn for each root, oldest first is not promised, with the registry
 * lock held (roots cannot complete meanwhile; fn may take job locks: the
 * registry lock comes before them, and nothing takes it under a job lock).
 * Returns the number of roots. */
size_t kin__registry_visit(void (*fn)(kin__job *root, void *arg), void *arg);

/* kin_shutdown's first half: cancels every root and waits until none is
 * left. KIN_EBUSY if a kin_run_blocking is running. */
int kin__registry_drain(void);

#endif
