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

/* kin_shutdown's first half: cancels every root and waits until none is
 * left. KIN_EBUSY if a kin_run_blocking is running. */
int kin__registry_drain(void);

#endif
