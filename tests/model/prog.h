/*
 * prog.h — random structured programs for the model test (tests/model/test_model.c)
 * and the fuzz target (tests/fuzz/fuzz_program.c).
 *
 * A program is a tree of nodes. Some nodes own a *body* (a list of statement
 * nodes, run in order):
 *
 *   ROOT          the kin_run_blocking body
 *   LAUNCH/ASYNC  a child coroutine (kin_launch / kin_async), maybe LAZY,
 *                 maybe with its own exception handler
 *   SCOPE, SUPERVISOR, TIMEOUT, TIMEOUT_NULL, NONCANCEL
 *                 a scope function run in place (kin_coroutine_scope, ...)
 *
 * The other statements are leaves: DELAY (0, some ticks, or "forever"),
 * YIELD, ENSURE_ACTIVE, AWAIT / JOIN / CANCEL / START of a handle launched
 * earlier (by this body or by an enclosing one: "the parent or a sibling"),
 * CANCEL_SELF (kin_cancel(kin_current_job())), and FAIL, which ends its body
 * with `return kin_fail(...)` and a unique message "F<node>".
 *
 * Each body has a policy for a negative result of one of its statements:
 *   PROPAGATE  return it at once (KIN_TRY)
 *   IGNORE     carry on with the next statement (swallows cancellation)
 *   CLEANUP    run its cleanup node (a NONCANCEL body, which may suspend and
 *              may fail) and return the cleanup's failure if it failed, else
 *              the original code with the original error (kin_fail_error):
 *              Kotlin's try { ... } finally { withContext(NonCancellable) {
 *              ... } }.
 * START's result (KIN_EALREADY) never triggers a policy.
 *
 * Hand-made jobs, deferreds and explicit parents (issue 9), drawn only in
 * "extended" programs (mp_gen.ext, about half of the seeded ones; the
 * fuzzer's when bit 1 of its first byte is set), so that the programs of
 * the other seeds are exactly those from before they existed:
 *   JOB_NEW       kin_job_new (maybe a supervisor), a child of the current
 *                 job or a root (xparent MP_NO_PARENT); its handle is kept
 *   DEFERRED_NEW  kin_deferred_new, the same, awaitable
 *   COMPLETE      kin_job_complete, or kin_deferred_complete(&value[node])
 *                 for a deferred: returns 1 the first time, then 0
 *   COMPLETE_EXC  kin_job_complete_exceptionally with a failure "F<node>"
 *   CANCEL_CHILDREN  kin_job_cancel_children of a handle, or of the
 *                 current job (target -1)
 *   LAUNCH/ASYNC with xparent: an explicit parent (a job node or a kept
 *                 coroutine handle, kin_launch_opts.parent) or none at all
 *                 (MP_NO_PARENT, .no_parent)
 * and AWAIT / JOIN / CANCEL / START may name a job node. The body that
 * makes a job node always completes, fails or cancels it later in the same
 * body (its "terminator", placed before a trailing FAIL); if the body ends
 * early on an error, its job is cancelling and so is the job node. A root
 * job node is made only in a body that ignores errors, so its terminator
 * always runs. Coroutines outside the program root's tree (no_parent,
 * under a root job, born cancelled under a completed parent) are waited
 * for by the interpreter after the root's body returned (see model.h,
 * "epilogue"), so every program ends with nothing left running.
 *
 * Suspending by hand (issue 9; kin_suspend, Kotlin's
 * suspendCancellableCoroutine), drawn only in "hand" programs (mp_gen.hand,
 * 40% of the seeded ones, from a third random stream, so that the programs
 * of the other seeds, extended or not, are exactly those from before; the
 * fuzzer's when bit 2 of its first byte is set):
 *   SUSPEND       kin_suspend; its continuation goes to the program's table
 *                 (slot = the SUSPEND node). HF_CB: start registers an
 *                 on-cancel callback (kin_cont_on_cancel) that records an
 *                 event; HF_FAST: start resumes it at once with &value[node]
 *                 (kin_resume_ex, the fast path: no parking).
 *   RESUME        resumes slot `target`: kin_resume(&value[node]),
 *                 kin_resume_ex with an on_drop that records an event
 *                 (HF_EX), or kin_resume_error with a failure "F<node>"
 *                 (HF_ERR). Its result (0, KIN_EALREADY) never triggers a
 *                 policy, as START's. A resume that comes before the
 *                 suspension (the slot is empty) waits in the table: start
 *                 then resumes its own continuation with it (a mailbox), so
 *                 that a resume that runs at all always ends its suspension,
 *                 whatever the threads' order (test_model_mt); a second one
 *                 while it waits gets KIN_EALREADY (from the interpreter).
 * The generator pairs them: a launch whose body resumes a suspension that
 * its launcher's body makes after the launch, a launch that suspends and
 * its launcher that yields, maybe cancels it, then resumes it (once or
 * twice), a with_timeout around a suspension (timed programs), and free
 * suspensions and resumes of any slot of another coroutine. A candidate
 * with a suspension nothing ends is M_STUCK in the model: m_repair makes
 * that suspension resume itself at once (HF_FAST), as it shortens a
 * "forever" delay, and a candidate that still cannot finish is rejected
 * (test_model.c build(), fuzz_program.c).
 *
 * Channels and the mutex (issue 11), drawn only in "chan" programs
 * (mp_gen.chan, 40% of the seeded ones, from a fourth random stream, so
 * that the programs of the other seeds are exactly those from before; the
 * fuzzer's when bit 3 of its first byte is set). The program has 1-4
 * channels (mp_prog.chcap: rendezvous, a buffer of 1-3, conflated; the
 * elements are SEND nodes) and one mutex:
 *   SEND / TRY_SEND      kin_channel_send / try_send of the node itself
 *   RECEIVE / TRY_RECEIVE  kin_channel_receive / try_receive: the value
 *                 is the SEND node whose element came
 *   CLOSE, CANCEL_CH     kin_channel_close(NULL) / kin_channel_cancel(NULL)
 *   SELECT        kin_select over a receive from ch and one from ch2
 *                 (biased): the clause, and the value
 *   WITH_LOCK     kin_mutex_with_lock { 1-3 leaves: delay, yield, send,
 *                 receive, try_send, try_receive } (no nesting, so never
 *                 re-entered); HF_TRY (m_repair): kin_mutex_try_lock, the
 *                 body skipped if it is locked
 * Their results trigger the body's policy only when they are a
 * cancellation code (mp_chan_no_policy in model.h). Elements that are
 * dropped (a send to a closed channel, a cancelled send, a cancelled
 * channel's buffer, conflation, prompt cancellation of a receive) go to
 * the on_undelivered callback, an event. The root's body closes every
 * channel when it returns, so receivers left waiting see the channel
 * closed; a send or receive that nothing else ends is M_STUCK, and
 * m_repair turns it into its try_ form (a lock wait into try_lock).
 *
 * The "more" operations (issues 10, 11), drawn only in "more" programs
 * (mp_prog.more: half of the chan programs, from a fifth random stream, so
 * that the programs of the other seeds are exactly those from before; the
 * fuzzer's when bits 3 and 4 of its first byte are set):
 *   drop policies  each channel that is not conflated suspends (half), or
 *                 drops the oldest or the latest element (mp_prog.chpol;
 *                 a rendezvous one then has a one-element buffer)
 *   WITH_PERMIT   kin_semaphore_with_permit (mp_prog.permits: 1-3) { 1-3
 *                 leaves, maybe a with_lock }; HF_TRY (m_repair):
 *                 kin_semaphore_try_acquire, the body skipped if none;
 *                 its release, after a bare one, may say KIN_EPERM, which
 *                 replaces the body's result (kotlinx's withPermit)
 *   SEM_RELEASE   a bare kin_semaphore_release (also in with_permit
 *                 bodies): KIN_EPERM when every permit is available
 *   RF_CATCH      a RECEIVE with kin_channel_receive_catching (closed
 *                 without a cause: KIN_CLOSED, positive)
 *   SELECT flags  SF_SEND: clause 1 sends the node to ch2 instead of
 *                 receiving; SF_TMO: clause 2 is a TIMEOUT of `ticks` (0:
 *                 at once); SF_UNBIASED: kin_select_unbiased (the model
 *                 rejects a program where it finds two clauses ready)
 *   pipes         mp_prog.npipe (0-2) non-blocking pipes of 2-byte
 *                 messages: FD_READ (kin_read; FF_WAIT: kin_wait_fd
 *                 first), FD_WRITE (kin_write of the node's number),
 *                 FD_CLOSE (kin_close of the read end; FF_WREND: the
 *                 write end). The root's body closes every write end when
 *                 it returns (readers see end of file), as it closes the
 *                 channels; a read nothing ends is M_STUCK, and m_repair
 *                 turns it into a yield. A construct races a cancellation
 *                 with readiness (mp_gen_fd_race).
 *
 * The "chx" additions (issue 11), drawn only in "chx" programs
 * (mp_prog.chx: half of the chan programs, from a sixth random stream, so
 * that the programs of the other seeds are exactly those from before; the
 * fuzzer's when bits 3 and 5 of its first byte are set):
 *   capacities    a channel may be BUFFERED (kotlinx's default, 64; with
 *                 a drop policy a one-element buffer) or UNLIMITED (its
 *                 drop policy moot)
 *   SELECT flags  SF_CATCH: clause 0 is RECEIVE_CATCHING (a closed
 *                 channel completes it with a result: KIN_CLOSED or the
 *                 cause's code in kin_select_clause.rc, reported as the
 *                 value mp_closed_val(rc)); SF_JOB: a JOIN (SF_AWAIT: an
 *                 AWAIT) clause of `target`, a handle the body sees, chosen
 *                 as a JOIN or AWAIT statement's would be; first
 *                 (SF_JOBFIRST) or after the channel clauses, before a
 *                 TIMEOUT. mp_sel_clauses lists a select's clauses.
 *   PRODUCE       kin_produce: a coroutine (its body, with 1-3 SENDs into
 *                 its own channel, a fresh one of the table: ch, of
 *                 capacity `ticks`), then in the producing body 1-3
 *                 receives from it (catching, try_) and maybe its cancel
 *                 (which cancels the producer); closed with the producer's
 *                 final cause when it completes (mp_gen_produce says what
 *                 it avoids)
 *   owner tokens  a WITH_LOCK may lock with its coroutine's token
 *                 (LF_OWNER, &value[coroutine] in kin), and its body may
 *                 hold MX_HOLDS (kin_mutex_holds_lock of its own or
 *                 another coroutine's token), MX_UNLOCK (kin_mutex_unlock
 *                 with a token nobody locks with: KIN_EPERM) and MX_RELOCK
 *                 (kin_mutex_lock, HF_TRY: try_lock, with its own token
 *                 again: KIN_EDEADLK); their results trigger no policy
 *
 * Programs are built from a random source: a seeded PRNG (the test) or the
 * fuzzer's bytes. Times are in ticks; untimed programs use only 0 and
 * "forever" (which never fires), so their order of events does not depend on
 * the wall clock at all.
 */
#ifndef KIN_MODEL_PROG_H
#define KIN_MODEL_PROG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MP_FN static __attribute__((unused))

enum {
    MP_MAX_NODES = 1500,
    MP_MAX_STMTS = 16, /* statements per body */
    MP_OLD_STMTS = 10, /* ... in programs without the extended operations */
    MP_MAX_COROS = 200, /* coroutines per program, the root included */
    MP_MAX_DEPTH = 6,   /* nesting of bodies (coroutines and scopes) */
    MP_INF = -1,        /* ticks: forever (never fires) */
    MP_NO_PARENT = -2,  /* xparent: no parent at all */
};

