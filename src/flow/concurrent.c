/*
 * concurrent.c — the flow operators that run part of a flow in another
 * coroutine: kin_channel_flow, kin_flow_buffer, kin_flow_conflate,
 * kin_flow_on (Kotlin's ChannelFlow family), kin_flow_debounce,
 * kin_flow_zip and kin_flow_combine.
 *
 * SHAPE OF A COLLECT. Each stage here is a flow whose emitter (run in the
 * collecting coroutine) opens a kin_coroutine_scope, as kotlinx's
 * ChannelFlow.collect does with coroutineScope { }: the coroutines it
 * starts (a kin_produce producer, combine's two collectors) are children
 * of that scope, so
 *   - a failure of the upstream fails the producer, which fails the scope:
 *     the collect returns that failure (the producer's channel is closed
 *     with it too, so the receive loop ends either way);
 *   - when the collector stops (its failure, take/first's abort, its
 *     cancellation) the scope body returns that code and the scope cancels
 *     its children and waits for them: nothing outlives the collect;
 *   - a cancellation of the collecting coroutine reaches them through the
 *     job tree.
 * Values go through a channel (copied, esize bytes; the channel's ring is
 * allocated once and reused, so there is no malloc per value) and are
 * emitted downstream from the collecting coroutine, never from another one.
 *
 * CHANNEL STAGES (channel_flow, buffer, conflate, flow_on) are one record,
 * kotlinx's ChannelFlow: a producer (the user's kin_produce_fn, or a
 * collect of the upstream that sends each value), a dispatcher for it
 * (NULL: the collector's), and a channel capacity and overflow policy.
 * Adjacent channel stages fuse as kotlinx's ChannelFlow.fuse does: buffer
 * or flow_on applied to a channel stage makes one new stage with the
 * combined settings (the upstream's dispatcher wins; capacities add;
 * a dropping policy replaces what was there), so a chain such as
 * flow_on(IO) + buffer(10) runs one producer through one channel. Fusion
 * finds the upstream's record through a small registry (flow id -> stage)
 * kept here. A flow_on alone (no buffer fused in) whose dispatcher is the
 * collector's own collects the upstream in place, without a channel
 * (kotlinx's OPTIONAL_CHANNEL).
 *
 * DEBOUNCE runs the upstream in a producer with a rendezvous channel and
 * waits in a kin_select for the next value or the timeout, as kotlinx's
 * debounceInternal. ZIP collects the first flow in the collecting
 * coroutine, in an inner scope, and the second in a producer (rendezvous):
 * when the second completes the inner scope is cancelled with an abort of
 * zip's own (kotlinx's collectJob and AbortFlowException); values are
 * emitted downstream from the outer scope's job (kotlinx's
 * withContextUndispatched(scopeContext)), so that cancellation never
 * reaches the downstream. COMBINE collects both flows in child coroutines
 * that send (index, value) updates into one channel of capacity 2 and
 * yield after each send; the collector applies updates in batches as
 * kotlinx's combineInternal.
 *
 * Ownership and locks: a stage record is immutable once made and freed
 * with its flow (the on_free callback), which also releases the upstream
 * flows it holds. The registry is guarded by g_mu. Per-collect state lives
 * on the collecting coroutine's stack (in a frame that outlives the
 * scope, since children use it), or in one malloc per collect.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "job/job.h"
#include "kin.h"

/* kotlinx's Channel.OPTIONAL_CHANNEL: a flow_on with no buffer fused in
 * (a channel of the default size only if the dispatcher changes). */
#define OPTIONAL_CHANNEL (-3)

enum { K_CHAN = 1, K_DEBOUNCE, K_ZIP, K_COMBINE };

