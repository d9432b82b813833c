/*
 * produce.c — kotlinx's produce: a coroutine that sends into a channel it
 * owns. Kotlin's ProducerCoroutine closes its channel when the coroutine
 * completes (onCompleted: close(); onCancelled: close(cause)), and
 * cancelling the channel cancels the coroutine (ChannelCoroutine.cancel).
 *
 * Here: the channel record holds two references, the consumer's handle and
 * the producer. A completion handler on the producer's job closes the
 * channel with the job's final cause and drops the producer's reference;
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

static void producer_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job;
    producer *p = arg;
    kin__chan *c = p->c;
    kin__lock_acquire(&c->lock); /* our reference keeps it live */
    kin__chan_close_locked(c, kin_error_retain(cause));
    kin__chan_unref_unlock(c);
    kin__free(p);
}

int kin_produce(kin_channel *out, kin_job *job, const kin_launch_opts *lopts,
                const kin_channel_opts *copts, size_t elem_size,
                kin_produce_fn fn, void *arg) {
    if (out)
        out->id = 0;
    if (job)
        job->id = 0;
    if (!kin__running_job())
        return kin__misuse(KIN_ENOTCORO,
                           "kin_produce: called outside a coroutine");
    if (!out || !fn)
        return kin__misuse(KIN_EINVAL, "kin_produce: %s is NULL",
                           out ? "fn" : "out");
    /* Everything that can fail is allocated before the launch: once the
     * producer runs (at once, if UNDISPATCHED) it owns p until
     * producer_done, which must then be registered whatever happens. */
    producer *p = kin__malloc(sizeof *p);
    kin__node *watch = kin__calloc(1, sizeof *watch);
    if (!p || !watch) {
        kin__free(p);
        kin__free(watch);
        return kin__misuse(KIN_ENOMEM, "kin_produce: out of memory");
    }
    kin__chan *c;
    int rc = kin__chan_make(&c, elem_size, copts, "kin_produce");
    if (rc < 0) {
        kin__free(p);
        kin__free(watch);
        return rc;
    }
    *p = (producer){fn, arg, kin__chan_handle(c, true), c};
    kin_job h;
    rc = kin_launch(&h, lopts, producer_main, p);
    if (rc < 0) {
        kin__lock_acquire(&c->lock);
        kin__chan_unref_unlock(c);
        kin__free(p);
        kin__free(watch);
        return rc;
    }
    kin__lock_acquire(&c->lock);
    c->refs++;
    c->producer = h;
    kin__lock_release(&c->lock);
    /* Runs at once if the producer has already completed. */
    kin__job *j = kin__job_acquire(h, &rc); /* our handle keeps it */
    KIN__ASSERT(j);
    watch->fn = producer_done;
    watch->arg = p;
    kin__job_watch(j, h, watch);
    kin__job_unref(j);
    *out = kin__chan_handle(c, false);
    if (job)
        *job = h;
    else
        kin_job_release(h);
    return 0;
}