typedef enum mp_op {
    OP_ROOT,
    OP_LAUNCH,
    OP_ASYNC,
    OP_SCOPE,
    OP_SUPERVISOR,
    OP_TIMEOUT,
    OP_TIMEOUT_NULL,
    OP_NONCANCEL,
    OP_DELAY,
    OP_YIELD,
    OP_ENSURE_ACTIVE,
    OP_AWAIT,
    OP_JOIN,
    OP_CANCEL,
    OP_CANCEL_SELF,
    OP_START,
    OP_FAIL,
    /* the extended operations (issue 9) */
    OP_JOB_NEW,
    OP_DEFERRED_NEW,
    OP_COMPLETE,
    OP_COMPLETE_EXC,
    OP_CANCEL_CHILDREN,
    /* suspending by hand (issue 9) */
    OP_SUSPEND, /* kin_suspend until resumed (or cancelled) */
    OP_RESUME,  /* resume the slot of an OP_SUSPEND */
    /* channels and the mutex (issue 11) */
    OP_SEND,        /* kin_channel_send(ch, node) */
    OP_RECEIVE,     /* kin_channel_receive(ch): the value is a SEND node */
    OP_TRY_SEND,    /* kin_channel_try_send */
    OP_TRY_RECEIVE, /* kin_channel_try_receive */
    OP_CLOSE,       /* kin_channel_close(ch, NULL) */
    OP_CANCEL_CH,   /* kin_channel_cancel(ch, NULL) */
    OP_SELECT,      /* kin_select: receive from ch or ch2 (biased) */
    OP_WITH_LOCK,   /* kin_mutex_with_lock { its body } */
    /* the semaphore ("more" programs) */
    OP_WITH_PERMIT, /* kin_semaphore_with_permit { its body } */
    /* pipes (issue 10, "more" programs); ch: the pipe */
    OP_FD_READ,  /* kin_read of one 2-byte message (FF_WAIT: kin_wait_fd
                    first): the value is the FD_WRITE node that wrote it */
    OP_FD_WRITE, /* kin_write of the node's number (2 bytes) */
    OP_FD_CLOSE, /* kin_close of the read end (FF_WREND: the write end) */
    OP_SEM_RELEASE, /* a bare kin_semaphore_release: KIN_EPERM when every
                       permit is available, else one more goes round */
    /* "chx" programs */
    OP_PRODUCE, /* kin_produce: a coroutine (its body) that owns channel
                   ch (capacity: ticks) */
    OP_MX_HOLDS,  /* kin_mutex_holds_lock(token of target, -1: its own) */
    OP_MX_UNLOCK, /* kin_mutex_unlock with a token nobody locks with */
    OP_MX_RELOCK, /* kin_mutex_lock (HF_TRY: try_lock) with its own token,
                     inside its own LF_OWNER with_lock: KIN_EDEADLK */
    OP_COUNT_
} mp_op;

typedef enum mp_policy { POL_PROPAGATE, POL_IGNORE, POL_CLEANUP } mp_policy;

/* mp_node.hflags (SUSPEND, RESUME) */
enum {
    HF_CB = 1,   /* SUSPEND: registers an on-cancel callback */
    HF_FAST = 2, /* SUSPEND: start resumes it at once */
    HF_ERR = 4,  /* RESUME: kin_resume_error */
    HF_EX = 8,   /* RESUME: kin_resume_ex with an on_drop */
    HF_TRY = 16, /* WITH_LOCK, WITH_PERMIT: try_lock / try_acquire
                    (m_repair) */
    /* SELECT ("more" programs) */
    SF_SEND = 32,      /* clause 1 sends the node itself to ch2 */
    SF_TMO = 64,       /* clause 2: a TIMEOUT of `ticks` ticks */
    SF_UNBIASED = 128, /* kin_select_unbiased */
    /* SELECT ("chx" programs; the SUSPEND/RESUME bits, unused here) */
    SF_CATCH = 1,    /* the receive from ch is RECEIVE_CATCHING */
    SF_JOB = 2,      /* a job clause on `target`: JOIN, or ... */
    SF_AWAIT = 4,    /* ... AWAIT (an async or a deferred) */
    SF_JOBFIRST = 8, /* the job clause comes first (else after ch2's) */
    /* FD_READ, FD_CLOSE */
    FF_WAIT = 32,  /* FD_READ: kin_wait_fd(READABLE) before kin_read */
    FF_WREND = 64, /* FD_CLOSE: the write end */
    RF_CATCH = 32, /* RECEIVE: kin_channel_receive_catching */
    LF_OWNER = 1,  /* WITH_LOCK ("chx"): with its coroutine's owner token */
};

enum { MP_MAX_PIPES = 2 };

/* mp_prog.chpol: a channel's overflow policy (kin_overflow's numbers) */
enum { MP_SUSPEND = 0, MP_DROP_OLDEST = 1, MP_DROP_LATEST = 2 };

enum { MP_MAX_CHANS = 4, MP_CONFLATED = -1, MP_BUFFERED = -2,
       MP_UNLIMITED = -3 };
/* The channel table: the program's channels, then one per PRODUCE node
 * (MP_MAX_CHANS + k for the k-th), made when it runs. */
enum { MP_MAX_PROD = 4, MP_CH_TABLE = MP_MAX_CHANS + MP_MAX_PROD };

/* A select's clauses in kin_select's order (mp_sel_clauses): their kinds
 * and, for channel clauses, the channel. */
enum { SK_RECV, SK_CATCH, SK_SEND, SK_AWAIT, SK_JOIN, SK_TMO };

typedef struct mp_node {
    uint8_t op;
    uint8_t policy;  /* bodies */
    uint8_t lazy;    /* LAUNCH/ASYNC: KIN_START_LAZY */
    uint8_t handler; /* LAUNCH/ASYNC: installs its own exception handler */
    uint8_t keep;    /* LAUNCH/ASYNC: its handle is used by a statement */
    uint8_t nkids;
    uint8_t sup;     /* JOB_NEW: a supervisor job */
    uint8_t hflags;  /* SUSPEND, RESUME: HF_* */
    int16_t xparent; /* LAUNCH/ASYNC: -1 the current job, a job node, or
                        MP_NO_PARENT; JOB_NEW/DEFERRED_NEW: -1 the current
                        job, or MP_NO_PARENT (a root) */
    int16_t ticks;   /* DELAY, TIMEOUT*: 0.., or MP_INF */
    int16_t target;  /* AWAIT/JOIN/CANCEL/START: a LAUNCH/ASYNC node (or a
                        job node); COMPLETE*: a job node; CANCEL_CHILDREN:
                        a handle, or -1 for the current job; RESUME: a
                        SUSPEND node (its slot) */
    int16_t cleanup; /* POL_CLEANUP: its NONCANCEL node, else -1 */
    int16_t parent;  /* the body owner this node belongs to; -1 for root */
    int8_t ch, ch2;  /* channel ops: the channel; SELECT: the second one */
    int16_t kids[MP_MAX_STMTS];
} mp_node;

typedef struct mp_prog {
    uint64_t seed;
    int timed; /* uses finite non-zero ticks */
    int n;     /* nodes; node 0 is the root */
    int ncoro;
    int ext;   /* may use the extended operations */
    int hand;  /* may use SUSPEND / RESUME */
    int chan;  /* may use channels and the mutex */
    int nch;   /* channels */
    int8_t chcap[MP_MAX_CHANS]; /* 0 rendezvous, 1..3, MP_CONFLATED,
                                   MP_BUFFERED, MP_UNLIMITED (chx) */
    int more;  /* may use the semaphore, select's SEND and TIMEOUT
                  clauses, select_unbiased, drop policies */
    int8_t chpol[MP_MAX_CHANS]; /* MP_SUSPEND, MP_DROP_* (more) */
    int permits;                /* the semaphore's permits (more) */
    int npipe;                  /* pipes (more) */
    int chx;   /* may use BUFFERED and UNLIMITED channels, select's
                  RECEIVE_CATCHING, AWAIT and JOIN clauses, produce */
    int npch;  /* PRODUCE nodes (chx): their channels follow the nch */
    mp_node nodes[MP_MAX_NODES];
} mp_prog;

static inline bool mp_owns_body(int op) {
    return op <= OP_NONCANCEL || op == OP_PRODUCE;
}
static inline bool mp_is_coro(int op) {
    return op == OP_ROOT || op == OP_LAUNCH || op == OP_ASYNC ||
           op == OP_PRODUCE;
}
static inline bool mp_is_scope(int op) {
    return op >= OP_SCOPE && op <= OP_NONCANCEL;
}
static inline bool mp_is_timeout(int op) {
    return op == OP_TIMEOUT || op == OP_TIMEOUT_NULL;
}
/* A hand-made job (kin_job_new / kin_deferred_new): a job with no body. */
static inline bool mp_is_hand(int op) {
    return op == OP_JOB_NEW || op == OP_DEFERRED_NEW;
}
/* Every node that is a job: body owners and hand-made jobs. */
static inline bool mp_is_job(int op) {
    return mp_owns_body(op) || mp_is_hand(op);
}

/* The clauses of SELECT node n, in order: kinds[i] (SK_*) and, for a
 * channel clause, chans[i]; returns how many. Clause 0 receives from ch
 * (catching: SF_CATCH), the next receives from or sends to ch2, a job
 * clause (SF_JOB) comes first or after those, a TIMEOUT (SF_TMO) last. */
static inline int mp_sel_clauses(const mp_node *n, int kinds[5],
                                 int chans[5]) {
    int k = 0;
    int job = !(n->hflags & SF_JOB)    ? -1
              : n->hflags & SF_AWAIT ? SK_AWAIT
                                     : SK_JOIN;
    if (job >= 0 && (n->hflags & SF_JOBFIRST)) {
        chans[k] = -1;
        kinds[k++] = job;
    }
    chans[k] = n->ch;
    kinds[k++] = n->hflags & SF_CATCH ? SK_CATCH : SK_RECV;
    chans[k] = n->ch2;
    kinds[k++] = n->hflags & SF_SEND ? SK_SEND : SK_RECV;
    if (job >= 0 && !(n->hflags & SF_JOBFIRST)) {
        chans[k] = -1;
        kinds[k++] = job;
    }
    if (n->hflags & SF_TMO) {
        chans[k] = -1;
        kinds[k++] = SK_TMO;
    }
    return k;
}

/* A select's clause whose result is a closed RECEIVE_CATCHING (KIN_CLOSED
 * or the close cause's code, kin_select_clause.rc) reports it as its value,
 * coded so that it is no node number. */
static inline int mp_closed_val(int rc) {
    return -1000 + rc;
}

static const char *const mp_op_names[OP_COUNT_] = {
    "root",    "launch",        "async",   "coroutine_scope", "supervisor_scope",
    "with_timeout", "with_timeout_or_null", "non_cancellable", "delay", "yield",
    "ensure_active", "await", "join", "cancel", "cancel_self", "start", "fail",
    "job_new", "deferred_new", "complete", "complete_exceptionally",
    "cancel_children", "suspend", "resume", "send", "receive", "try_send",
    "try_receive", "close", "cancel_channel", "select", "with_lock",
    "with_permit", "fd_read", "fd_write", "fd_close", "release", "produce",
    "holds_lock", "unlock(other owner)", "lock(own owner again)"};

/* ---- Random source ---------------------------------------------------------
 * Either a PRNG (splitmix64, deterministic per seed) or a byte string (the
 * fuzzer's input, read front to back; 0 once exhausted, which always means
 * the smallest choice, so generation ends). */
typedef struct mp_rng {
    uint64_t s;
    uint64_t s2; /* the second stream: the extended operations' choices */
    uint64_t s3; /* the third: suspending by hand */
    uint64_t s4; /* the fourth: channels and the mutex */
    uint64_t s5; /* the fifth: "more" (semaphore, select clauses, ...) */
    uint64_t s6; /* the sixth: "chx" (issue 11's later additions) */
    const uint8_t *data;
    size_t len, pos;
    bool bytes;
    bool ext_ok; /* the extended operations may be used */
    bool hand_ok; /* SUSPEND / RESUME may be used */
    bool chan_ok; /* channels and the mutex may be used */
    bool more_ok; /* the "more" operations may be used */
    bool chx_ok;  /* the "chx" additions may be used */
} mp_rng;