typedef struct stage stage;
struct stage {
    int kind;
    size_t esize;         /* the size of what this stage emits */
    kin_flow hold[2];     /* the references this stage owns; zero: none */
    kin_flow up, other;   /* what it collects: held in hold[], or by the
                           * fused-away stage held in hold[0] */
    /* K_CHAN */
    kin_produce_fn fn;    /* channel_flow's producer; NULL: collect up */
    void *arg;
    kin_dispatcher *d;    /* where the producer runs; NULL: collector's */
    int capacity;         /* KIN_CHANNEL_* , n >= 0, or OPTIONAL_CHANNEL */
    kin_overflow overflow;
    kin_undelivered_fn undeliv;
    void *uarg;
    /* K_DEBOUNCE */
    int64_t timeout_ms;
    /* K_ZIP, K_COMBINE */
    kin_flow_combine_fn cfn;
    void *carg;
    size_t asz, bsz;      /* the sizes of up's and other's values */
    /* the registry (K_CHAN only) */
    uint64_t id;
    stage *next;          /* [g_mu] */
};

/* ---- Values that need alignment ------------------------------------------*/

/* A buffer for one value of any type: on the stack when small. */
typedef union small_buf {
    max_align_t align;
    char bytes[64];
} small_buf;

static void *value_buf(small_buf *sb, size_t n) {
    if (n <= sizeof sb->bytes)
        return sb->bytes;
    return kin__malloc(n);
}

static void value_buf_free(small_buf *sb, void *p) {
    if (p != (void *)sb->bytes)
        kin__free(p);
}

/* ---- The registry of channel stages (for fusion) -------------------------*/

#define REG_BUCKETS 64
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static stage *g_reg[REG_BUCKETS]; /* [g_mu] */

static size_t reg_bucket(uint64_t id) {
    return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 58);
}

static void reg_add(stage *s) {
    pthread_mutex_lock(&g_mu);
    size_t b = reg_bucket(s->id);
    s->next = g_reg[b];
    g_reg[b] = s;
    pthread_mutex_unlock(&g_mu);
}

