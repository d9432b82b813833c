/*
 * flow.h — the internal interface of cold flows: stage records, their
 * handles, collectors, and the helpers every operator and terminal uses
 * (flow.c owns all of it; ops.c, terminal.c, retry.c and the concurrent
 * and hot flow files build on it). A guide for operator writers:
 * /work/notes/flow-core-interface.md (and the comments below).
 *
 * STAGES. A kin_flow names a stage record (kin__flow, malloc'd, followed
 * by the operator's own immutable fields: stage_size bytes in all). A
 * stage knows its upstream stage(s) (up, up2: references it owns) and an
 * ops table: collect(self, down) runs the stage once for a collector, in
 * the calling coroutine, emitting into down; destroy(self) frees what the
 * operator's fields own. Stages are immutable after kin__flow_make returns
 * (collects run concurrently on many threads), so a collect keeps all its
 * mutable state on its own stack (or in one allocation per collect).
 *
 * HANDLES. {gen << 32 | index} into slots in chunks that are never freed
 * (as kin_channel). A slot's refgen is gen << 32 | references, changed
 * only by CAS: a lookup adds a reference only while the generation matches
 * and references > 0, so a handle released on another thread at the same
 * moment is either used safely or reported KIN_ESTALE. Upstream links
 * (up, up2) are references too; a collect holds one on the flow it runs.
 *
 * COLLECTORS. A kin_flow_collector is on the stack of whoever calls an
 * upstream collect: emit(self, value) handles one value (value points to
 * esize bytes, valid during the call) and returns 0 or a negative code
 * with the current error set to that failure (kin__flow_rc makes sure).
 * Operators embed one as the FIRST member of their per-collect state and
 * get back to it with a cast. The user's kin_flow_emit checks the calling
 * coroutine (owner) and its cancellation, and exception transparency
 * (failed/violated), then calls emit; operators forwarding a value
 * downstream call kin__flow_emit_down (no checks: trusted code on the
 * collecting coroutine).
 */
#ifndef KIN_FLOW_FLOW_H
#define KIN_FLOW_FLOW_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/kin_assert.h"
#include "job/job.h"
#include "kin.h"

typedef struct kin__flow kin__flow;

typedef struct kin__flow_ops {
    const char *name; /* the operator, for messages ("kin_flow_map") */
    /* Runs self once into down, in the calling coroutine; returns 0 or a
     * negative code with the current error set (kin__flow_rc). It must
     * stop at the first negative result of an emit into down and return
     * it (or a failure of its own). */
    int (*collect)(kin__flow *self, kin_flow_collector *down);
    /* Frees what the operator's fields own (not up/up2, not the record);
     * NULL if nothing. Runs once, when the last reference goes. */
    void (*destroy)(kin__flow *self);
} kin__flow_ops;

struct kin__flow {
    const kin__flow_ops *ops; /* [immutable] */
    size_t esize;             /* [immutable] size of what it emits */
    kin__flow *up, *up2;      /* [immutable after make] owned references */
    struct kin__flow_slot *slot; /* its handle's slot */
    /* on_free: set once (CAS on on_free_set), called at the free. */
    atomic_bool on_free_set;
    void (*on_free)(void *);
    void *on_free_arg;
    /* the operator's fields follow (stage_size - sizeof(kin__flow)) */
};

/* The collector. Fields other than failed/violated/err are set by
 * kin__flow_collector_init and never change. */
struct kin_flow_collector {
    int (*emit)(kin_flow_collector *self, const void *value);
    size_t esize;
    kin__job *owner; /* the coroutine (its job record) that collects */
    /* Exception transparency, written only by owner: the first negative
     * result an emit through kin_flow_emit returned, its error (a
     * reference), and whether an emit came after it. */
    int failed;
    bool violated;
    kin_error *err;
};

/* ---- Records and handles ---- */

/* Makes a stage: stage_size (>= sizeof(kin__flow)) zeroed bytes with ops,
 * esize and up (a reference taken over, may be NULL), one reference for
 * the caller; *out gets its handle and *stage (may be NULL) the record.
 * On KIN_ENOMEM (error set) up is released and *out zeroed. */
int kin__flow_make(kin_flow *out, const kin__flow_ops *ops, size_t stage_size,
                   size_t esize, kin__flow *up, kin__flow **stage);

/* Takes over the caller's reference behind *f for an operator named who:
 * returns its record (the reference now the caller's to hand to
 * kin__flow_make as up) and zeroes *f. NULL with a misuse code in *rc
 * (KIN_EINVAL: f NULL or zero; KIN_ESTALE) and the message made; *f is
 * zeroed then too (and a valid reference released: see BUILDING). */
kin__flow *kin__flow_take_over(kin_flow *f, const char *who, int *rc);

/* Looks a handle up and adds a reference; NULL with *rc (KIN_EINVAL /
 * KIN_ESTALE) and the message made. */
kin__flow *kin__flow_acquire(kin_flow h, const char *who, int *rc);
void kin__flow_ref(kin__flow *f);
void kin__flow_unref(kin__flow *f); /* frees at the last reference */
kin_flow kin__flow_handle(kin__flow *f);

