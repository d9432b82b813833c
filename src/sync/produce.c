/*
 * produce.c — kotlinx's produce: a coroutine that sends into a channel it
 * owns. Kotlin's ProducerCoroutine closes its channel when the coroutine
 * completes (onCompleted: close(); onCancelled: close(cause)), and
 * cancelling the channel cancels the coroutine (ChannelCoroutine.cancel).
 *
 * Here: the channel record holds two references, the consumer's handle and
 * the producer. The producer's job carries KIN__F_PRODUCER, so its
 * finalize calls kin__producer_done, which closes the channel with the
 * job's final cause before the job is final (a receiver resumes before a
 * joiner, as in kotlinx) and drops the producer's reference; a failure the
 * close carried into the channel goes to no exception handler;
 * kin_channel_cancel (channel.c) cancels the job it names in
 * kin__chan.producer. The producer body gets its own handle (the producer
 * bit, channel.h), valid until the record is freed, so a consumer that
 * destroys its handle early does not pull the channel from under it.
 */
#include "api/launch.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "sync/channel.h"

typedef struct producer {
    kin_produce_fn fn;
    void *arg;
    kin_channel ch; /* the producer's handle */
    kin__chan *c;
} producer;

static int producer_main(void *arg) {
    producer *p = arg;
    return p->fn(p->ch, p->arg);
}

bool kin__producer_done(kin__job *j, kin_error *cause) {
    producer *p = j->arg;
    kin__chan *c = p->c;
    kin__lock_acquire(&c->lock); /* our reference keeps it live */
    bool carried = kin__chan_close_locked(c, kin_error_retain(cause));
    kin__chan_unref_unlock(c);
    kin__free(p);
    return carried;
}

int kin_produce(kin_channel *out, kin_job *job, const kin_launch_opts *lopts,
                const kin_channel_opts *copts, size_t elem_size,
                kin_produce_fn fn, void *arg) {
    if (out)
        out->id = 0;
    if (job)
        job->id = 0;
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO,
                           "kin_produce: called outside a coroutine");
    if (!out || !fn)
        return kin__misuse(KIN_EINVAL, "kin_produce: %s is NULL",
                           out ? "fn" : "out");
    /* Everything that can fail is allocated before the launch: once the
     * producer runs (at once, if UNDISPATCHED, or on another thread) it
     * owns p and the channel reference until kin__producer_done. */
    producer *p = kin__malloc(sizeof *p);
    if (!p)
        return kin__misuse(KIN_ENOMEM, "kin_produce: out of memory");
    kin__chan *c;
    int rc = kin__chan_make(&c, elem_size, copts, "kin_produce");
    if (rc < 0) {
        kin__free(p);
        return rc;
    }
    *p = (producer){fn, arg, kin__chan_handle(c, true), c};
    kin__lock_acquire(&c->lock);
    c->refs++; /* the producer's, dropped by kin__producer_done */
    kin__lock_release(&c->lock);
    kin_job h;
    kin__spawn_req rq = {"kin_produce", co->cur, co->cur, KIN__F_PRODUCER,
                         NULL};
    rc = kin__spawn(&rq, &h, lopts, producer_main, NULL, p);
    if (rc < 0) { /* it never ran: both references go */
        kin__lock_acquire(&c->lock);
        c->refs--;
        kin__chan_unref_unlock(c);
        kin__free(p);
        return rc;
    }
    /* For kin_channel_cancel (cancelling a completed job does nothing). */
    kin__lock_acquire(&c->lock);
    c->producer = h;
    kin__lock_release(&c->lock);
    *out = kin__chan_handle(c, false);
    if (job)
        *job = h;
    else
        kin_job_release(h);
    return 0;
}