static void reg_remove(stage *s) {
    pthread_mutex_lock(&g_mu);
    for (stage **p = &g_reg[reg_bucket(s->id)]; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_unlock(&g_mu);
}

/* A copy of the settings of the channel stage f names, if it is one. The
 * flow is held by the caller, so the record cannot go meanwhile. */
static bool reg_find(kin_flow f, stage *copy) {
    bool found = false;
    pthread_mutex_lock(&g_mu);
    for (stage *s = g_reg[reg_bucket(f.id)]; s; s = s->next)
        if (s->id == f.id) {
            *copy = *s;
            found = true;
            break;
        }
    pthread_mutex_unlock(&g_mu);
    return found;
}

/* ---- Making and freeing stages -------------------------------------------*/

static void stage_free(void *arg) {
    stage *s = arg;
    if (s->kind == K_CHAN)
        reg_remove(s);
    for (int i = 0; i < 2; i++)
        if (s->hold[i].id)
            kin_flow_release(s->hold[i]);
    kin__free(s);
}

static int stage_run(kin_flow_collector *out, void *arg);

/* Makes the flow of s (which holds its upstreams: on failure they are
 * released with it). */
static int stage_make(kin_flow *out, stage *s, const char *who) {
    kin_flow f;
    int rc = kin_flow_new(&f, s->esize, stage_run, s);
    if (rc < 0) {
        stage_free(s);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    rc = kin_flow_on_free(f, stage_free, s);
    if (rc < 0) { /* a fresh flow: only out of memory can fail here */
        kin_flow_release(f);
        stage_free(s);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    s->id = f.id;
    if (s->kind == K_CHAN)
        reg_add(s);
    *out = f;
    return 0;
}

static stage *stage_alloc(const char *who, int *rc) {
    stage *s = kin__malloc(sizeof *s);
    if (!s) {
        *rc = kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
        return NULL;
    }
    memset(s, 0, sizeof *s);
    return s;
}

/* Checks a flow handle, with the message naming the operator. */
static int check_flow(kin_flow f, const char *who, const char *what) {
    if (!f.id)
        return kin__misuse(KIN_EINVAL, "%s: %s is the zero flow", who, what);
    int rc = kin_flow_retain(f);
    if (rc == 0) {
        kin_flow_release(f);
        return 0;
    }
    if (rc == KIN_ESTALE)
        return kin__misuse(KIN_ESTALE,
                           "%s: %s is a stale flow handle (the flow was "
                           "released)",
                           who, what);
    return kin__misuse(rc, "%s: %s is an invalid flow handle", who, what);
}

/* The common prologue of the operators that take *f over: checks it; on
 * error *f is released and zeroed and the code returned. */
static int take_upstream(kin_flow *f, const char *who) {
    if (!f)
        return kin__misuse(KIN_EINVAL, "%s: f is NULL", who);
    int rc = check_flow(*f, who, "the upstream *f");
    if (rc < 0)
        f->id = 0; /* a bad handle holds nothing to release */
    return rc;
}

/* Releases f without touching the current error (which says why an
 * operator failed). */
static void release_quietly(kin_flow f) {
    if (!f.id)
        return;
    kin_error *keep = kin_error_retain(kin_last_error());
    kin_flow_release(f);
    kin__error_set(keep);
}

/* Fails an operator that had taken *f (and other) over. */
static int give_up(kin_flow *f, kin_flow other, int rc) {
    if (f && f->id) {
        release_quietly(*f);
        f->id = 0;
    }
    release_quietly(other);
    return rc;
}

/* ---- Channel stages: collecting ------------------------------------------*/

typedef struct run {
    const stage *s;
    kin_flow_collector *out;
} run;

typedef struct sender {
    kin_channel ch;
    size_t esize;
} sender;

static int send_value(const void *value, void *arg) {
    sender *sd = arg;
    return kin_channel_send(sd->ch, value, sd->esize);
}

/* The producer of an operator stage: collects the upstream into ch
 * (kotlinx's SendingCollector). */
static int collect_into(kin_channel ch, void *arg) {
    const stage *s = arg;
    sender sd = {ch, s->esize};
    return kin_flow_collect(s->up, send_value, &sd);
}

/* Emits what ch delivers until it is closed (kotlinx's emitAll). */
static int drain(kin_channel ch, kin_flow_collector *out, size_t esize) {
    small_buf sb;
    void *buf = value_buf(&sb, esize);
    if (!buf)
        return kin__misuse(KIN_ENOMEM, "flow: out of memory");
    int rc;
    while ((rc = kin_channel_receive_catching(ch, buf, esize)) == 0) {
        rc = kin_flow_emit(out, buf, esize);
        if (rc < 0)
            break;
    }
    value_buf_free(&sb, buf);
    return rc == KIN_CLOSED ? 0 : rc;
}

static const char *producer_name(const stage *s) {
    if (s->fn)
        return "channel_flow";
    return s->d ? "flow_on" : "buffer";
}

/* Starts the producer of s in the current scope (kotlinx's produceImpl:
 * an ATOMIC start, so that it runs, and closes its channel, even if the
 * scope is cancelled before it is dispatched). */
static int start_producer(const stage *s, int capacity, kin_channel *ch,
                          kin_job *job) {
    kin_channel_opts co = {
        .capacity = capacity == OPTIONAL_CHANNEL ? KIN_CHANNEL_BUFFERED
                                                 : capacity,
        .overflow = s->overflow,
        .on_undelivered = s->undeliv,
        .undelivered_arg = s->uarg,
    };
    kin_launch_opts lo = {.start = KIN_START_ATOMIC,
                          .dispatcher = s->d,
                          .name = producer_name(s)};
    return kin_produce(ch, job, &lo, &co, s->esize, s->fn ? s->fn : collect_into,
                       s->fn ? s->arg : (void *)s);
}

static int chan_body(void *arg) {
    run *r = arg;
    kin_channel ch;
    int rc = start_producer(r->s, r->s->capacity, &ch, NULL);
    if (rc < 0)
        return rc;
    rc = drain(ch, r->out, r->s->esize);
    /* The collector is done: a producer still running is cancelled (the
     * cancelConsumed of kotlinx's emitAll). */
    kin_channel_destroy(ch);
    return rc;
}

static int forward(const void *value, void *arg) {
    run *r = arg;
    return kin_flow_emit(r->out, value, r->s->esize);
}

static int chan_run(kin_flow_collector *out, const stage *s) {
    run r = {s, out};
    if (s->capacity == OPTIONAL_CHANNEL && s->d == kin_dispatcher_current())
        return kin_flow_collect(s->up, forward, &r); /* nothing to change */
    return kin_coroutine_scope(chan_body, &r);
}

/* ---- Debounce ---------------------------------------------------------------*/

static int debounce_loop(run *r, kin_channel ch, char *last, char *in) {
    const stage *s = r->s;
    bool have = false;
    for (;;) {
        kin_select_clause cl[2];
        size_t n = 0;
        /* the timeout first: when both are ready the value due goes out
         * before the new one replaces it (kotlinx lists onTimeout first) */
        if (have)
            cl[n++] = (kin_select_clause){.kind = KIN_SELECT_TIMEOUT,
                                          .timeout_ms = s->timeout_ms};
        size_t ri = n;
        cl[n++] = (kin_select_clause){.kind = KIN_SELECT_RECEIVE_CATCHING,
                                      .channel = ch,
                                      .elem = in,
                                      .size = s->esize};
        int k = kin_select(cl, n);
        if (k < 0)
            return k;
        if ((size_t)k != ri) { /* the timeout: the value stood long enough */
            have = false;
            int rc = kin_flow_emit(r->out, last, s->esize);
            if (rc < 0)
                return rc;
            continue;
        }
        int rc = cl[ri].rc;
        if (rc == 0) {
            memcpy(last, in, s->esize);
            have = true;
        } else if (rc == KIN_CLOSED) { /* done: the last value goes out */
            return have ? kin_flow_emit(r->out, last, s->esize) : 0;
        } else {
            return rc; /* the upstream failed */
        }
    }
}

static int debounce_body(void *arg) {
    run *r = arg;
    size_t n = r->s->esize ? r->s->esize : 1;
    char *bufs = kin__malloc(2 * n + 2 * sizeof(max_align_t));
    if (!bufs)
        return kin__misuse(KIN_ENOMEM, "kin_flow_debounce: out of memory");
    size_t step = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
                  sizeof(max_align_t);
    kin_channel ch;
    int rc = start_producer(r->s, KIN_CHANNEL_RENDEZVOUS, &ch, NULL);
    if (rc == 0) {
        rc = debounce_loop(r, ch, bufs, bufs + step);
        kin_channel_destroy(ch);
    }
    kin__free(bufs);
    return rc;
}

/* ---- Zip ----------------------------------------------------------------------*/

/* What zip's collect shares with the completion handler of the second
 * flow's producer, which may run on another thread: heap, two references. */
typedef struct zip_link {
    atomic_int refs;
    atomic_bool second_done;
    atomic_uint_fast64_t inner; /* the inner scope's job id, once known */
    kin_error *abort;           /* [immutable] zip's own AbortFlowException */
} zip_link;

static void zip_link_unref(zip_link *l) {
    if (atomic_fetch_sub(&l->refs, 1) == 1) {
        kin_error_release(l->abort);
        kin__free(l);
    }
}

/* Cancels the first flow's collection with zip's abort (kotlinx's
 * collectJob.cancel(AbortFlowException(collectJob))). */
static void zip_abort_inner(zip_link *l, uint64_t id) {
    /* The handle may be stale by now (the inner scope is over): then there
     * is nothing to stop, and the error that says so must not replace the
     * current error of whoever runs this. */
    kin_error *keep = kin_error_retain(kin_last_error());
    kin_cancel((kin_job){id}, kin_error_retain(l->abort));
    kin__error_set(keep);
}

/* The second flow is done (its channel is closed): stop the first. Both
 * sides store, then load the other's flag (seq_cst), so at least one of
 * them cancels. */
static void zip_second_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause;
    zip_link *l = arg;
    atomic_store(&l->second_done, true);
    uint64_t id = atomic_load(&l->inner);
    if (id)
        zip_abort_inner(l, id);
    zip_link_unref(l);
}

typedef struct zip_run {
    run r;
    stage second;    /* the producer of the second flow's values (here, not
                      * on zip_body's stack: it may outlive that frame) */
    zip_link *link;
    kin_channel second_ch;
    kin__job *outer; /* the outer scope's job: downstream emits from it */
    char *a_out;     /* the second's value, then the result */
    char *res;
} zip_run;

static int zip_value(const void *value, void *arg) {
    zip_run *z = arg;
    const stage *s = z->r.s;
    kin__job *co = kin__running_job();
    kin__job *inner = co->cur;
    co->cur = z->outer; /* so that cancelling the inner scope does not
                         * cancel the downstream */
    int rc = kin_channel_receive_catching(z->second_ch, z->a_out, s->bsz);
    if (rc == KIN_CLOSED)
        rc = kin_fail_error(kin_error_retain(z->link->abort));
    if (rc == 0)
        rc = s->cfn(value, z->a_out, z->res, s->carg);
    if (rc == 0)
        rc = kin_flow_emit(z->r.out, z->res, s->esize);
    co->cur = inner;
    return rc;
}

static int zip_inner(void *arg) {
    zip_run *z = arg;
    kin_job me = kin_current_job();
    atomic_store(&z->link->inner, me.id);
    if (atomic_load(&z->link->second_done))
        zip_abort_inner(z->link, me.id);
    return kin_flow_collect(z->r.s->up, zip_value, z);
}

static int zip_body(void *arg) {
    zip_run *z = arg;
    z->outer = kin__running_job()->cur;
    kin_job pj;
    int rc = start_producer(&z->second, KIN_CHANNEL_RENDEZVOUS, &z->second_ch,
                            &pj);
    if (rc < 0)
        return rc;
    atomic_fetch_add(&z->link->refs, 1); /* the handler's */
    rc = kin_invoke_on_completion(pj, zip_second_done, z->link);
    kin_job_release(pj);
    if (rc == 0) {
        rc = kin_coroutine_scope(zip_inner, z);
        if (rc < 0 && kin_last_error() == z->link->abort) {
            kin_clear_error(); /* our own abort: a normal completion */
            rc = 0;
        }
    } else {
        zip_link_unref(z->link);
    }
    kin_channel_destroy(z->second_ch); /* cancels the second if still running */
    return rc;
}

static int zip_run_collect(kin_flow_collector *out, const stage *s) {
    size_t bsz = s->bsz ? s->bsz : 1, osz = s->esize ? s->esize : 1;
    size_t step = (bsz + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
                  sizeof(max_align_t);
    zip_run z = {.r = {s, out}};
    z.second.kind = K_CHAN;
    z.second.up = s->other;
    z.second.esize = s->bsz;
    z.link = kin__malloc(sizeof *z.link);
    char *bufs = kin__malloc(step + osz);
    if (!z.link || !bufs) {
        kin__free(z.link);
        kin__free(bufs);
        return kin__misuse(KIN_ENOMEM, "kin_flow_zip: out of memory");
    }
    atomic_init(&z.link->refs, 1);
    atomic_init(&z.link->second_done, false);
    atomic_init(&z.link->inner, 0);
    z.link->abort = kin_error_new(KIN_ECANCELED, "AbortFlowException",
                                  "Flow was aborted, no more elements needed");
    z.a_out = bufs;
    z.res = bufs + step;
    int rc = kin_coroutine_scope(zip_body, &z);
    zip_link_unref(z.link);
    kin__free(bufs);
    return rc;
}

/* ---- Combine ------------------------------------------------------------------*/

/* One update in combine's channel: which flow, then its value. */
#define UPD_HDR sizeof(max_align_t)

typedef struct combine_run combine_run;

typedef struct combine_side {
    combine_run *c;
    int index;
    char *buf; /* an update being sent */
} combine_side;

struct combine_run {
    run r;
    kin_channel ch;
    size_t usize; /* the update size */
    atomic_int open; /* sides still collecting */
    combine_side side[2];
    char *latest[2], *upd, *res;
};

static int combine_send(const void *value, void *arg) {
    combine_side *sd = arg;
    combine_run *c = sd->c;
    size_t n = sd->index ? c->r.s->bsz : c->r.s->asz;
    memcpy(sd->buf + UPD_HDR, value, n);
    int rc = kin_channel_send(c->ch, sd->buf, c->usize);
    if (rc == 0)
        rc = kin_yield(); /* fairness: the other flow gets a turn */
    return rc;
}

static int combine_side_main(void *arg) {
    combine_side *sd = arg;
    combine_run *c = sd->c;
    int rc = kin_flow_collect(sd->index ? c->r.s->other : c->r.s->up,
                              combine_send, sd);
    if (atomic_fetch_sub(&c->open, 1) == 1)
        kin_channel_close(c->ch, NULL); /* the last one closes */
    return rc;
}

/* Applies one update; returns its flow's index. */
static int combine_apply(combine_run *c, int *absent) {
    int i = c->upd[0];
    size_t n = i ? c->r.s->bsz : c->r.s->asz;
    if (c->latest[i][-1] == 0) {
        c->latest[i][-1] = 1;
        --*absent;
    }
    memcpy(c->latest[i], c->upd + UPD_HDR, n);
    return i;
}

static int combine_loop(combine_run *c) {
    const stage *s = c->r.s;
    int absent = 2;
    uint8_t epoch = 0, last_epoch[2] = {0, 0};
    for (;;) {
        ++epoch;
        int rc = kin_channel_receive_catching(c->ch, c->upd, c->usize);
        if (rc == KIN_CLOSED)
            return 0;
        if (rc < 0)
            return rc;
        /* a batch: what is ready now, until a flow shows up twice */
        for (;;) {
            int i = combine_apply(c, &absent);
            if (last_epoch[i] == epoch)
                break;
            last_epoch[i] = epoch;
            if (kin_channel_try_receive(c->ch, c->upd, c->usize) != 0)
                break;
        }
        if (absent == 0) {
            rc = s->cfn(c->latest[0], c->latest[1], c->res, s->carg);
            if (rc == 0)
                rc = kin_flow_emit(c->r.out, c->res, s->esize);
            if (rc < 0)
                return rc;
        }
    }
}

static int combine_body(void *arg) {
    combine_run *c = arg;
    for (int i = 0; i < 2; i++) {
        kin_launch_opts lo = {.name = "combine"};
        int rc = kin_launch(NULL, &lo, combine_side_main, &c->side[i]);
        if (rc < 0)
            return rc; /* the scope cancels the one that started */
    }
    return combine_loop(c);
}

static size_t round_up(size_t n) {
    size_t a = sizeof(max_align_t);
    return (n + a - 1) / a * a;
}

static int combine_run_collect(kin_flow_collector *out, const stage *s) {
    combine_run c = {.r = {s, out}};
    size_t vmax = s->asz > s->bsz ? s->asz : s->bsz;
    c.usize = UPD_HDR + vmax;
    /* one block: two sending buffers, the receiving one, both latest
     * values (each after a byte that says whether it is set), the result */
    size_t u = round_up(c.usize);
    size_t la = round_up(s->asz + 1) + UPD_HDR, lb = round_up(s->bsz + 1) + UPD_HDR;
    char *blk = kin__malloc(3 * u + la + lb + round_up(s->esize + 1));
    if (!blk)
        return kin__misuse(KIN_ENOMEM, "kin_flow_combine: out of memory");
    memset(blk, 0, 3 * u + la + lb);
    for (int i = 0; i < 2; i++) {
        c.side[i] = (combine_side){&c, i, blk + i * u};
        c.side[i].buf[0] = (char)i;
    }
    c.upd = blk + 2 * u;
    c.latest[0] = blk + 3 * u + UPD_HDR;
    c.latest[1] = blk + 3 * u + la + UPD_HDR;
    c.res = blk + 3 * u + la + lb;
    atomic_init(&c.open, 2);
    int rc = kin_channel_new(&c.ch, c.usize, &(kin_channel_opts){.capacity = 2});
    if (rc == 0) {
        rc = kin_coroutine_scope(combine_body, &c);
        kin_channel_destroy(c.ch);
    }
    kin__free(blk);
    return rc;
}

/* ---- Dispatch -----------------------------------------------------------------*/

static int stage_run(kin_flow_collector *out, void *arg) {
    const stage *s = arg;
    switch (s->kind) {
    case K_CHAN:
        return chan_run(out, s);
    case K_DEBOUNCE: {
        run r = {s, out};
        return kin_coroutine_scope(debounce_body, &r);
    }
    case K_ZIP:
        return zip_run_collect(out, s);
    default:
        return combine_run_collect(out, s);
    }
}

/* ---- Building -------------------------------------------------------------*/

/* Checks a capacity and policy as kotlinx's buffer() and Channel() do. */
static int check_buffer(const char *who, int capacity, kin_overflow overflow) {
    if (capacity < 0 && capacity != KIN_CHANNEL_BUFFERED &&
        capacity != KIN_CHANNEL_CONFLATED)
        return kin__misuse(KIN_EINVAL,
                           "%s: buffer size should be non-negative, BUFFERED "
                           "or CONFLATED, but was %d",
                           who, capacity);
    if ((unsigned)overflow > KIN_OVERFLOW_DROP_LATEST)
        return kin__misuse(KIN_EINVAL, "%s: unknown overflow policy %d", who,
                           (int)overflow);
    if (capacity == KIN_CHANNEL_CONFLATED && overflow != KIN_OVERFLOW_SUSPEND)
        return kin__misuse(KIN_EINVAL,
                           "%s: CONFLATED capacity cannot be used with a "
                           "non-default overflow policy",
                           who);
    return 0;
}

/* kotlinx's ChannelFlow.fuse: the settings of a channel stage t with a
 * further buffer (capacity, overflow) or flow_on (d) applied after it. */
static void fuse(stage *t, kin_dispatcher *d, int capacity,
                 kin_overflow overflow) {
    if (!t->d)
        t->d = d; /* the upstream's dispatcher takes precedence */
    if (overflow != KIN_OVERFLOW_SUSPEND) {
        /* a buffer that never suspends replaces the one before */
        t->capacity = capacity;
        t->overflow = overflow;
        return;
    }
    int a = t->capacity, b = capacity;
    if (a == OPTIONAL_CHANNEL)
        t->capacity = b;
    else if (b == OPTIONAL_CHANNEL)
        t->capacity = a;
    else if (a == KIN_CHANNEL_BUFFERED)
        t->capacity = b;
    else if (b == KIN_CHANNEL_BUFFERED)
        t->capacity = a;
    else if (a >= KIN_CHANNEL_UNLIMITED - b)
        t->capacity = KIN_CHANNEL_UNLIMITED; /* as kotlinx on overflow */
    else
        t->capacity = a + b;
}

/* buffer / flow_on on *f: fused into *f if it is a channel stage, else a
 * new stage over it. */
static int chan_op(kin_flow *f, const char *who, kin_dispatcher *d,
                   int capacity, kin_overflow overflow) {
    int rc;
    stage *s = stage_alloc(who, &rc);
    if (!s)
        return give_up(f, (kin_flow){0}, rc);
    stage prev;
    if (reg_find(*f, &prev)) {
        /* One stage with prev's producer and the combined settings; it
         * holds prev's flow, which holds prev's upstream (and keeps the
         * arguments a kin_flow_on_free of prev would free). */
        *s = prev;
        s->next = NULL;
        fuse(s, d, capacity, overflow);
        s->hold[0] = *f; /* taken over */
        s->hold[1].id = 0;
    } else {
        s->kind = K_CHAN;
        s->esize = kin_flow_elem_size(*f);
        s->up = s->hold[0] = *f; /* taken over */
        s->d = d;
        s->capacity = capacity;
        s->overflow = overflow;
    }
    f->id = 0;
    return stage_make(f, s, who);
}

int kin_flow_buffer(kin_flow *f, int capacity, kin_overflow overflow) {
    const char *who = "kin_flow_buffer";
    int rc = take_upstream(f, who);
    if (rc < 0)
        return rc;
    rc = check_buffer(who, capacity, overflow);
    if (rc < 0)
        return give_up(f, (kin_flow){0}, rc);
    if (capacity == KIN_CHANNEL_CONFLATED) { /* kotlinx: 0 + DROP_OLDEST */
        capacity = 0;
        overflow = KIN_OVERFLOW_DROP_OLDEST;
    }
    return chan_op(f, who, NULL, capacity, overflow);
}

int kin_flow_conflate(kin_flow *f) {
    const char *who = "kin_flow_conflate";
    int rc = take_upstream(f, who);
    if (rc < 0)
        return rc;
    return chan_op(f, who, NULL, 0, KIN_OVERFLOW_DROP_OLDEST);
}

int kin_flow_on(kin_flow *f, kin_dispatcher *d) {
    const char *who = "kin_flow_on";
    int rc = take_upstream(f, who);
    if (rc < 0)
        return rc;
    if (!d)
        return give_up(f, (kin_flow){0},
                       kin__misuse(KIN_EINVAL, "%s: the dispatcher is NULL",
                                   who));
    return chan_op(f, who, d, OPTIONAL_CHANNEL, KIN_OVERFLOW_SUSPEND);
}

int kin_channel_flow(kin_flow *out, size_t elem_size,
                     const kin_channel_opts *copts, kin_produce_fn fn,
                     void *arg) {
    const char *who = "kin_channel_flow";
    if (out)
        out->id = 0;
    if (!out || !fn)
        return kin__misuse(KIN_EINVAL, "%s: %s is NULL", who,
                           out ? "fn" : "out");
    kin_channel_opts o = copts ? *copts
                               : (kin_channel_opts){.capacity =
                                                        KIN_CHANNEL_BUFFERED};
    int rc = check_buffer(who, o.capacity, o.overflow);
    if (rc < 0)
        return rc;
    stage *s = stage_alloc(who, &rc);
    if (!s)
        return rc;
    s->kind = K_CHAN;
    s->esize = elem_size;
    s->fn = fn;
    s->arg = arg;
    s->capacity = o.capacity;
    s->overflow = o.overflow;
    if (o.capacity == KIN_CHANNEL_CONFLATED) {
        s->capacity = 0;
        s->overflow = KIN_OVERFLOW_DROP_OLDEST;
    }
    s->undeliv = o.on_undelivered;
    s->uarg = o.undelivered_arg;
    return stage_make(out, s, who);
}

int kin_flow_debounce(kin_flow *f, int64_t timeout_ms) {
    const char *who = "kin_flow_debounce";
    int rc = take_upstream(f, who);
    if (rc < 0)
        return rc;
    if (timeout_ms < 0)
        return give_up(f, (kin_flow){0},
                       kin__misuse(KIN_EINVAL,
                                   "%s: debounce timeout should not be "
                                   "negative, but was %lld",
                                   who, (long long)timeout_ms));
    if (timeout_ms == 0)
        return 0; /* kotlinx: debounce(0) is the flow itself */
    stage *s = stage_alloc(who, &rc);
    if (!s)
        return give_up(f, (kin_flow){0}, rc);
    s->kind = K_DEBOUNCE;
    s->esize = kin_flow_elem_size(*f);
    s->up = s->hold[0] = *f;
    s->timeout_ms = timeout_ms;
    f->id = 0;
    return stage_make(f, s, who);
}

/* zip and combine: two upstreams, both taken over. */
static int pair_op(kin_flow *f, kin_flow other, size_t out_size,
                   kin_flow_combine_fn fn, void *arg, int kind,
                   const char *who) {
    int rc = take_upstream(f, who);
    if (rc < 0)
        return give_up(NULL, other, rc); /* other is taken over too */
    rc = check_flow(other, who, "other");
    if (rc < 0)
        return give_up(f, (kin_flow){0}, rc);
    if (!fn)
        return give_up(f, other,
                       kin__misuse(KIN_EINVAL, "%s: fn is NULL", who));
    stage *s = stage_alloc(who, &rc);
    if (!s)
        return give_up(f, other, rc);
    s->kind = kind;
    s->esize = out_size;
    s->up = s->hold[0] = *f;
    s->other = s->hold[1] = other;
    s->cfn = fn;
    s->carg = arg;
    s->asz = kin_flow_elem_size(*f);
    s->bsz = kin_flow_elem_size(other);
    f->id = 0;
    return stage_make(f, s, who);
}

int kin_flow_zip(kin_flow *f, kin_flow other, size_t out_size,
                 kin_flow_combine_fn fn, void *arg) {
    return pair_op(f, other, out_size, fn, arg, K_ZIP, "kin_flow_zip");
}

int kin_flow_combine(kin_flow *f, kin_flow other, size_t out_size,
                     kin_flow_combine_fn fn, void *arg) {
    return pair_op(f, other, out_size, fn, arg, K_COMBINE, "kin_flow_combine");
}