MP_FN void mp_rng_seed(mp_rng *r, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->s = seed;
    r->s2 = seed ^ 0x5851f42d4c957f2dull;
    r->s3 = seed ^ 0x2545f4914f6cdd1dull;
    r->s4 = seed ^ 0x9fb21c651e98df25ull;
    r->s5 = seed ^ 0xd6e8feb86659fd93ull;
    r->s6 = seed ^ 0x8cb92ba72f3d8dd7ull;
    r->ext_ok = true;
    r->hand_ok = true;
    r->chan_ok = true;
    r->more_ok = true;
    r->chx_ok = true;
}

MP_FN void mp_rng_bytes(mp_rng *r, const uint8_t *data, size_t len) {
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    r->bytes = true;
}

static inline uint64_t mp_next64(mp_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A number in [0, n). */
static inline unsigned mp_rand(mp_rng *r, unsigned n) {
    if (n <= 1)
        return 0;
    if (!r->bytes)
        return (unsigned)(mp_next64(r) % n);
    if (r->pos >= r->len)
        return 0;
    unsigned v = r->data[r->pos++];
    if (n > 256 && r->pos < r->len)
        v = v << 8 | r->data[r->pos++];
    return v % n;
}

/* True with probability pct/100. */
static inline bool mp_chance(mp_rng *r, unsigned pct) {
    if (r->bytes && r->pos >= r->len)
        return false;
    return mp_rand(r, 100) < pct;
}

/* The extended operations draw from a second stream (the seeded PRNG's
 * s2; the fuzzer has one stream), so that drawing them leaves the first
 * stream, and so the programs of seeds that draw none, as they were. */
static inline unsigned mp_xrand(mp_rng *r, unsigned n) {
    if (r->bytes)
        return mp_rand(r, n);
    if (n <= 1)
        return 0;
    uint64_t z = (r->s2 += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (unsigned)((z ^ (z >> 31)) % n);
}

static inline bool mp_xchance(mp_rng *r, unsigned pct) {
    if (r->bytes && r->pos >= r->len)
        return false;
    return mp_xrand(r, 100) < pct;
}

/* Suspending by hand draws from a third stream (the fuzzer: its one). */
static inline unsigned mp_hrand(mp_rng *r, unsigned n) {
    if (r->bytes)
        return mp_rand(r, n);
    if (n <= 1)
        return 0;
    uint64_t z = (r->s3 += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (unsigned)((z ^ (z >> 31)) % n);
}

static inline bool mp_hchance(mp_rng *r, unsigned pct) {
    if (r->bytes && r->pos >= r->len)
        return false;
    return mp_hrand(r, 100) < pct;
}

/* Channels and the mutex draw from a fourth stream (the fuzzer: its one). */
static inline unsigned mp_crand(mp_rng *r, unsigned n) {
    if (r->bytes)
        return mp_rand(r, n);
    if (n <= 1)
        return 0;
    uint64_t z = (r->s4 += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (unsigned)((z ^ (z >> 31)) % n);
}

static inline bool mp_cchance(mp_rng *r, unsigned pct) {
    if (r->bytes && r->pos >= r->len)
        return false;
    return mp_crand(r, 100) < pct;
}

/* The "more" operations draw from a fifth stream (the fuzzer: its one). */
static inline unsigned mp_mrand(mp_rng *r, unsigned n) {
    if (r->bytes)
        return mp_rand(r, n);
    if (n <= 1)
        return 0;
    uint64_t z = (r->s5 += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (unsigned)((z ^ (z >> 31)) % n);
}

static inline bool mp_mchance(mp_rng *r, unsigned pct) {
    if (r->bytes && r->pos >= r->len)
        return false;
    return mp_mrand(r, 100) < pct;
}

/* The "chx" additions draw from a sixth stream (the fuzzer: its one). */
static inline unsigned mp_zrand(mp_rng *r, unsigned n) {
    if (r->bytes)
        return mp_rand(r, n);
    if (n <= 1)
        return 0;
    uint64_t z = (r->s6 += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (unsigned)((z ^ (z >> 31)) % n);
}

static inline bool mp_zchance(mp_rng *r, unsigned pct) {
    if (r->bytes && r->pos >= r->len)
        return false;
    return mp_zrand(r, 100) < pct;
}

/* ---- Generator ------------------------------------------------------------- */

typedef struct mp_gen {
    mp_prog *p;
    mp_rng *r;
    int max_coro;
    int max_stmts; /* per body at depth 1; fewer deeper */
    bool timed;
    int w_fail, w_sup, w_cancel; /* per-program weights of those ops */
    bool ext;                    /* extended operations in this program */
    uint8_t detached[MP_MAX_NODES]; /* outside the program root's tree */
    uint8_t termed[MP_MAX_NODES];   /* job node: its terminator is placed */
    uint8_t npend[MP_MAX_NODES];    /* body: job nodes not yet terminated */
    bool hand;                      /* SUSPEND / RESUME in this program */
    int nslots;
    int16_t slots[64];              /* SUSPEND nodes made so far */
    bool chan;                      /* channels and the mutex */
    bool more;                      /* the "more" operations */
    bool chx;                       /* the "chx" additions */
} mp_gen;

/* Extended programs: per statement, the chance (%) of an extended
 * operation instead of an old one; per program, the chance (%) that the
 * program is extended. */
enum { MP_EXT_STMT_PCT = 22, MP_EXT_PROG_PCT = 50 };
/* The same for suspending by hand (the third stream). */
enum { MP_HAND_STMT_PCT = 16, MP_HAND_PROG_PCT = 40 };
/* ... and for channels and the mutex (the fourth stream). */
enum { MP_CHAN_STMT_PCT = 20, MP_CHAN_PROG_PCT = 40 };
/* ... and for the "more" operations (the fifth stream), in chan programs. */
enum { MP_MORE_STMT_PCT = 14, MP_MORE_PROG_PCT = 50 };
/* ... and the chance (%) that a chan program has the "chx" additions (the
 * sixth stream). */
enum { MP_CHX_PROG_PCT = 50 };

/* Handles visible to a body: launched earlier by it or by an enclosing body
 * before the point where this body started (L2: the launching job outlives
 * every use). Never an ancestor of the body, so waits cannot deadlock on
 * their own family. */
typedef struct mp_vis {
    int n;
    int16_t ids[64];
} mp_vis;

static int mp_new_node(mp_gen *g, int op, int parent) {
    mp_prog *p = g->p;
    if (p->n >= MP_MAX_NODES)
        return -1;
    int id = p->n++;
    mp_node *n = &p->nodes[id];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->parent = (int16_t)parent;
    n->target = -1;
    n->cleanup = -1;
    n->xparent = -1;
    return id;
}

static int mp_pick_ticks_delay(mp_gen *g) {
    mp_rng *r = g->r;
    if (g->timed) {
        unsigned c = mp_rand(r, 100);
        if (c < 20)
            return 0;
        if (c < 82)
            return 1 + (int)mp_rand(r, 8);
        return MP_INF;
    }
    return mp_chance(r, 70) ? 0 : MP_INF;
}

static int mp_pick_ticks_timeout(mp_gen *g) {
    mp_rng *r = g->r;
    if (g->timed) {
        unsigned c = mp_rand(r, 100);
        if (c < 8)
            return 0;
        if (c < 80)
            return 1 + (int)mp_rand(r, 10);
        return MP_INF;
    }
    return mp_chance(r, 12) ? 0 : MP_INF;
}

static void mp_add_kid(mp_prog *p, int owner, int kid) {
    mp_node *o = &p->nodes[owner];
    o->kids[o->nkids++] = (int16_t)kid;
}

/* True if job node t was made by owner's body or by a body that runs
 * owner's in place (owner is a scope in it): owner runs in the coroutine
 * that is to complete t later. */
static bool mp_made_here(const mp_prog *p, int t, int owner) {
    for (int a = owner; a >= 0; a = p->nodes[a].parent) {
        if (p->nodes[t].parent == a)
            return true;
        if (mp_is_coro(p->nodes[a].op))
            return false;
    }
    return false;
}

/* A visible handle usable by op in owner's body (AWAIT: async or
 * deferred only), or -1. A job node that this body made is waited for
 * (AWAIT, JOIN) only after its terminator: before, nothing would end it. */
static int mp_pick_target_r(mp_gen *g, const mp_vis *v, int op, int owner,
                            unsigned (*rnd)(mp_rng *, unsigned)) {
    int cand[64], n = 0;
    /* no waiting at all while this coroutine has a job node to terminate
     * (what it waits for might wait for that job) */
    if (op == OP_AWAIT || op == OP_JOIN)
        for (int a = owner; a >= 0; a = g->p->nodes[a].parent) {
            if (g->npend[a])
                return -1;
            if (mp_is_coro(g->p->nodes[a].op))
                break;
        }
    for (int i = 0; i < v->n; i++) {
        int t = v->ids[i];
        int top = g->p->nodes[t].op;
        if (op == OP_AWAIT && top != OP_ASYNC && top != OP_DEFERRED_NEW)
            continue;
        if ((op == OP_AWAIT || op == OP_JOIN) && mp_is_hand(top) &&
            !g->termed[t] && mp_made_here(g->p, t, owner))
            continue;
        cand[n++] = t;
    }
    if (n == 0)
        return -1;
    return cand[rnd(g->r, (unsigned)n)];
}

static int mp_pick_target(mp_gen *g, const mp_vis *v, int op, int owner) {
    return mp_pick_target_r(g, v, op, owner, mp_rand);
}

static void mp_gen_body(mp_gen *g, int owner, int depth, const mp_vis *inherited,
                        bool cleanup);
static bool mp_under_sup(const mp_prog *p, int owner) {
    int par = p->nodes[owner].parent;
    int x = p->nodes[owner].xparent;
    if (p->nodes[owner].op == OP_LAUNCH && x >= 0)
        return p->nodes[x].op == OP_JOB_NEW && p->nodes[x].sup;
    return par >= 0 && p->nodes[owner].op == OP_LAUNCH &&
           p->nodes[par].op == OP_SUPERVISOR;
}

/* The cleanup of a POL_CLEANUP body: a short non-cancellable section that
 * suspends (finite waits only: nothing can cancel it) and may fail. */
static int mp_gen_cleanup(mp_gen *g, int owner, int depth) {
    int nc = mp_new_node(g, OP_NONCANCEL, owner);
    if (nc < 0)
        return -1;
    mp_vis none = {0};
    mp_gen_body(g, nc, depth + 1, &none, true);
    return nc;
}

/* ---- The extended operations (issue 9) -------------------------------------
 * Drawn from the second stream (mp_xrand) in extended programs only. */

/* A body's job nodes still waiting for their terminator. */
typedef struct mp_ext_body {
    int npend;
    int16_t pend[MP_MAX_STMTS];
    bool made_root; /* made a root job node: the body ignores errors */
} mp_ext_body;

/* The coroutine (node) whose stack runs owner's body. */
static int mp_coro_of(const mp_prog *p, int owner) {
    while (!mp_is_coro(p->nodes[owner].op))
        owner = p->nodes[owner].parent;
    return owner;
}

/* Roots (root job nodes, no_parent launches) are made only by the program
 * root's coroutine (before its body returns) and by coroutines outside
 * its tree, so that the epilogue (model.h) never misses one made late. */
static bool mp_detached_ok(const mp_gen *g, int owner) {
    int c = mp_coro_of(g->p, owner);
    return c == 0 || g->detached[c];
}

/* The terminator of the body's first pending job node: complete (50%),
 * complete_exceptionally (20%, when the program fails at all) or cancel. */
static int mp_gen_terminator(mp_gen *g, int owner, mp_ext_body *xb) {
    mp_prog *p = g->p;
    if (xb->npend == 0 || p->nodes[owner].nkids >= MP_MAX_STMTS)
        return -1;
    int j = xb->pend[0];
    memmove(&xb->pend[0], &xb->pend[1], (size_t)--xb->npend * sizeof xb->pend[0]);
    g->npend[owner] = (uint8_t)xb->npend;
    unsigned c = mp_xrand(g->r, 100);
    int op = c < 50 ? OP_COMPLETE
             : c < 70 ? (g->w_fail ? OP_COMPLETE_EXC : OP_COMPLETE)
                      : OP_CANCEL;
    int id = mp_new_node(g, op, owner);
    if (id < 0)
        return -1;
    p->nodes[id].target = (int16_t)j;
    mp_add_kid(p, owner, id);
    g->termed[j] = 1;
    return id;
}

/* A launch or async in owner's body with parent xparent (-1: the current
 * job), whose body sees vis. */
static int mp_gen_xlaunch(mp_gen *g, int owner, int depth, int xparent,
                          const mp_vis *vis, bool detached) {
    mp_prog *p = g->p;
    int op = mp_xchance(g->r, 25) ? OP_ASYNC : OP_LAUNCH;
    int id = mp_new_node(g, op, owner);
    if (id < 0)
        return -1;
    mp_node *n = &p->nodes[id];
    mp_add_kid(p, owner, id);
    n->xparent = (int16_t)xparent;
    g->detached[id] = detached;
    p->ncoro++;
    n->lazy = mp_chance(g->r, 8);
    n->handler = mp_chance(g->r, 35);
    mp_gen_body(g, id, depth + 1, vis, false);
    return id;
}

static void mp_vis_add(mp_vis *v, int id) {
    if (v->n < 64)
        v->ids[v->n++] = (int16_t)id;
}

static mp_vis mp_vis_without(const mp_vis *v, int id) {
    mp_vis out = {0};
    for (int i = 0; i < v->n; i++)
        if (v->ids[i] != id)
            out.ids[out.n++] = v->ids[i];
    return out;
}

/* What a scope's body sees: vis, less the job nodes that this coroutine
 * is still to terminate (the scope waits for its children, so none of
 * them may wait for those). */
static mp_vis mp_vis_scope(const mp_gen *g, const mp_vis *v, int owner) {
    mp_vis out = {0};
    for (int i = 0; i < v->n; i++) {
        int t = v->ids[i];
        if (mp_is_hand(g->p->nodes[t].op) && !g->termed[t] &&
            mp_made_here(g->p, t, owner))
            continue;
        out.ids[out.n++] = (int16_t)t;
    }
    return out;
}

enum { X_JOB, X_DEFERRED, X_LAUNCH, X_COMPLETE, X_COMPLETE_EXC, X_CCHILD,
       X_TERM, X_N };

/* Generates one extended operation (with what comes with it) in owner's
 * body; false if none fits here. */
static bool mp_gen_ext(mp_gen *g, int owner, int depth, mp_vis *vis,
                       mp_ext_body *xb, bool can_nest) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_node *o = &p->nodes[owner];
    int room = MP_MAX_STMTS - 2 - o->nkids - xb->npend; /* 2: lazy STARTs */
    bool coro_ok = can_nest && p->ncoro < g->max_coro;
    int hands = 0, xpar = 0, kept = 0;
    for (int i = 0; i < vis->n; i++) {
        int t = vis->ids[i];
        if (mp_is_hand(p->nodes[t].op)) {
            hands++;
            if (p->nodes[t].parent == owner)
                xpar++;
        } else {
            kept++;
        }
    }
    bool no_parent_ok = mp_detached_ok(g, owner);
    int w[X_N] = {
        [X_JOB] = room >= 3 && xb->npend < 4 ? 5 : 0,
        [X_DEFERRED] = room >= 3 && xb->npend < 4 ? 4 : 0,
        [X_LAUNCH] = room >= 1 && coro_ok && (xpar + kept || no_parent_ok)
                         ? 5
                         : 0,
        [X_COMPLETE] = room >= 1 && hands ? 3 : 0,
        [X_COMPLETE_EXC] = room >= 1 && hands && g->w_fail ? 2 : 0,
        [X_CCHILD] = room >= 1 ? 2 : 0,
        [X_TERM] = xb->npend ? 6 : 0,
    };
    int total = 0;
    for (int k = 0; k < X_N; k++)
        total += w[k];
    if (total == 0)
        return false;
    int pick = (int)mp_xrand(r, (unsigned)total), k = 0;
    while (pick >= w[k])
        pick -= w[k++];

    switch (k) {
    case X_JOB:
    case X_DEFERRED: {
        int op = k == X_JOB ? OP_JOB_NEW : OP_DEFERRED_NEW;
        int id = mp_new_node(g, op, owner);
        if (id < 0)
            return false;
        mp_node *n = &p->nodes[id];
        mp_add_kid(p, owner, id);
        n->keep = 1;
        n->sup = op == OP_JOB_NEW && mp_xchance(r, 30);
        bool root = no_parent_ok && o->op != OP_NONCANCEL && mp_xchance(r, 30);
        n->xparent = root ? MP_NO_PARENT : -1;
        g->detached[id] = root || g->detached[mp_coro_of(p, owner)];
        if (root)
            xb->made_root = true;
        xb->pend[xb->npend++] = (int16_t)id;
        g->npend[owner] = (uint8_t)xb->npend;
        /* its children: coroutines launched with .parent = it; they see
         * what this body sees, except the job itself (their ancestor);
         * under a root, nothing (they may outlive this body's owner) */
        int nk = (int)mp_xrand(r, op == OP_JOB_NEW ? 3 : 2) +
                 (op == OP_JOB_NEW);
        mp_vis cv = root ? (mp_vis){0} : mp_vis_without(vis, id);
        for (int i = 0; i < nk && coro_ok && p->ncoro < g->max_coro &&
                        p->nodes[owner].nkids + xb->npend + 2 < MP_MAX_STMTS;
             i++) {
            int c = mp_gen_xlaunch(g, owner, depth, id, &cv,
                                   g->detached[id]);
            if (c < 0)
                break;
            mp_vis_add(vis, c);
        }
        mp_vis_add(vis, id);
        return true;
    }
    case X_LAUNCH: {
        /* the parent: a job node of this body, a kept coroutine handle, or
         * none at all */
        int nc = xpar + kept + (no_parent_ok ? 1 : 0);
        int c = (int)mp_xrand(r, (unsigned)nc), par = MP_NO_PARENT;
        for (int i = 0; i < vis->n && par == MP_NO_PARENT; i++) {
            int t = vis->ids[i];
            bool cand = mp_is_hand(p->nodes[t].op) ? p->nodes[t].parent == owner
                                                    : true;
            if (cand && c-- == 0)
                par = t;
        }
        mp_vis none = {0}, cv = none;
        bool det = true;
        if (par >= 0) {
            p->nodes[par].keep = 1;
            det = g->detached[par];
            if (mp_is_hand(p->nodes[par].op) &&
                p->nodes[par].xparent != MP_NO_PARENT)
                cv = mp_vis_without(vis, par);
        }
        int id = mp_gen_xlaunch(g, owner, depth, par, &cv, det);
        if (id < 0)
            return false;
        mp_vis_add(vis, id);
        return true;
    }
    case X_COMPLETE:
    case X_COMPLETE_EXC: {
        int c = (int)mp_xrand(r, (unsigned)hands), t = -1;
        for (int i = 0; i < vis->n && t < 0; i++)
            if (mp_is_hand(p->nodes[vis->ids[i]].op) && c-- == 0)
                t = vis->ids[i];
        int id = mp_new_node(g, k == X_COMPLETE ? OP_COMPLETE : OP_COMPLETE_EXC,
                             owner);
        if (id < 0)
            return false;
        p->nodes[id].target = (int16_t)t;
        mp_add_kid(p, owner, id);
        return true;
    }
    case X_CCHILD: {
        int t = -1;
        if (vis->n && mp_xchance(r, 60))
            t = vis->ids[mp_xrand(r, (unsigned)vis->n)];
        int id = mp_new_node(g, OP_CANCEL_CHILDREN, owner);
        if (id < 0)
            return false;
        p->nodes[id].target = (int16_t)t;
        if (t >= 0)
            p->nodes[t].keep = 1;
        mp_add_kid(p, owner, id);
        return true;
    }
    case X_TERM:
        return mp_gen_terminator(g, owner, xb) >= 0;
    }
    return false;
}

/* ---- Suspending by hand (issue 9) -----------------------------------------
 * Drawn from the third stream (mp_hrand) in hand programs only. */

static int mp_new_suspend(mp_gen *g, int owner) {
    int id = mp_new_node(g, OP_SUSPEND, owner);
    if (id < 0)
        return -1;
    mp_node *n = &g->p->nodes[id];
    if (mp_hchance(g->r, 60))
        n->hflags |= HF_CB;
    if (mp_hchance(g->r, 12))
        n->hflags |= HF_FAST;
    if (g->nslots < 64)
        g->slots[g->nslots++] = (int16_t)id;
    return id;
}

static int mp_new_resume(mp_gen *g, int owner, int t) {
    int id = mp_new_node(g, OP_RESUME, owner);
    if (id < 0)
        return -1;
    mp_node *n = &g->p->nodes[id];
    n->target = (int16_t)t;
    if (mp_hchance(g->r, g->w_fail ? 25 : 8))
        n->hflags |= HF_ERR;
    else if (mp_hchance(g->r, 70))
        n->hflags |= HF_EX;
    return id;
}

/* Inserts node id in owner's (generated) body at a random place at or
 * after index from, before a trailing FAIL; its index, or -1 if full. */
static int mp_insert_kid(mp_gen *g, int owner, int id, int from) {
    mp_node *o = &g->p->nodes[owner];
    if (o->nkids >= MP_MAX_STMTS)
        return -1;
    int end = o->nkids;
    if (end > 0 && g->p->nodes[o->kids[end - 1]].op == OP_FAIL)
        end--;
    if (from > end)
        from = end;
    int at = from + (int)mp_hrand(g->r, (unsigned)(end - from + 1));
    memmove(&o->kids[at + 1], &o->kids[at],
            (size_t)(o->nkids - at) * sizeof o->kids[0]);
    o->kids[at] = (int16_t)id;
    o->nkids++;
    return at;
}

/* A launch (or async) in owner's body whose body is generated as usual. */
static int mp_gen_hand_launch(mp_gen *g, int owner, int depth, mp_vis *vis) {
    mp_prog *p = g->p;
    int id = mp_new_node(g, mp_hchance(g->r, 25) ? OP_ASYNC : OP_LAUNCH,
                         owner);
    if (id < 0)
        return -1;
    mp_add_kid(p, owner, id);
    p->ncoro++;
    p->nodes[id].lazy = mp_hchance(g->r, 8);
    p->nodes[id].handler = mp_hchance(g->r, 25);
    mp_gen_body(g, id, depth + 1, vis, false);
    mp_vis_add(vis, id);
    return id;
}

enum { H_SUSPEND, H_RESUME, H_PAIR_AFTER, H_PAIR_CHILD, H_TIMEOUT, H_N };

/* Generates one hand-resumption construct in owner's body; false if none
 * fits here. */
static bool mp_gen_hand(mp_gen *g, int owner, int depth, mp_vis *vis,
                        const mp_ext_body *xb, bool can_nest) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_node *o = &p->nodes[owner];
    int room = MP_MAX_STMTS - 2 - o->nkids - xb->npend; /* 2: lazy STARTs */
    bool coro_ok = can_nest && p->ncoro + 1 < g->max_coro;
    /* slots another coroutine suspends in (this one's would be resumed
     * by itself only before it suspends) */
    int me = mp_coro_of(p, owner), cand[64], nc = 0;
    for (int i = 0; i < g->nslots; i++)
        if (mp_coro_of(p, p->nodes[g->slots[i]].parent) != me)
            cand[nc++] = g->slots[i];
    int w[H_N] = {
        [H_SUSPEND] = room >= 1 ? 2 : 0,
        [H_RESUME] = room >= 1 && nc ? 5 : 0,
        [H_PAIR_AFTER] = room >= 2 && coro_ok ? 6 : 0,
        [H_PAIR_CHILD] = room >= 4 && coro_ok ? 5 : 0,
        [H_TIMEOUT] = room >= 1 && g->timed && can_nest ? 3 : 0,
    };
    int total = 0;
    for (int k = 0; k < H_N; k++)
        total += w[k];
    if (total == 0)
        return false;
    int pick = (int)mp_hrand(r, (unsigned)total), k = 0;
    while (pick >= w[k])
        pick -= w[k++];

    switch (k) {
    case H_SUSPEND: {
        int id = mp_new_suspend(g, owner);
        if (id < 0)
            return false;
        mp_add_kid(p, owner, id);
        return true;
    }
    case H_RESUME: {
        int id = mp_new_resume(g, owner, cand[mp_hrand(r, (unsigned)nc)]);
        if (id < 0)
            return false;
        mp_add_kid(p, owner, id);
        return true;
    }
    case H_PAIR_AFTER: {
        /* launch L { ...; resume s; ... }; suspend s */
        int s = mp_new_suspend(g, owner);
        if (s < 0)
            return false;
        int l = mp_gen_hand_launch(g, owner, depth, vis);
        if (l >= 0) {
            int rs = mp_new_resume(g, l, s);
            int at = rs < 0 ? -1 : mp_insert_kid(g, l, rs, 0);
            if (at >= 0 && mp_hchance(r, 25)) {
                int r2 = mp_new_resume(g, l, s); /* KIN_EALREADY */
                if (r2 >= 0)
                    mp_insert_kid(g, l, r2, at + 1);
            }
        }
        if (o->nkids < MP_MAX_STMTS)
            mp_add_kid(p, owner, s);
        return true;
    }
    case H_PAIR_CHILD: {
        /* launch M { ...; suspend s; ... }; yield; [cancel M]; resume s
         * [; resume s] */
        int m = mp_gen_hand_launch(g, owner, depth, vis);
        if (m < 0)
            return false;
        p->nodes[m].keep = 1;
        int s = mp_new_suspend(g, m);
        if (s >= 0 && mp_insert_kid(g, m, s, 0) < 0)
            s = -1;
        int room2 = MP_MAX_STMTS - 2 - o->nkids - xb->npend;
        if (room2 >= 3 && mp_hchance(r, 75)) {
            int y = mp_new_node(g, OP_YIELD, owner);
            if (y >= 0)
                mp_add_kid(p, owner, y);
        }
        if (room2 >= 3 && mp_hchance(r, 25)) {
            int c = mp_new_node(g, OP_CANCEL, owner);
            if (c >= 0) {
                p->nodes[c].target = (int16_t)m;
                mp_add_kid(p, owner, c);
            }
        }
        if (s >= 0 && o->nkids + 2 + xb->npend < MP_MAX_STMTS) {
            int rs = mp_new_resume(g, owner, s);
            if (rs >= 0)
                mp_add_kid(p, owner, rs);
            if (rs >= 0 && o->nkids + 2 + xb->npend < MP_MAX_STMTS &&
                mp_hchance(r, 25)) {
                int r2 = mp_new_resume(g, owner, s);
                if (r2 >= 0)
                    mp_add_kid(p, owner, r2);
            }
        }
        return true;
    }
    case H_TIMEOUT: {
        /* with_timeout[_or_null](ticks) { suspend s } */
        int t = mp_new_node(g, mp_hchance(r, 50) ? OP_TIMEOUT : OP_TIMEOUT_NULL,
                            owner);
        if (t < 0)
            return false;
        p->nodes[t].ticks = (int16_t)(1 + (int)mp_hrand(r, 8));
        p->nodes[t].policy = POL_PROPAGATE;
        mp_add_kid(p, owner, t);
        int s = mp_new_suspend(g, t);
        if (s >= 0)
            mp_add_kid(p, t, s);
        return true;
    }
    }
    return false;
}

/* ---- Channels and the mutex (issue 11) -------------------------------------
 * Drawn from the fourth stream (mp_crand) in chan programs only. */

static int mp_new_chop(mp_gen *g, int op, int owner) {
    int id = mp_new_node(g, op, owner);
    if (id < 0)
        return -1;
    mp_node *n = &g->p->nodes[id];
    n->ch = (int8_t)mp_crand(g->r, (unsigned)g->p->nch);
    if (op == OP_SELECT) {
        n->ch2 = (int8_t)((n->ch + 1 + (int)mp_crand(g->r,
                                                     (unsigned)g->p->nch - 1)) %
                          g->p->nch);
    }
    return id;
}

/* Inserts node id in owner's body at a random place at or after index
 * from, before a trailing FAIL (the fourth stream's mp_insert_kid). */
static int mp_cinsert_kid(mp_gen *g, int owner, int id) {
    mp_node *o = &g->p->nodes[owner];
    if (o->nkids >= MP_MAX_STMTS)
        return -1;
    int end = o->nkids;
    if (end > 0 && g->p->nodes[o->kids[end - 1]].op == OP_FAIL)
        end--;
    int at = (int)mp_crand(g->r, (unsigned)(end + 1));
    memmove(&o->kids[at + 1], &o->kids[at],
            (size_t)(o->nkids - at) * sizeof o->kids[0]);
    o->kids[at] = (int16_t)id;
    o->nkids++;
    return at;
}

static void mp_gen_guarded(mp_gen *g, int id, bool more);

/* "chx" programs: with_lock node id may lock with an owner token (its
 * coroutine's), and gets 0-2 more leaves: holds_lock of its own token or
 * of another coroutine's, an unlock with a token nobody locks with
 * (KIN_EPERM, nothing changes), a lock or try_lock with its own token
 * again (KIN_EDEADLK). The sixth stream. */
static void mp_gen_owner(mp_gen *g, int id) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_node *w = &p->nodes[id];
    if (mp_zchance(r, 50))
        w->hflags |= LF_OWNER;
    int nl = (int)mp_zrand(r, 3);
    for (int i = 0; i < nl && p->nodes[id].nkids < MP_MAX_STMTS; i++) {
        int c = (int)mp_zrand(r, 3);
        int op = c == 0 ? OP_MX_HOLDS
                 : c == 1 || !(p->nodes[id].hflags & LF_OWNER) ? OP_MX_UNLOCK
                                                               : OP_MX_RELOCK;
        int l = mp_new_node(g, op, id);
        if (l < 0)
            return;
        mp_node *n = &p->nodes[l];
        if (op == OP_MX_HOLDS && mp_zchance(r, 50)) {
            int t = (int)mp_zrand(r, (unsigned)l); /* a coroutine before */
            while (!mp_is_coro(p->nodes[t].op))
                t--;
            n->target = (int16_t)t;
        }
        if (op == OP_MX_RELOCK && mp_zchance(r, 40))
            n->hflags |= HF_TRY;
        mp_node *o = &p->nodes[id];
        int at = (int)mp_zrand(r, (unsigned)o->nkids + 1);
        memmove(&o->kids[at + 1], &o->kids[at],
                (size_t)(o->nkids - at) * sizeof o->kids[0]);
        o->kids[at] = (int16_t)l;
        o->nkids++;
    }
}

/* "chx" programs: select node id in owner's body may receive catching from
 * its first channel, and gets a JOIN or AWAIT clause of a handle it sees
 * (as a JOIN or an AWAIT statement would pick it), first or after the
 * channel clauses (the sixth stream). */
static void mp_gen_chx_select(mp_gen *g, int id, int owner, const mp_vis *vis) {
    if (!g->chx)
        return;
    mp_node *n = &g->p->nodes[id];
    if (mp_zchance(g->r, 40))
        n->hflags |= SF_CATCH;
    if (!mp_zchance(g->r, 50))
        return;
    bool aw = mp_zchance(g->r, 60);
    int t = mp_pick_target_r(g, vis, aw ? OP_AWAIT : OP_JOIN, owner, mp_zrand);
    if (t < 0 && aw) {
        aw = false;
        t = mp_pick_target_r(g, vis, OP_JOIN, owner, mp_zrand);
    }
    if (t < 0)
        return;
    n->hflags |= SF_JOB | (aw ? SF_AWAIT : 0) |
                 (mp_zchance(g->r, 35) ? SF_JOBFIRST : 0);
    n->target = (int16_t)t;
    g->p->nodes[t].keep = 1;
}

enum { C_SEND, C_RECV, C_TRY_SEND, C_TRY_RECV, C_CLOSE, C_CANCEL, C_SELECT,
       C_LOCK, C_PAIR, C_N };

/* Generates one channel or mutex construct in owner's body; false if none
 * fits here. */
static bool mp_gen_chan(mp_gen *g, int owner, int depth, mp_vis *vis,
                        const mp_ext_body *xb, bool can_nest) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_node *o = &p->nodes[owner];
    int room = MP_MAX_STMTS - 2 - o->nkids - xb->npend; /* 2: lazy STARTs */
    bool coro_ok = can_nest && p->ncoro + 1 < g->max_coro;
    int w[C_N] = {
        [C_SEND] = room >= 1 ? 5 : 0,
        [C_RECV] = room >= 1 ? 5 : 0,
        [C_TRY_SEND] = room >= 1 ? 2 : 0,
        [C_TRY_RECV] = room >= 1 ? 2 : 0,
        [C_CLOSE] = room >= 1 ? 1 : 0,
        [C_CANCEL] = room >= 1 ? 1 : 0,
        [C_SELECT] = room >= 1 && p->nch >= 2 ? 3 : 0,
        [C_LOCK] = room >= 1 && o->op != OP_WITH_LOCK ? 4 : 0,
        [C_PAIR] = room >= 2 && coro_ok ? 6 : 0,
    };
    int total = 0;
    for (int k = 0; k < C_N; k++)
        total += w[k];
    if (total == 0)
        return false;
    int pick = (int)mp_crand(r, (unsigned)total), k = 0;
    while (pick >= w[k])
        pick -= w[k++];
    static const int ops[C_N] = {OP_SEND,     OP_RECEIVE, OP_TRY_SEND,
                                 OP_TRY_RECEIVE, OP_CLOSE, OP_CANCEL_CH,
                                 OP_SELECT,   OP_WITH_LOCK, OP_SEND};
    if (k == C_PAIR) {
        /* launch L { ...; receive(ch) ...}; send(ch) (or the other way) */
        bool recv_in_child = mp_cchance(r, 60);
        int id = mp_new_node(g, mp_cchance(r, 25) ? OP_ASYNC : OP_LAUNCH,
                             owner);
        if (id < 0)
            return false;
        mp_add_kid(p, owner, id);
        p->ncoro++;
        p->nodes[id].lazy = mp_cchance(r, 8);
        p->nodes[id].handler = mp_cchance(r, 25);
        mp_gen_body(g, id, depth + 1, vis, false);
        mp_vis_add(vis, id);
        int a = mp_new_chop(g, recv_in_child ? OP_RECEIVE : OP_SEND, id);
        if (a < 0 || mp_cinsert_kid(g, id, a) < 0)
            return true;
        if (p->nodes[owner].nkids + 2 + xb->npend >= MP_MAX_STMTS)
            return true;
        int b = mp_new_node(g, recv_in_child ? OP_SEND : OP_RECEIVE, owner);
        if (b < 0)
            return true;
        p->nodes[b].ch = p->nodes[a].ch;
        mp_add_kid(p, owner, b);
        return true;
    }
    int id = mp_new_chop(g, ops[k], owner);
    if (id < 0)
        return false;
    mp_add_kid(p, owner, id);
    if (k == C_LOCK) /* with_lock { 1-3 leaves }: never re-entered */
        mp_gen_guarded(g, id, false);
    if (k == C_SELECT)
        mp_gen_chx_select(g, id, owner, vis);
    return true;
}

/* ---- The "more" operations ------------------------------------------------
 * Drawn from the fifth stream (mp_mrand) in "more" programs only (a part
 * of the chan programs): the semaphore (with_permit, whose body may take
 * the mutex), and selects with a SEND clause, a TIMEOUT clause, or
 * unbiased. The channels' drop policies are drawn in mp_generate. */

/* The body of a with_lock (mutex) or with_permit: 1-3 leaves; a permit's
 * may hold a with_lock (never the other way round, so no lock-order
 * cycle). */
static void mp_gen_guarded(mp_gen *g, int id, bool more) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    static const int leaves[] = {OP_DELAY, OP_YIELD, OP_SEND, OP_RECEIVE,
                                 OP_TRY_SEND, OP_TRY_RECEIVE, OP_WITH_LOCK,
                                 OP_SEM_RELEASE};
    int nl = 1 + (int)(more ? mp_mrand(r, 3) : mp_crand(r, 3));
    for (int i = 0; i < nl; i++) {
        int op = leaves[more ? mp_mrand(r, 8) : mp_crand(r, 6)];
        int l = op == OP_DELAY || op == OP_YIELD || op == OP_WITH_LOCK ||
                        op == OP_SEM_RELEASE
                    ? mp_new_node(g, op, id)
                    : mp_new_chop(g, op, id);
        if (l < 0)
            break;
        if (op == OP_DELAY)
            p->nodes[l].ticks =
                (int16_t)(g->timed && (more ? mp_mchance(r, 60)
                                            : mp_cchance(r, 60))
                              ? 1 + (int)(more ? mp_mrand(r, 4)
                                               : mp_crand(r, 4))
                              : 0);
        mp_add_kid(p, id, l);
        if (op == OP_WITH_LOCK)
            mp_gen_guarded(g, l, false);
    }
    p->nodes[id].policy = POL_PROPAGATE;
    if (g->chx && p->nodes[id].op == OP_WITH_LOCK)
        mp_gen_owner(g, id);
}

/* Inserts node id in owner's body at a random place before a trailing
 * FAIL (the fifth stream's); its index, or -1 if full. */
static int mp_minsert_kid(mp_gen *g, int owner, int id) {
    mp_node *o = &g->p->nodes[owner];
    if (o->nkids >= MP_MAX_STMTS)
        return -1;
    int end = o->nkids;
    if (end > 0 && g->p->nodes[o->kids[end - 1]].op == OP_FAIL)
        end--;
    int at = (int)mp_mrand(g->r, (unsigned)(end + 1));
    memmove(&o->kids[at + 1], &o->kids[at],
            (size_t)(o->nkids - at) * sizeof o->kids[0]);
    o->kids[at] = (int16_t)id;
    o->nkids++;
    return at;
}

static int mp_new_fdop(mp_gen *g, int op, int owner, int pipe) {
    int id = mp_new_node(g, op, owner);
    if (id < 0)
        return -1;
    mp_node *n = &g->p->nodes[id];
    n->ch = (int8_t)(pipe >= 0 ? pipe : (int)mp_mrand(g->r,
                                                       (unsigned)g->p->npipe));
    if (op == OP_FD_READ && mp_mchance(g->r, 30))
        n->hflags |= FF_WAIT;
    if (op == OP_FD_CLOSE && mp_mchance(g->r, 60))
        n->hflags |= FF_WREND;
    return id;
}

enum { M_PERMIT, M_SELECT, M_FD_READ, M_FD_WRITE, M_FD_CLOSE, M_FD_PAIR,
       M_FD_RACE, M_FD_TMO, M_RELEASE, M_CATCH, M_N };

/* Cancellation racing readiness: R { read(p) }; K { read(q); cancel R;
 * read(p) }; yield; write(q); write(p). Both pipes become ready before the
 * loop polls, so one poll wakes K, then R; K cancels R, which was handed
 * its readiness but has not run: its read returns the cancellation and
 * consumes nothing (prompt cancellation), so K's second read gets the
 * message. */
static bool mp_gen_fd_race(mp_gen *g, int owner) {
    mp_prog *p = g->p;
    int pp = (int)mp_mrand(g->r, 2), q = 1 - pp;
    int r = mp_new_node(g, OP_LAUNCH, owner);
    if (r < 0)
        return false;
    mp_add_kid(p, owner, r);
    p->ncoro++;
    p->nodes[r].keep = 1;
    int k = mp_new_node(g, OP_LAUNCH, owner);
    if (k < 0)
        return true;
    mp_add_kid(p, owner, k);
    p->ncoro++;
    p->nodes[k].policy = POL_IGNORE;
    int a = mp_new_fdop(g, OP_FD_READ, r, pp);
    if (a >= 0)
        mp_add_kid(p, r, a);
    int b = mp_new_fdop(g, OP_FD_READ, k, q);
    if (b >= 0)
        mp_add_kid(p, k, b);
    int c = mp_new_node(g, OP_CANCEL, k);
    if (c >= 0) {
        p->nodes[c].target = (int16_t)r;
        mp_add_kid(p, k, c);
    }
    int d = mp_new_fdop(g, OP_FD_READ, k, pp);
    if (d >= 0)
        mp_add_kid(p, k, d);
    int y = mp_new_node(g, OP_YIELD, owner);
    if (y >= 0)
        mp_add_kid(p, owner, y);
    int w1 = mp_new_fdop(g, OP_FD_WRITE, owner, q);
    if (w1 >= 0)
        mp_add_kid(p, owner, w1);
    int w2 = mp_new_fdop(g, OP_FD_WRITE, owner, pp);
    if (w2 >= 0)
        mp_add_kid(p, owner, w2);
    return true;
}

/* Generates one "more" construct in owner's body; false if none fits. */
static bool mp_gen_more(mp_gen *g, int owner, int depth, mp_vis *vis,
                        const mp_ext_body *xb, bool can_nest) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_node *o = &p->nodes[owner];
    int room = MP_MAX_STMTS - 2 - o->nkids - xb->npend;
    if (room < 1)
        return false;
    bool fd = p->npipe > 0;
    int w[M_N] = {
        [M_PERMIT] = o->op != OP_WITH_LOCK && o->op != OP_WITH_PERMIT ? 5 : 0,
        [M_SELECT] = p->nch >= 2 ? 5 : 0,
        [M_FD_READ] = fd ? 3 : 0,
        [M_FD_WRITE] = fd ? 3 : 0,
        [M_FD_CLOSE] = fd ? 1 : 0,
        [M_FD_PAIR] = fd && room >= 2 && can_nest &&
                              p->ncoro + 1 < g->max_coro
                          ? 6
                          : 0,
        [M_FD_TMO] = fd && g->timed && can_nest ? 3 : 0,
        [M_RELEASE] = 1,
        [M_CATCH] = 3,
        [M_FD_RACE] = p->npipe == 2 && room >= 7 && can_nest &&
                              p->ncoro + 2 < g->max_coro
                          ? 8
                          : 0,
    };
    int total = 0;
    for (int k = 0; k < M_N; k++)
        total += w[k];
    if (total == 0)
        return false;
    int pick = (int)mp_mrand(r, (unsigned)total), k = 0;
    while (pick >= w[k])
        pick -= w[k++];
    if (k == M_FD_READ || k == M_FD_WRITE || k == M_FD_CLOSE) {
        int id = mp_new_fdop(g,
                             k == M_FD_READ    ? OP_FD_READ
                             : k == M_FD_WRITE ? OP_FD_WRITE
                                               : OP_FD_CLOSE,
                             owner, -1);
        if (id < 0)
            return false;
        mp_add_kid(p, owner, id);
        return true;
    }
    if (k == M_FD_RACE)
        return mp_gen_fd_race(g, owner);
    if (k == M_CATCH) { /* receive_catching: KIN_CLOSED, not KIN_ECLOSED */
        int id = mp_new_node(g, OP_RECEIVE, owner);
        if (id < 0)
            return false;
        p->nodes[id].ch = (int8_t)mp_mrand(r, (unsigned)p->nch);
        p->nodes[id].hflags |= RF_CATCH;
        mp_add_kid(p, owner, id);
        return true;
    }
    if (k == M_RELEASE) {
        int id = mp_new_node(g, OP_SEM_RELEASE, owner);
        if (id < 0)
            return false;
        mp_add_kid(p, owner, id);
        return true;
    }
    if (k == M_FD_TMO) {
        /* with_timeout[_or_null](ticks) { read(pipe) } */
        int t = mp_new_node(g, mp_mchance(r, 50) ? OP_TIMEOUT
                                                 : OP_TIMEOUT_NULL,
                            owner);
        if (t < 0)
            return false;
        p->nodes[t].ticks = (int16_t)(1 + (int)mp_mrand(r, 8));
        p->nodes[t].policy = POL_PROPAGATE;
        mp_add_kid(p, owner, t);
        int a = mp_new_fdop(g, OP_FD_READ, t, -1);
        if (a >= 0)
            mp_add_kid(p, t, a);
        return true;
    }
    if (k == M_FD_PAIR) {
        /* launch L { ...; read(pipe) ... }; write(pipe) (or the other
         * way round) */
        bool read_in_child = mp_mchance(r, 65);
        int id = mp_new_node(g, mp_mchance(r, 25) ? OP_ASYNC : OP_LAUNCH,
                             owner);
        if (id < 0)
            return false;
        mp_add_kid(p, owner, id);
        p->ncoro++;
        p->nodes[id].lazy = mp_mchance(r, 8);
        p->nodes[id].handler = mp_mchance(r, 25);
        mp_gen_body(g, id, depth + 1, vis, false);
        mp_vis_add(vis, id);
        int a = mp_new_fdop(g, read_in_child ? OP_FD_READ : OP_FD_WRITE, id,
                            -1);
        if (a < 0 || mp_minsert_kid(g, id, a) < 0)
            return true;
        if (p->nodes[owner].nkids + 2 + xb->npend >= MP_MAX_STMTS)
            return true;
        int b = mp_new_fdop(g, read_in_child ? OP_FD_WRITE : OP_FD_READ,
                            owner, p->nodes[a].ch);
        if (b >= 0)
            mp_add_kid(p, owner, b);
        return true;
    }
    if (k == M_PERMIT) {
        int id = mp_new_node(g, OP_WITH_PERMIT, owner);
        if (id < 0)
            return false;
        mp_add_kid(p, owner, id);
        mp_gen_guarded(g, id, true);
        return true;
    }
    /* a select: receive from ch, then receive from or send to ch2, maybe
     * a timeout; biased or not */
    int id = mp_new_node(g, OP_SELECT, owner);
    if (id < 0)
        return false;
    mp_node *n = &p->nodes[id];
    n->ch = (int8_t)mp_mrand(r, (unsigned)p->nch);
    n->ch2 = (int8_t)((n->ch + 1 + (int)mp_mrand(r, (unsigned)p->nch - 1)) %
                      p->nch);
    if (mp_mchance(r, 60))
        n->hflags |= SF_SEND;
    if (mp_mchance(r, 40)) {
        n->hflags |= SF_TMO;
        n->ticks = (int16_t)(g->timed && mp_mchance(r, 70)
                                 ? 1 + (int)mp_mrand(r, 8)
                                 : 0);
    }
    if (mp_mchance(r, 30))
        n->hflags |= SF_UNBIASED;
    mp_add_kid(p, owner, id);
    mp_gen_chx_select(g, id, owner, vis);
    return true;
}

