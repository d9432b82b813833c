/*
 * concurrent.c — the flow operators that run part of a flow in another
 * coroutine: kin_channel_flow, kin_flow_buffer, kin_flow_conflate,
 * kin_flow_on (Kotlin's ChannelFlow family), kin_flow_debounce,
 * kin_flow_zip and kin_flow_combine.
 *
 * SHAPE OF A COLLECT. Each stage here is a flow whose collect (run in the
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
 * flow_on(IO) + buffer(10) runs one producer through one channel. The new
 * stage holds the old one as its up (so the old one's arguments, and a
 * kin_flow_on_free on it, live as long) and runs the old one's producer.
 * A flow_on alone (no buffer fused in) whose dispatcher is the
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
 * withContextUndispatched(scopeContext): the coroutine's current job,
 * co->cur, which only the running coroutine writes, is switched for the
 * call and back), so that cancellation never reaches the downstream.
 * COMBINE collects both flows in child coroutines
 * that send (index, value) updates into one channel of capacity 2 and
 * yield after each send; the collector applies updates in batches as
 * kotlinx's combineInternal.
 *
 * Ownership and locks: stage records are flow.h's (immutable once made,
 * their upstreams owned through up / up2, freed with the last reference);
 * there is no lock here. Per-collect state lives on the collecting
 * coroutine's stack, in a frame that outlives the scope (children use
 * it), value buffers too (kin__flow_scratch: one malloc per collect only
 * for big values); what zip shares
 * with a completion handler on another thread is a small counted record.
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "flow/flow.h"

/* kotlinx's Channel.OPTIONAL_CHANNEL: a flow_on with no buffer fused in
 * (a channel of the default size only if the dispatcher changes). */
#define OPTIONAL_CHANNEL (-3)

/* A channel stage (channel_flow, buffer, conflate, flow_on). */
typedef struct chan_stage {
    kin__flow base;
    kin__flow *src;       /* what the producer collects (base.up, or the
                           * fused-away stage's src); NULL: fn */
    kin_produce_fn fn;    /* channel_flow's producer */
    void *arg;
    kin_dispatcher *d;    /* where the producer runs; NULL: collector's */
    int capacity;         /* KIN_CHANNEL_*, n >= 0, or OPTIONAL_CHANNEL */
    kin_overflow overflow;
    kin_undelivered_fn undeliv;
    void *uarg;
} chan_stage;

typedef struct debounce_stage {
    kin__flow base;
    int64_t timeout_ms;
} debounce_stage;

/* zip and combine: base.up and base.up2 are the two flows. */
typedef struct pair_stage {
    kin__flow base;
    kin_flow_combine_fn fn;
    void *arg;
} pair_stage;

static int chan_collect(kin__flow *self, kin_flow_collector *down);
static int debounce_collect(kin__flow *self, kin_flow_collector *down);
static int zip_collect(kin__flow *self, kin_flow_collector *down);
static int combine_collect(kin__flow *self, kin_flow_collector *down);

/* One collect for the three names (messages say which operator made it). */
static const kin__flow_ops buffer_ops = {"kin_flow_buffer", chan_collect,
                                         NULL};
static const kin__flow_ops flow_on_ops = {"kin_flow_on", chan_collect, NULL};
static const kin__flow_ops channel_flow_ops = {"kin_channel_flow",
                                               chan_collect, NULL};

static const kin__flow_ops debounce_ops = {"kin_flow_debounce",
                                           debounce_collect, NULL};
static const kin__flow_ops zip_ops = {"kin_flow_zip", zip_collect, NULL};
static const kin__flow_ops combine_ops = {"kin_flow_combine", combine_collect,
                                          NULL};

/* A stage that buffer / flow_on can fuse with. */
static bool is_chan_stage(const kin__flow *f) {
    return f->ops == &buffer_ops || f->ops == &flow_on_ops ||
           f->ops == &channel_flow_ops;
}