/* The operator's fields of a stage (after the header). */
#define KIN__FLOW_FIELDS(type, f) ((type *)(void *)(f))

/* ---- Collecting ---- */

/* Sets up c for values of esize bytes, handled by emit, in the coroutine
 * owner (the running one: kin__running_job()). */
static inline void kin__flow_collector_init(kin_flow_collector *c,
                                            int (*emit)(kin_flow_collector *,
                                                        const void *),
                                            size_t esize, kin__job *owner) {
    c->emit = emit;
    c->esize = esize;
    c->owner = owner;
    c->failed = 0;
    c->violated = false;
    c->err = NULL;
}

/* Runs stage f into down (f->ops->collect). */
static inline int kin__flow_run(kin__flow *f, kin_flow_collector *down) {
    return f->ops->collect(f, down);
}

/* Passes a value downstream from operator code (no checks). */
static inline int kin__flow_emit_down(kin_flow_collector *down,
                                      const void *value) {
    return down->emit(down, value);
}

/* Makes the current error stand for rc < 0 (a user callback may return a
 * code without raising it: a new error object is then made, as a body's
 * result becomes its failure) and returns rc; rc >= 0 is returned as is. */
int kin__flow_rc_slow(int rc);
static inline int kin__flow_rc(int rc) {
    if (KIN__LIKELY(rc >= 0))
        return rc;
    const kin_error *e = kin_last_error();
    if (KIN__LIKELY(e && kin_error_code(e) == rc))
        return rc;
    return kin__flow_rc_slow(rc);
}

/* After a user function (an emitter, transform, on_start, catch's fn...)
 * that emitted into c returned rc: the result of that call as exception
 * transparency wants it. A violation gives KIN_EFLOW (its error current);
 * a recorded downstream failure wins over a success (its error made
 * current again); otherwise kin__flow_rc(rc). c's state is kept (the
 * same collector may be given to the user again: transform). */
int kin__flow_user_done(kin_flow_collector *c, int rc);

/* Releases what c holds (its recorded failure); call once at the end of
 * the collect that made c. */
static inline void kin__flow_collector_end(kin_flow_collector *c) {
    if (KIN__UNLIKELY(c->err != NULL)) {
        kin_error_release(c->err);
        c->err = NULL;
    }
}

/* True if the current failure (rc, current error) is the cancellation of
 * the collecting coroutine's job (what catch and retry let through). */
bool kin__flow_is_collector_cancel(kin__job *owner, int rc);

/* Terminals: checks that the caller is a coroutine and looks f up (a
 * reference for the collect); NULL with *rc set. Give the reference back
 * with kin__flow_unref. */
kin__flow *kin__flow_terminal_begin(kin_flow f, const char *who, int *rc,
                                    kin__job **owner);

/* ---- Abort (Kotlin's AbortFlowException) ----
 * An operator that needs no more values (take, first, single's...) makes
 * an abort owned by its per-collect state, returns its code from its emit,
 * and on the way back from the upstream's collect asks whether the
 * failure it got is its own abort (then: success). Another operator's
 * abort (a nested take) passes through untouched. */
typedef struct kin__flow_abort {
    kin_error *err; /* NULL until raised */
} kin__flow_abort;

/* Raises a's abort (current error) and returns KIN_ECANCELED. */
int kin__flow_abort_raise(kin__flow_abort *a);
/* True if the current failure rc is a's own abort (then the current error
 * is cleared). Releases what a holds either way. */
bool kin__flow_abort_mine(kin__flow_abort *a, int rc);

/* ---- Scratch for per-collect values ----
 * A value buffer on the caller's stack for small sizes, else one malloc
 * per collect: a kin__flow_scratch on the stack, kin__flow_scratch_init,
 * then kin__flow_scratch_get(&s, n) (NULL: out of memory, error set) and
 * kin__flow_scratch_free(&s) at the end. */
#define KIN__FLOW_SCRATCH_INLINE 256
typedef struct kin__flow_scratch {
    alignas(max_align_t) unsigned char small[KIN__FLOW_SCRATCH_INLINE];
    void *big;
} kin__flow_scratch;

static inline void kin__flow_scratch_init(kin__flow_scratch *s) {
    s->big = NULL;
}
void *kin__flow_scratch_get(kin__flow_scratch *s, size_t n);
void kin__flow_free_big(void *p);
static inline void kin__flow_scratch_free(kin__flow_scratch *s) {
    if (s->big) {
        kin__flow_free_big(s->big);
        s->big = NULL;
    }
}

/* ---- Shared by the operator files ---- */

/* Makes a retry stage (ops.c) over *f (taken over as an operator does):
 * retries at most `retries` times (UINT64_MAX: retry_when) while fn (NULL
 * allowed unless fn_required) returns 1. arg_free (may be NULL) frees arg
 * with the stage, or at once if the call fails. retries == 0: KIN_EINVAL. */
int kin__flow_retry_make(kin_flow *f, const char *who, uint64_t retries,
                         kin_flow_retry_fn fn, void *arg, bool fn_required,
                         void (*arg_free)(void *));

#endif