/* ---- produce ("chx" programs, the sixth stream) -----------------------------
 * produce(ch) { ...; send(ch) x1-3 ... }; receive(ch) x1-3 (catching,
 * try_receive); maybe cancel(ch). Nothing else uses the channel.
 * With MP_PRODUCE_ALL (the default) its handle may be kept, so later
 * statements wait for the producer (kotlinx closes the channel before the
 * producer's waiters wake), and it may be made in a supervisor_scope's
 * body (a failure the close carried into the channel goes to no handler:
 * model.h m_finalize). kin did both differently until kin__producer_done
 * (tests/sync/test_produce_close); 0 leaves those programs out. */
#ifndef MP_PRODUCE_ALL
#define MP_PRODUCE_ALL 1
#endif
static bool mp_gen_produce(mp_gen *g, int owner, int depth, mp_vis *vis,
                           const mp_ext_body *xb, bool can_nest) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_node *o = &p->nodes[owner];
    int room = MP_MAX_STMTS - 2 - o->nkids - xb->npend;
    if (room < 3 || !can_nest || p->ncoro + 1 >= g->max_coro ||
        p->npch >= MP_MAX_PROD || (o->op == OP_SUPERVISOR && !MP_PRODUCE_ALL))
        return false;
    int id = mp_new_node(g, OP_PRODUCE, owner);
    if (id < 0)
        return false;
    mp_add_kid(p, owner, id);
    p->ncoro++;
    int ch = MP_MAX_CHANS + p->npch++;
    static const int caps[] = {0, 1, 2, MP_BUFFERED, MP_UNLIMITED,
                               MP_CONFLATED};
    p->nodes[id].ch = (int8_t)ch;
    p->nodes[id].ticks = (int16_t)caps[mp_zrand(r, 6)];
    p->nodes[id].handler = mp_zchance(r, 25);
    mp_gen_body(g, id, depth + 1, vis, false);
    if (MP_PRODUCE_ALL) { /* later statements may join or select on it */
        mp_vis_add(vis, id);
        /* launch { join(producer) }: a waiter of its completion while
         * the receives below wait for its close */
        int l = p->ncoro + 1 < g->max_coro && mp_zchance(r, 50)
                    ? mp_new_node(g, OP_LAUNCH, owner)
                    : -1;
        int jn = l >= 0 ? mp_new_node(g, OP_JOIN, l) : -1;
        if (jn >= 0) {
            mp_add_kid(p, owner, l);
            p->ncoro++;
            p->nodes[jn].target = (int16_t)id;
            p->nodes[id].keep = 1;
            mp_add_kid(p, l, jn);
        }
    }
    int ns = 1 + (int)mp_zrand(r, 3);
    for (int i = 0; i < ns; i++) {
        mp_node *pn = &p->nodes[id];
        if (pn->nkids >= MP_MAX_STMTS)
            break;
        int sn = mp_new_node(g, OP_SEND, id);
        if (sn < 0)
            break;
        p->nodes[sn].ch = (int8_t)ch;
        int end = pn->nkids;
        if (end > 0 && p->nodes[pn->kids[end - 1]].op == OP_FAIL)
            end--;
        int at = (int)mp_zrand(r, (unsigned)(end + 1));
        memmove(&pn->kids[at + 1], &pn->kids[at],
                (size_t)(pn->nkids - at) * sizeof pn->kids[0]);
        pn->kids[at] = (int16_t)sn;
        pn->nkids++;
    }
    int nr = 1 + (int)mp_zrand(r, 3);
    for (int i = 0; i < nr && o->nkids + xb->npend + 2 < MP_MAX_STMTS; i++) {
        int op = mp_zchance(r, 20) ? OP_TRY_RECEIVE : OP_RECEIVE;
        int rn = mp_new_node(g, op, owner);
        if (rn < 0)
            break;
        p->nodes[rn].ch = (int8_t)ch;
        if (op == OP_RECEIVE && mp_zchance(r, 50))
            p->nodes[rn].hflags |= RF_CATCH;
        mp_add_kid(p, owner, rn);
    }
    if (o->nkids + xb->npend + 2 < MP_MAX_STMTS && mp_zchance(r, 20)) {
        int cn = mp_new_node(g, OP_CANCEL_CH, owner);
        if (cn >= 0) {
            p->nodes[cn].ch = (int8_t)ch;
            mp_add_kid(p, owner, cn);
        }
    }
    return true;
}