static size_t round_up(size_t n) {
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

/* ---- Producers --------------------------------------------------------------*/

/* The collector a producer gives its upstream: each value is sent into
 * the channel (kotlinx's SendingCollector). */
typedef struct send_col {
    kin_flow_collector c; /* first */
    kin_channel ch;
} send_col;

static int send_emit(kin_flow_collector *c, const void *value) {
    send_col *m = (send_col *)c;
    return kin_channel_send(m->ch, value, c->esize);
}

/* The body of an operator stage's producer: runs src into ch, in the
 * producer coroutine (which owns the collector). */
static int collect_into(kin_channel ch, void *arg) {
    kin__flow *src = arg;
    send_col m;
    m.ch = ch;
    kin__flow_collector_init(&m.c, send_emit, src->esize, kin__running_job());
    int rc = kin__flow_run(src, &m.c);
    kin__flow_collector_end(&m.c);
    return rc;
}

/* A producer: a child coroutine of the collect's scope that runs src (or
 * channel_flow's fn, with the coroutines fn launches) into ch, then closes
 * ch: without a cause when it completed, with its failure (or
 * cancellation) otherwise (kotlinx's ProducerCoroutine). The channel is
 * made before the scope and destroyed after it, so it outlives the
 * producer; the record lives in a frame that outlives the scope too. */
typedef struct producer {
    kin__flow *src;      /* NULL: fn */
    kin_produce_fn fn;
    void *arg;
    kin_dispatcher *d;   /* NULL: the collector's */
    const char *name;
    kin_channel ch;
    kin_job job;         /* while it runs (the collector's reference) */
    void (*done)(void *done_arg); /* called once ch is closed (zip) */
    void *done_arg;
} producer;

static int run_fn(void *arg) {
    producer *p = arg;
    return kin__flow_rc(p->fn(p->ch, p->arg));
}

static int producer_main(void *arg) {
    producer *p = arg;
    /* channel_flow: fn and its children are one scope, so the channel is
     * closed only when they have all completed */
    int rc = p->src ? collect_into(p->ch, p->src)
                    : kin_coroutine_scope(run_fn, p);
    rc = kin__flow_rc(rc);
    kin_channel_close(p->ch,
                      rc < 0 ? kin_error_retain(kin_last_error()) : NULL);
    if (p->done)
        p->done(p->done_arg);
    return rc;
}

/* Makes p's channel (before the scope). */
static int producer_channel(producer *p, size_t esize,
                            const kin_channel_opts *copts) {
    return kin_channel_new(&p->ch, esize, copts);
}

/* Starts p in the current scope (kotlinx's produceImpl: ATOMIC, so that
 * it runs, and closes its channel, even if the scope is cancelled before
 * it is dispatched). */
static int producer_start(producer *p) {
    kin_launch_opts lo = {.start = KIN_START_ATOMIC,
                          .dispatcher = p->d,
                          .name = p->name};
    return kin_launch(&p->job, &lo, producer_main, p);
}

/* The collector is done with p: if it stopped before the channel was
 * closed (its failure, an abort, its cancellation), the producer is
 * cancelled (kotlinx's cancelConsumed); the scope then waits for it. */
static void producer_stop(producer *p, int rc) {
    if (rc != 0)
        kin_cancel(p->job, NULL);
    kin_job_release(p->job);
}

/* ---- Channel stages ---------------------------------------------------------*/

typedef struct chan_run {
    kin_flow_collector *down;
    producer prod;
} chan_run;

/* Emits what ch delivers until it is closed (kotlinx's emitAll). */
static int drain(kin_channel ch, kin_flow_collector *down) {
    kin__flow_scratch sc;
    kin__flow_scratch_init(&sc);
    void *buf = kin__flow_scratch_get(&sc, down->esize ? down->esize : 1);
    if (!buf)
        return KIN_ENOMEM;
    int rc;
    while ((rc = kin_channel_receive_catching(ch, buf, down->esize)) == 0) {
        rc = kin__flow_emit_down(down, buf);
        if (rc < 0)
            break;
    }
    kin__flow_scratch_free(&sc);
    return rc == KIN_CLOSED ? 0 : rc;
}

static int chan_body(void *arg) {
    chan_run *r = arg;
    int rc = producer_start(&r->prod);
    if (rc < 0)
        return rc;
    rc = drain(r->prod.ch, r->down);
    producer_stop(&r->prod, rc);
    return rc; /* a failure of the producer is the scope's anyway */
}

static const char *producer_name(const chan_stage *s) {
    if (s->fn)
        return "channel_flow";
    return s->d ? "flow_on" : "buffer";
}

static int chan_collect(kin__flow *self, kin_flow_collector *down) {
    const chan_stage *s = KIN__FLOW_FIELDS(chan_stage, self);
    if (s->capacity == OPTIONAL_CHANNEL && s->d == kin_dispatcher_current())
        return kin__flow_run(s->src, down); /* nothing changes: in place */
    chan_run r = {down, {.src = s->src, .fn = s->fn, .arg = s->arg,
                         .d = s->d, .name = producer_name(s)}};
    kin_channel_opts co = {
        .capacity = s->capacity == OPTIONAL_CHANNEL ? KIN_CHANNEL_BUFFERED
                                                    : s->capacity,
        .overflow = s->overflow,
        .on_undelivered = s->undeliv,
        .undelivered_arg = s->uarg};
    int rc = producer_channel(&r.prod, self->esize, &co);
    if (rc < 0)
        return rc;
    rc = kin_coroutine_scope(chan_body, &r);
    kin_channel_destroy(r.prod.ch); /* what is left goes to on_undelivered */
    return rc;
}

/* ---- Debounce ---------------------------------------------------------------*/

typedef struct debounce_run {
    int64_t timeout_ms;
    kin_flow_collector *down;
    producer prod;
} debounce_run;

static int debounce_loop(debounce_run *r, kin_channel ch, char *last,
                         char *in) {
    size_t n = r->down->esize;
    bool have = false;
    for (;;) {
        kin_select_clause cl[2];
        size_t k = 0;
        /* the timeout first: when both are ready the value due goes out
         * before the new one replaces it (kotlinx lists onTimeout first) */
        if (have)
            cl[k++] = (kin_select_clause){.kind = KIN_SELECT_TIMEOUT,
                                          .timeout_ms = r->timeout_ms};
        size_t ri = k;
        cl[k++] = (kin_select_clause){.kind = KIN_SELECT_RECEIVE_CATCHING,
                                      .channel = ch,
                                      .elem = in,
                                      .size = n};
        int got = kin_select(cl, k);
        if (got < 0)
            return got;
        if ((size_t)got != ri) { /* the value stood long enough */
            have = false;
            int rc = kin__flow_emit_down(r->down, last);
            if (rc < 0)
                return rc;
            continue;
        }
        int rc = cl[ri].rc;
        if (rc == 0) {
            memcpy(last, in, n);
            have = true;
        } else if (rc == KIN_CLOSED) { /* done: the last value goes out */
            return have ? kin__flow_emit_down(r->down, last) : 0;
        } else {
            return rc; /* the upstream failed */
        }
    }
}

static int debounce_body(void *arg) {
    debounce_run *r = arg;
    size_t step = round_up(r->down->esize ? r->down->esize : 1);
    kin__flow_scratch sc;
    kin__flow_scratch_init(&sc);
    char *bufs = kin__flow_scratch_get(&sc, 2 * step);
    if (!bufs)
        return KIN_ENOMEM;
    int rc = producer_start(&r->prod);
    if (rc == 0) {
        rc = debounce_loop(r, r->prod.ch, bufs, bufs + step);
        producer_stop(&r->prod, rc);
    }
    kin__flow_scratch_free(&sc);
    return rc;
}

static int debounce_collect(kin__flow *self, kin_flow_collector *down) {
    const debounce_stage *s = KIN__FLOW_FIELDS(debounce_stage, self);
    /* the upstream runs in a producer with a rendezvous channel */
    debounce_run r = {s->timeout_ms, down,
                      {.src = self->up, .name = "debounce"}};
    int rc = producer_channel(&r.prod, self->esize, NULL); /* rendezvous */
    if (rc < 0)
        return rc;
    rc = kin_coroutine_scope(debounce_body, &r);
    kin_channel_destroy(r.prod.ch);
    return rc;
}

/* ---- Zip ----------------------------------------------------------------------*/

/* Stops the first flow's collection with zip's abort (kotlinx's
 * collectJob.cancel(AbortFlowException(collectJob))). The handle may be
 * stale by now (that collection is over): then there is nothing to stop,
 * and the error saying so must not replace anyone's current error. */
static void zip_abort_inner(kin_error *abort, uint64_t id) {
    kin_error *keep = kin_error_retain(kin_last_error());
    kin_cancel((kin_job){id}, kin_error_retain(abort));
    kin__error_set(keep);
}

typedef struct zip_run {
    kin_flow_collector c; /* first: what the first flow emits into */
    const pair_stage *s;
    kin_flow_collector *down;
    producer prod;        /* the second flow's */
    kin_error *abort;     /* zip's own AbortFlowException */
    /* the second's producer may end on another thread: both sides store,
     * then load the other's word (seq_cst), so at least one cancels */
    atomic_bool second_done;
    _Atomic uint64_t inner; /* the inner scope's job id, once known */
    kin__job *outer;      /* the outer scope's job: downstream runs in it */
    char *other, *res;    /* the second's value, the result */
} zip_run;

/* The second flow's producer has closed its channel: stop the first
 * (kotlinx's invokeOnClose). Runs in that producer, before it completes,
 * so before the scope (and the zip_run) can go. */
static void zip_second_done(void *arg) {
    zip_run *z = arg;
    atomic_store(&z->second_done, true);
    uint64_t id = atomic_load(&z->inner);
    if (id)
        zip_abort_inner(z->abort, id);
}

static int zip_emit(kin_flow_collector *c, const void *value) {
    zip_run *z = (zip_run *)c;
    kin__job *co = kin__running_job();
    kin__job *inner = co->cur;
    /* Receive and emit in the outer scope's job (kotlinx's
     * withContextUndispatched(scopeContext)): the inner one is cancelled
     * when the second flow ends, which must not cancel the downstream. */
    co->cur = z->outer;
    int rc = kin_channel_receive_catching(z->prod.ch, z->other,
                                          z->s->base.up2->esize);
    if (rc == KIN_CLOSED) /* the second is done: so are we */
        rc = kin_fail_error(kin_error_retain(z->abort));
    if (rc == 0)
        rc = kin__flow_rc(z->s->fn(value, z->other, z->res, z->s->arg));
    if (rc == 0)
        rc = kin__flow_emit_down(z->down, z->res);
    co->cur = inner;
    return rc;
}

static int zip_inner(void *arg) {
    zip_run *z = arg;
    uint64_t me = kin_current_job().id;
    atomic_store(&z->inner, me);
    if (atomic_load(&z->second_done))
        zip_abort_inner(z->abort, me);
    return kin__flow_run(z->s->base.up, &z->c);
}

static int zip_body(void *arg) {
    zip_run *z = arg;
    z->outer = kin__running_job()->cur;
    int rc = producer_start(&z->prod);
    if (rc < 0)
        return rc;
    rc = kin_coroutine_scope(zip_inner, z);
    if (rc == KIN_ECANCELED && kin_last_error() == z->abort) {
        kin_clear_error(); /* our own abort: a normal completion */
        rc = 0;
    }
    /* the second is cancelled unless it is done (kotlinx: second.cancel()) */
    producer_stop(&z->prod, atomic_load(&z->second_done) ? 0 : -1);
    return rc;
}

static int zip_collect(kin__flow *self, kin_flow_collector *down) {
    const pair_stage *s = KIN__FLOW_FIELDS(pair_stage, self);
    zip_run z = {.s = s, .down = down,
                 .prod = {.src = self->up2, .name = "zip"}};
    z.prod.done = zip_second_done;
    z.prod.done_arg = &z;
    atomic_init(&z.second_done, false);
    atomic_init(&z.inner, 0);
    kin__flow_collector_init(&z.c, zip_emit, self->up->esize,
                             kin__running_job());
    size_t step = round_up(self->up2->esize ? self->up2->esize : 1);
    kin__flow_scratch sc;
    kin__flow_scratch_init(&sc);
    char *bufs = kin__flow_scratch_get(&sc, step + (self->esize ? self->esize
                                                                : 1));
    if (!bufs)
        return KIN_ENOMEM;
    z.other = bufs;
    z.res = bufs + step;
    int rc = producer_channel(&z.prod, self->up2->esize, NULL); /* rendezvous */
    if (rc == 0) {
        /* kin__error_make: out of memory still gives a cancellation */
        z.abort = kin__error_make(KIN_ECANCELED, "AbortFlowException", NULL,
                                  "Flow was aborted, no more elements "
                                  "needed");
        rc = kin_coroutine_scope(zip_body, &z);
        kin_channel_destroy(z.prod.ch);
        kin_error_release(z.abort);
    }
    kin__flow_collector_end(&z.c);
    kin__flow_scratch_free(&sc);
    return rc;
}

/* ---- Combine ------------------------------------------------------------------*/

/* An update in combine's channel: the flow's index in the first byte,
 * its value after UPD_HDR bytes. */
#define UPD_HDR alignof(max_align_t)

typedef struct combine_run combine_run;

typedef struct combine_side {
    kin_flow_collector c; /* first */
    combine_run *r;
    char *buf;            /* the update being sent */
} combine_side;

struct combine_run {
    const pair_stage *s;
    kin_flow_collector *down;
    kin_channel ch;
    size_t usize;     /* an update's size */
    atomic_int open;  /* sides still collecting */
    combine_side side[2];
    char *latest[2];  /* each after a byte: set yet? */
    char *upd, *res;
};

static int combine_send(kin_flow_collector *c, const void *value) {
    combine_side *sd = (combine_side *)c;
    memcpy(sd->buf + UPD_HDR, value, c->esize);
    int rc = kin_channel_send(sd->r->ch, sd->buf, sd->r->usize);
    if (rc == 0)
        rc = kin_yield(); /* fairness: the other flow gets a turn */
    return rc;
}

/* A side's coroutine: collects its flow into updates; the last one to
 * finish closes the channel (kotlinx: in a finally). */
static int combine_side_main(void *arg) {
    combine_side *sd = arg;
    combine_run *r = sd->r;
    kin__flow *f = sd->buf[0] ? r->s->base.up2 : r->s->base.up;
    kin__flow_collector_init(&sd->c, combine_send, f->esize,
                             kin__running_job());
    int rc = kin__flow_run(f, &sd->c);
    kin__flow_collector_end(&sd->c);
    if (atomic_fetch_sub(&r->open, 1) == 1)
        kin_channel_close(r->ch, NULL);
    return rc;
}

/* Applies the update in r->upd; returns its flow's index. */
static int combine_apply(combine_run *r, int *absent) {
    int i = r->upd[0];
    kin__flow *f = i ? r->s->base.up2 : r->s->base.up;
    if (!r->latest[i][-1]) {
        r->latest[i][-1] = 1;
        --*absent;
    }
    memcpy(r->latest[i], r->upd + UPD_HDR, f->esize);
    return i;
}

/* kotlinx's combineInternal: updates are applied in batches (what can be
 * received without suspending, until one flow shows up twice), then, once
 * both flows have a value, fn runs on the latest pair and its result is
 * emitted. */
static int combine_loop(combine_run *r) {
    int absent = 2;
    uint8_t epoch = 0, seen[2] = {0, 0};
    for (;;) {
        ++epoch;
        int rc = kin_channel_receive_catching(r->ch, r->upd, r->usize);
        if (rc == KIN_CLOSED)
            return 0;
        if (rc < 0)
            return rc;
        for (;;) {
            int i = combine_apply(r, &absent);
            if (seen[i] == epoch)
                break;
            seen[i] = epoch;
            if (kin_channel_try_receive(r->ch, r->upd, r->usize) != 0)
                break;
        }
        if (absent == 0) {
            rc = kin__flow_rc(r->s->fn(r->latest[0], r->latest[1], r->res,
                                       r->s->arg));
            if (rc == 0)
                rc = kin__flow_emit_down(r->down, r->res);
            if (rc < 0)
                return rc;
        }
    }
}

static int combine_body(void *arg) {
    combine_run *r = arg;
    for (int i = 0; i < 2; i++) {
        kin_launch_opts lo = {.name = "combine"};
        int rc = kin_launch(NULL, &lo, combine_side_main, &r->side[i]);
        if (rc < 0) {
            if (i == 0 || atomic_fetch_sub(&r->open, 1) == 1)
                kin_channel_close(r->ch, NULL);
            return rc; /* the scope cancels the one that started */
        }
    }
    return combine_loop(r);
}

static int combine_collect(kin__flow *self, kin_flow_collector *down) {
    const pair_stage *s = KIN__FLOW_FIELDS(pair_stage, self);
    combine_run r = {.s = s, .down = down};
    size_t a = self->up->esize, b = self->up2->esize;
    r.usize = UPD_HDR + (a > b ? a : b);
    /* one block: two updates being sent, the one received, both latest
     * values (each after its flag byte), the result */
    size_t u = round_up(r.usize);
    size_t la = UPD_HDR + round_up(a), lb = UPD_HDR + round_up(b);
    size_t total = 3 * u + la + lb + round_up(self->esize ? self->esize : 1);
    kin__flow_scratch sc;
    kin__flow_scratch_init(&sc);
    char *blk = kin__flow_scratch_get(&sc, total);
    if (!blk)
        return KIN_ENOMEM;
    memset(blk, 0, total);
    for (int i = 0; i < 2; i++) {
        r.side[i].r = &r;
        r.side[i].buf = blk + (size_t)i * u;
        r.side[i].buf[0] = (char)i;
    }
    r.upd = blk + 2 * u;
    r.latest[0] = blk + 3 * u + UPD_HDR;
    r.latest[1] = blk + 3 * u + la + UPD_HDR;
    r.res = blk + 3 * u + la + lb;
    atomic_init(&r.open, 2);
    int rc = kin_channel_new(&r.ch, r.usize,
                             &(kin_channel_opts){.capacity = 2});
    if (rc == 0) {
        rc = kin_coroutine_scope(combine_body, &r);
        kin_channel_destroy(r.ch);
    }
    kin__flow_scratch_free(&sc);
    return rc;
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

/* kotlinx's ChannelFlow.fuse: the settings of channel stage t with a
 * further flow_on (d) or buffer (capacity, overflow) applied after it. */
static void fuse(chan_stage *t, kin_dispatcher *d, int capacity,
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
        t->capacity = KIN_CHANNEL_UNLIMITED; /* kotlinx, on int overflow */
    else
        t->capacity = a + b;
}

/* buffer / flow_on on up (taken over): fused into up if it is a channel
 * stage, else a new stage over it. */
static int chan_op(kin_flow *f, kin__flow *up, const kin__flow_ops *ops,
                   kin_dispatcher *d, int capacity, kin_overflow overflow) {
    chan_stage t = {.src = up, .d = d, .capacity = capacity,
                    .overflow = overflow};
    if (is_chan_stage(up)) {
        t = *KIN__FLOW_FIELDS(chan_stage, up); /* its producer, fused */
        fuse(&t, d, capacity, overflow);
    }
    kin__flow *st;
    int rc = kin__flow_make(f, ops, sizeof(chan_stage), up->esize, up,
                            &st);
    if (rc < 0)
        return rc;
    chan_stage *s = KIN__FLOW_FIELDS(chan_stage, st);
    t.base = s->base;
    *s = t;
    return 0;
}

int kin_flow_buffer(kin_flow *f, int capacity, kin_overflow overflow) {
    int rc;
    kin__flow *up = kin__flow_take_over(f, "kin_flow_buffer", &rc);
    if (!up)
        return rc;
    rc = check_buffer("kin_flow_buffer", capacity, overflow);
    if (rc < 0) {
        kin__flow_unref(up);
        return rc;
    }
    if (capacity == KIN_CHANNEL_CONFLATED) { /* kotlinx: 0 + DROP_OLDEST */
        capacity = 0;
        overflow = KIN_OVERFLOW_DROP_OLDEST;
    }
    return chan_op(f, up, &buffer_ops, NULL, capacity, overflow);
}

int kin_flow_conflate(kin_flow *f) {
    int rc;
    kin__flow *up = kin__flow_take_over(f, "kin_flow_conflate", &rc);
    if (!up)
        return rc;
    return chan_op(f, up, &buffer_ops, NULL, 0, KIN_OVERFLOW_DROP_OLDEST);
}

int kin_flow_on(kin_flow *f, kin_dispatcher *d) {
    int rc;
    kin__flow *up = kin__flow_take_over(f, "kin_flow_on", &rc);
    if (!up)
        return rc;
    if (!d) {
        kin__flow_unref(up);
        return kin__misuse(KIN_EINVAL, "kin_flow_on: the dispatcher is NULL");
    }
    return chan_op(f, up, &flow_on_ops, d, OPTIONAL_CHANNEL,
                   KIN_OVERFLOW_SUSPEND);
}

int kin_channel_flow(kin_flow *out, size_t elem_size,
                     const kin_channel_opts *copts, kin_produce_fn fn,
                     void *arg) {
    if (out)
        out->id = 0;
    if (!out || !fn)
        return kin__misuse(KIN_EINVAL, "kin_channel_flow: %s is NULL",
                           out ? "fn" : "out");
    kin_channel_opts o =
        copts ? *copts : (kin_channel_opts){.capacity = KIN_CHANNEL_BUFFERED};
    int rc = check_buffer("kin_channel_flow", o.capacity, o.overflow);
    if (rc < 0)
        return rc;
    if (o.capacity == KIN_CHANNEL_CONFLATED) {
        o.capacity = 0;
        o.overflow = KIN_OVERFLOW_DROP_OLDEST;
    }
    kin__flow *st;
    rc = kin__flow_make(out, &channel_flow_ops, sizeof(chan_stage), elem_size,
                        NULL,
                        &st);
    if (rc < 0)
        return rc;
    chan_stage *s = KIN__FLOW_FIELDS(chan_stage, st);
    s->fn = fn;
    s->arg = arg;
    s->capacity = o.capacity;
    s->overflow = o.overflow;
    s->undeliv = o.on_undelivered;
    s->uarg = o.undelivered_arg;
    return 0;
}

int kin_flow_debounce(kin_flow *f, int64_t timeout_ms) {
    int rc;
    kin__flow *up = kin__flow_take_over(f, "kin_flow_debounce", &rc);
    if (!up)
        return rc;
    if (timeout_ms < 0) {
        kin__flow_unref(up);
        return kin__misuse(KIN_EINVAL,
                           "kin_flow_debounce: debounce timeout should not "
                           "be negative, but was %lld",
                           (long long)timeout_ms);
    }
    if (timeout_ms == 0) { /* kotlinx: debounce(0) is the flow itself */
        *f = kin__flow_handle(up);
        return 0;
    }
    kin__flow *st;
    rc = kin__flow_make(f, &debounce_ops, sizeof(debounce_stage), up->esize,
                        up, &st);
    if (rc < 0)
        return rc;
    KIN__FLOW_FIELDS(debounce_stage, st)->timeout_ms = timeout_ms;
    return 0;
}

/* zip and combine: both upstreams are taken over, even on error. */
static int pair_op(kin_flow *f, kin_flow other, size_t out_size,
                   kin_flow_combine_fn fn, void *arg,
                   const kin__flow_ops *ops) {
    int rc;
    kin__flow *up = kin__flow_take_over(f, ops->name, &rc);
    if (!up) { /* still release other, keeping the error that says why */
        kin_error *keep = kin_error_retain(kin_last_error());
        int ignored;
        kin__flow *o = kin__flow_take_over(&other, ops->name, &ignored);
        if (o)
            kin__flow_unref(o);
        kin__error_set(keep);
        return rc;
    }
    if (!other.id) {
        kin__flow_unref(up);
        return kin__misuse(KIN_EINVAL, "%s: other is no flow (zero handle)",
                           ops->name);
    }
    kin__flow *o = kin__flow_take_over(&other, ops->name, &rc);
    if (!o) {
        kin__flow_unref(up);
        return rc;
    }
    if (!fn) {
        kin__flow_unref(o);
        kin__flow_unref(up);
        return kin__misuse(KIN_EINVAL, "%s: fn is NULL", ops->name);
    }
    kin__flow *st;
    rc = kin__flow_make(f, ops, sizeof(pair_stage), out_size, up, &st);
    if (rc < 0) {
        kin__flow_unref(o);
        return rc;
    }
    st->up2 = o;
    pair_stage *s = KIN__FLOW_FIELDS(pair_stage, st);
    s->fn = fn;
    s->arg = arg;
    return 0;
}

int kin_flow_zip(kin_flow *f, kin_flow other, size_t out_size,
                 kin_flow_combine_fn fn, void *arg) {
    return pair_op(f, other, out_size, fn, arg, &zip_ops);
}

int kin_flow_combine(kin_flow *f, kin_flow other, size_t out_size,
                     kin_flow_combine_fn fn, void *arg) {
    return pair_op(f, other, out_size, fn, arg, &combine_ops);
}