enum { MP_PRODUCE_STMT_PCT = 5 };

enum { W_LAUNCH, W_ASYNC, W_SCOPE, W_SUP, W_TMO, W_TMON, W_NC, W_DELAY,
       W_YIELD, W_ENSURE, W_AWAIT, W_JOIN, W_CANCEL, W_CSELF, W_START, W_FAIL,
       W_N };

static const int mp_weights[W_N] = {
    [W_LAUNCH] = 16, [W_ASYNC] = 11, [W_SCOPE] = 5,  [W_SUP] = 5,
    [W_TMO] = 4,     [W_TMON] = 3,   [W_NC] = 2,     [W_DELAY] = 14,
    [W_YIELD] = 10,  [W_ENSURE] = 2, [W_AWAIT] = 9,  [W_JOIN] = 5,
    [W_CANCEL] = 5,  [W_CSELF] = 2,  [W_START] = 2,  [W_FAIL] = 6,
};

static const int mp_w_op[W_N] = {
    OP_LAUNCH, OP_ASYNC, OP_SCOPE, OP_SUPERVISOR, OP_TIMEOUT, OP_TIMEOUT_NULL,
    OP_NONCANCEL, OP_DELAY, OP_YIELD, OP_ENSURE_ACTIVE, OP_AWAIT, OP_JOIN,
    OP_CANCEL, OP_CANCEL_SELF, OP_START, OP_FAIL};

static void mp_gen_body(mp_gen *g, int owner, int depth, const mp_vis *inherited,
                        bool cleanup) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_vis vis = *inherited;
    int max = depth <= 1 ? g->max_stmts : g->max_stmts - depth / 2;
    if (cleanup)
        max = 3;
    if (max < 2)
        max = 2;
    if (max > MP_OLD_STMTS - 2)
        max = MP_OLD_STMTS - 2; /* room for the STARTs of lazy children */
    int want = 1 + (int)mp_rand(r, (unsigned)max);
    if (depth == 1)
        want = 3 + (int)mp_rand(r, (unsigned)max); /* the root does more */
    if (want > MP_OLD_STMTS - 2)
        want = MP_OLD_STMTS - 2;
    mp_ext_body xb = {0};
    bool can_nest = depth < MP_MAX_DEPTH && p->n < MP_MAX_NODES - 40;
    bool under_sup = mp_under_sup(p, owner);

    for (int i = 0; i < want; i++) {
        /* what suspending by hand adds can fill a body: keep the room for
         * terminators and lazy STARTs (only there, so that the programs
         * of the others stay as they were) */
        if ((g->hand || g->chan) &&
            p->nodes[owner].nkids + xb.npend + 2 >= MP_MAX_STMTS)
            break;
        if (g->chx && !cleanup && mp_zchance(r, MP_PRODUCE_STMT_PCT) &&
            mp_gen_produce(g, owner, depth, &vis, &xb, can_nest))
            continue;
        if (g->more && !cleanup && mp_mchance(r, MP_MORE_STMT_PCT) &&
            mp_gen_more(g, owner, depth, &vis, &xb, can_nest))
            continue;
        if (g->chan && !cleanup && mp_cchance(r, MP_CHAN_STMT_PCT) &&
            mp_gen_chan(g, owner, depth, &vis, &xb, can_nest))
            continue;
        if (g->hand && !cleanup && mp_hchance(r, MP_HAND_STMT_PCT) &&
            mp_gen_hand(g, owner, depth, &vis, &xb, can_nest))
            continue;
        if (g->ext && !cleanup && mp_xchance(r, MP_EXT_STMT_PCT) &&
            mp_gen_ext(g, owner, depth, &vis, &xb, can_nest))
            continue;
        int w[W_N];
        int total = 0;
        for (int k = 0; k < W_N; k++) {
            int x = mp_weights[k];
            int op = mp_w_op[k];
            bool body = mp_owns_body(op);
            if (body && !can_nest)
                x = 0;
            if ((op == OP_LAUNCH || op == OP_ASYNC) && p->ncoro >= g->max_coro)
                x = 0;
            if (cleanup && !(op == OP_DELAY || op == OP_YIELD ||
                             op == OP_LAUNCH || op == OP_FAIL))
                x = 0;
            if (cleanup && op == OP_LAUNCH && depth > 2)
                x = 0;
            if ((op == OP_AWAIT || op == OP_JOIN || op == OP_CANCEL ||
                 op == OP_START) &&
                mp_pick_target(g, &vis, op == OP_AWAIT ? OP_AWAIT : OP_JOIN,
                               owner) <
                    0)
                x = 0;
            if (op == OP_AWAIT) {
                bool any = false;
                for (int v = 0; v < vis.n; v++)
                    any |= p->nodes[vis.ids[v]].op == OP_ASYNC ||
                           p->nodes[vis.ids[v]].op == OP_DEFERRED_NEW;
                if (!any)
                    x = 0;
            }
            /* shape: launch more near the top, fail more deeper down,
             * await whenever there is something to await */
            if ((op == OP_LAUNCH || op == OP_ASYNC) && depth <= 2)
                x *= 2;
            if (op == OP_FAIL && depth == 1)
                x /= 3;
            if (op == OP_AWAIT)
                x *= 2;
            if (op == OP_FAIL && cleanup)
                x = 4 + g->w_fail; /* a failing cleanup: suppressed failures */
            else if (op == OP_FAIL)
                x = i == 0 ? 0 : x * g->w_fail / 4; /* after some work */
            if (op == OP_FAIL && under_sup)
                x *= 3; /* a failing child of a supervisor: its handler */
            if (op == OP_SUPERVISOR)
                x = x * g->w_sup / 2;
            if (op == OP_CANCEL || op == OP_CANCEL_SELF)
                x = x * g->w_cancel / 2;
            w[k] = x;
            total += x;
        }
        if (total == 0)
            break;
        int pick = (int)mp_rand(r, (unsigned)total), k = 0;
        while (pick >= w[k])
            pick -= w[k++];
        int op = mp_w_op[k];
        int id = mp_new_node(g, op, owner);
        if (id < 0)
            break;
        mp_node *n = &p->nodes[id];
        mp_add_kid(p, owner, id);
        switch (op) {
        case OP_LAUNCH:
        case OP_ASYNC:
            p->ncoro++;
            n->lazy = mp_chance(r, cleanup ? 0 : 12);
            n->handler = mp_chance(r, 25);
            if (cleanup) {
                /* a child of the cleanup: finite waits only */
                mp_vis none = {0};
                mp_gen_body(g, id, depth + 1, &none, true);
            } else {
                mp_gen_body(g, id, depth + 1, &vis, false);
            }
            if (vis.n < 64)
                vis.ids[vis.n++] = (int16_t)id;
            break;
        case OP_SCOPE:
        case OP_SUPERVISOR:
        case OP_NONCANCEL: {
            mp_vis sv = mp_vis_scope(g, &vis, owner);
            mp_gen_body(g, id, depth + 1, &sv, false);
            break;
        }
        case OP_TIMEOUT:
        case OP_TIMEOUT_NULL: {
            n->ticks = (int16_t)mp_pick_ticks_timeout(g);
            mp_vis sv = mp_vis_scope(g, &vis, owner);
            mp_gen_body(g, id, depth + 1, &sv, false);
            break;
        }
        case OP_DELAY:
            n->ticks = (int16_t)(cleanup ? (g->timed && mp_chance(r, 60)
                                                ? 1 + (int)mp_rand(r, 4)
                                                : 0)
                                         : mp_pick_ticks_delay(g));
            break;
        case OP_AWAIT:
        case OP_JOIN:
        case OP_CANCEL:
        case OP_START:
            n->target = (int16_t)mp_pick_target(g, &vis, op, owner);
            p->nodes[n->target].keep = 1;
            break;
        default:
            break;
        }
        if (op == OP_FAIL)
            break;
    }

    /* Every job node this body made gets its terminator (before a trailing
     * FAIL): a job node nobody completes would keep its parent from
     * completing (mp_gen_ext reserved the room). */
    mp_node *o = &p->nodes[owner];
    bool ends_with_fail =
        o->nkids > 0 && p->nodes[o->kids[o->nkids - 1]].op == OP_FAIL;
    while (xb.npend > 0) {
        int id = mp_gen_terminator(g, owner, &xb);
        if (id < 0)
            break;
        if (ends_with_fail) { /* it went last: swap it with the FAIL */
            o->kids[o->nkids - 1] = o->kids[o->nkids - 2];
            o->kids[o->nkids - 2] = (int16_t)id;
        }
    }

    /* Every lazy child of this body gets started by it (unless something in
     * the body already waits for it or cancels it): a lazy child that nobody
     * starts would keep its parent from completing, as in Kotlin. */
    int cap = g->ext || g->hand || g->chan ? MP_MAX_STMTS : MP_OLD_STMTS;
    for (int i = 0; i < o->nkids; i++) {
        int c = o->kids[i];
        if (!p->nodes[c].lazy)
            continue;
        bool started = false;
        for (int k = i + 1; k < o->nkids; k++) {
            const mp_node *s = &p->nodes[o->kids[k]];
            if (s->target == c && s->op != OP_START &&
                s->op != OP_CANCEL_CHILDREN)
                started = true;
        }
        if (started || o->nkids >= cap)
            continue;
        int id = mp_new_node(g, OP_START, owner);
        if (id < 0)
            break;
        p->nodes[id].target = (int16_t)c;
        p->nodes[c].keep = 1;
        if (ends_with_fail) {
            o->kids[o->nkids] = o->kids[o->nkids - 1];
            o->kids[o->nkids - 1] = (int16_t)id;
            o->nkids++;
        } else {
            mp_add_kid(p, owner, id);
        }
    }

    unsigned pol = mp_rand(r, 100);
    o->policy = pol < 55 ? POL_PROPAGATE : pol < 72 ? POL_IGNORE : POL_CLEANUP;
    if (cleanup || o->op == OP_ROOT)
        o->policy = POL_PROPAGATE;
    if (xb.made_root)
        o->policy = POL_IGNORE; /* every statement runs: the terminator too */
    if (o->policy == POL_CLEANUP) {
        int c = mp_gen_cleanup(g, owner, depth);
        if (c < 0)
            o->policy = POL_PROPAGATE;
        else
            o->cleanup = (int16_t)c;
    }
}

/* Builds a program from r. timed: may use finite non-zero ticks. */
MP_FN void mp_generate(mp_prog *p, mp_rng *r, bool timed) {
    memset(p, 0, offsetof(mp_prog, nodes));
    mp_gen g = {.p = p, .r = r, .timed = timed};
    unsigned size = mp_rand(r, 100);
    if (size < 25) {
        g.max_coro = 8;
        g.max_stmts = 4;
    } else if (size < 60) {
        g.max_coro = 20;
        g.max_stmts = 5;
    } else if (size < 90) {
        g.max_coro = 60;
        g.max_stmts = 6;
    } else {
        g.max_coro = MP_MAX_COROS;
        g.max_stmts = 8;
    }
    static const int fails[] = {0, 1, 1, 2, 4, 6};
    g.w_fail = fails[mp_rand(r, 6)];
    g.w_sup = 1 + (int)mp_rand(r, 6);
    g.w_cancel = (int)mp_rand(r, 4);
    /* from the second stream: the first one draws as it always did */
    g.ext = r->ext_ok && (r->bytes || mp_xchance(r, MP_EXT_PROG_PCT));
    p->ext = g.ext;
    /* from the third stream: the first two draw as they did before */
    g.hand = r->hand_ok && (r->bytes || mp_hchance(r, MP_HAND_PROG_PCT));
    p->hand = g.hand;
    /* from the fourth stream: the first three draw as they did before */
    g.chan = r->chan_ok && (r->bytes || mp_cchance(r, MP_CHAN_PROG_PCT));
    p->chan = g.chan;
    if (g.chan) {
        p->nch = 1 + (int)mp_crand(r, MP_MAX_CHANS);
        for (int i = 0; i < p->nch; i++) {
            unsigned c = mp_crand(r, 5); /* rendezvous, 1-3, conflated */
            p->chcap[i] = (int8_t)(c == 4 ? MP_CONFLATED : (int)c);
        }
    }
    /* from the fifth stream: the first four draw as they did before */
    g.more = g.chan && r->more_ok &&
             (r->bytes || mp_mchance(r, MP_MORE_PROG_PCT));
    p->more = g.more;
    if (g.more) {
        for (int i = 0; i < p->nch; i++) {
            unsigned c = mp_mrand(r, 10); /* 50% suspend, 25% each drop */
            if (p->chcap[i] != MP_CONFLATED)
                p->chpol[i] = (int8_t)(c < 5 ? MP_SUSPEND
                                       : c < 8 ? MP_DROP_OLDEST
                                               : MP_DROP_LATEST);
        }
        p->permits = 1 + (int)mp_mrand(r, 3);
        p->npipe = mp_mchance(r, 50) ? 1 + (int)mp_mrand(r, MP_MAX_PIPES) : 0;
    }
    /* from the sixth stream: the first five draw as they did before */
    g.chx = g.chan && r->chx_ok && (r->bytes || mp_zchance(r, MP_CHX_PROG_PCT));
    p->chx = g.chx;
    if (g.chx)
        for (int i = 0; i < p->nch; i++)
            if (mp_zchance(r, 40))
                p->chcap[i] = (int8_t)(mp_zchance(r, 50) ? MP_BUFFERED
                                                         : MP_UNLIMITED);
    p->timed = timed;
    int root = mp_new_node(&g, OP_ROOT, -1);
    p->ncoro = 1;
    mp_vis none = {0};
    mp_gen_body(&g, root, 1, &none, false);
}

/* ---- Printing ------------------------------------------------------------------- */

static const char *mp_policy_name(int pol) {
    return pol == POL_PROPAGATE ? "propagate"
           : pol == POL_IGNORE  ? "ignore"
                                : "cleanup";
}

static void mp_dump_node(FILE *f, const mp_prog *p, int id, int indent) {
    const mp_node *n = &p->nodes[id];
    fprintf(f, "%*s#%d %s", indent, "", id, mp_op_names[n->op]);
    if (n->op == OP_DELAY || mp_is_timeout(n->op)) {
        if (n->ticks == MP_INF)
            fprintf(f, "(forever)");
        else
            fprintf(f, "(%d ticks)", n->ticks);
    }
    if (n->target >= 0 && n->op != OP_SELECT && n->op != OP_MX_HOLDS)
        fprintf(f, " -> #%d", n->target);
    if (n->op == OP_MX_HOLDS)
        fprintf(f, " owner=#%d", n->target >= 0 ? n->target
                                                : mp_coro_of(p, id));
    else if (n->op == OP_CANCEL_CHILDREN)
        fprintf(f, " -> current job");
    if (n->xparent >= 0)
        fprintf(f, " parent=#%d", n->xparent);
    else if (n->xparent == MP_NO_PARENT)
        fprintf(f, mp_is_hand(n->op) ? " root" : " no_parent");
    if (n->sup)
        fprintf(f, " supervisor");
    bool hand = n->op == OP_SUSPEND || n->op == OP_RESUME;
    if (hand && (n->hflags & HF_CB))
        fprintf(f, " +on_cancel");
    if (hand && (n->hflags & HF_FAST))
        fprintf(f, " fast");
    if (hand && (n->hflags & HF_ERR))
        fprintf(f, " error");
    if (hand && (n->hflags & HF_EX))
        fprintf(f, " +on_drop");
    if (n->op >= OP_SEND && n->op <= OP_SELECT)
        fprintf(f, " ch%d", n->ch);
    if (n->op == OP_PRODUCE)
        fprintf(f, " ch%d capacity %s%d", n->ch,
                n->ticks == MP_CONFLATED   ? "CONFLATED "
                : n->ticks == MP_BUFFERED  ? "BUFFERED "
                : n->ticks == MP_UNLIMITED ? "UNLIMITED "
                                           : "",
                n->ticks < 0 ? 0 : n->ticks);
    if (n->op == OP_SELECT) {
        if (n->hflags & SF_CATCH)
            fprintf(f, " catching");
        fprintf(f, " %sch%d", n->hflags & SF_SEND ? "send " : "", n->ch2);
        if (n->hflags & SF_JOB)
            fprintf(f, " %s(#%d)%s", n->hflags & SF_AWAIT ? "await" : "join",
                    n->target, n->hflags & SF_JOBFIRST ? " first" : "");
        if (n->hflags & SF_TMO)
            fprintf(f, " timeout(%d ticks)", n->ticks);
        if (n->hflags & SF_UNBIASED)
            fprintf(f, " unbiased");
    }
    if (n->hflags & HF_TRY)
        fprintf(f, n->op == OP_WITH_PERMIT ? " try_acquire" : " try_lock");
    if (n->op == OP_WITH_LOCK && (n->hflags & LF_OWNER))
        fprintf(f, " owner=#%d", mp_coro_of(p, id));
    if (n->op == OP_RECEIVE && (n->hflags & RF_CATCH))
        fprintf(f, " catching");
    if (n->op >= OP_FD_READ && n->op <= OP_FD_CLOSE)
        fprintf(f, " pipe%d%s%s", n->ch, n->hflags & FF_WAIT ? " wait_fd" : "",
                n->op == OP_FD_CLOSE
                    ? (n->hflags & FF_WREND ? " write end" : " read end")
                    : "");
    if (n->op == OP_PRODUCE && n->handler)
        fprintf(f, " +handler");
    if (n->op == OP_LAUNCH || n->op == OP_ASYNC) {
        if (n->lazy)
            fprintf(f, " LAZY");
        if (n->handler)
            fprintf(f, " +handler");
        if (n->keep)
            fprintf(f, " (handle kept)");
    }
    if (mp_owns_body(n->op) || n->op == OP_WITH_LOCK ||
        n->op == OP_WITH_PERMIT) {
        fprintf(f, " [on error: %s]", mp_policy_name(n->policy));
        fprintf(f, " {\n");
        for (int i = 0; i < n->nkids; i++)
            mp_dump_node(f, p, n->kids[i], indent + 2);
        if (n->cleanup >= 0) {
            fprintf(f, "%*s} on error run cleanup {\n", indent, "");
            const mp_node *c = &p->nodes[n->cleanup];
            fprintf(f, "%*s#%d non_cancellable (cleanup) {\n", indent + 2, "",
                    n->cleanup);
            for (int i = 0; i < c->nkids; i++)
                mp_dump_node(f, p, c->kids[i], indent + 4);
            fprintf(f, "%*s}\n", indent + 2, "");
        }
        fprintf(f, "%*s}\n", indent, "");
    } else {
        fprintf(f, "\n");
    }
}

MP_FN void mp_dump(FILE *f, const mp_prog *p) {
    fprintf(f, "program (seed %llu, %s%s%s%s%s%s, %d nodes, %d coroutines):\n",
            (unsigned long long)p->seed, p->timed ? "timed" : "untimed",
            p->ext ? ", extended" : "", p->hand ? ", hand" : "",
            p->chan ? ", channels" : "", p->more ? ", more" : "",
            p->chx ? ", chx" : "", p->n, p->ncoro);
    static const char *const pols[] = {"", " drop_oldest", " drop_latest"};
    for (int i = 0; i < p->nch; i++)
        fprintf(f, "  ch%d: %s %d%s\n", i,
                p->chcap[i] == MP_CONFLATED   ? "conflated"
                : p->chcap[i] == MP_BUFFERED  ? "BUFFERED"
                : p->chcap[i] == MP_UNLIMITED ? "UNLIMITED"
                : p->chcap[i]                 ? "buffered"
                                              : "rendezvous",
                p->chcap[i] == MP_CONFLATED   ? 1
                : p->chcap[i] == MP_BUFFERED  ? 64
                : p->chcap[i] == MP_UNLIMITED ? -1
                                              : p->chcap[i],
                pols[p->chpol[i]]);
    if (p->more)
        fprintf(f, "  semaphore: %d permits, %d pipes\n", p->permits,
                p->npipe);
    mp_dump_node(f, p, 0, 2);
}

#endif
