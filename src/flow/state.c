/*
 * state.c — kin_state_flow, Kotlin's MutableStateFlow: one current value,
 * set from any thread, conflated and distinct for its collectors. The
 * record, its lock and the subscriber protocol are in hot.h.
 *
 * As kotlinx's StateFlowImpl:
 *   - set with a value equal to the current one (the flow's eq, or the
 *     bytes) changes nothing and wakes nobody;
 *   - compare_and_set(expect, update) fails (0) unless the value equals
 *     expect, and succeeds (1) without a change when update equals it too;
 *   - a collector first gets the current value, then waits for a change;
 *     woken, it reads the value that is current then (a slow collector
 *     skips intermediate values) and passes it on only if it differs from
 *     the last one it passed on (A, B, A set while it was busy: nothing);
 *   - collecting never completes normally.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "flow/hot.h"

#define WHAT "state flow"
#define STACK_BUF 256 /* values up to this size are copied on the stack */

static inline kin__hot *get(kin_state_flow s, const char *who, int *rc) {
    return kin__hot_get(s.id, KIN__HOT_STATE, who, WHAT, rc);
}

/* memcmp / memcpy that accept NULL for zero-size values. */
static inline bool same_bytes(const void *a, const void *b, size_t n) {
    return n == 0 || memcmp(a, b, n) == 0;
}

static inline void copy(void *dst, const void *src, size_t n) {
    if (n)
        memcpy(dst, src, n);
}

static inline bool equal(kin_flow_equal_fn eq, void *arg, const void *a,
                         const void *b, size_t n) {
    return eq ? eq(a, b, arg) > 0 : same_bytes(a, b, n);
}

int kin_state_flow_new(kin_state_flow *out, size_t elem_size,
                       const void *initial, kin_flow_equal_fn eq,
                       void *eq_arg) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_state_flow_new: out is NULL");
    out->id = 0;
    if (!initial && elem_size)
        return kin__misuse(KIN_EINVAL, "kin_state_flow_new: initial is NULL");
    char *value = NULL;
    if (elem_size) {
        value = kin__malloc(elem_size);
        if (!value)
            return kin__misuse(KIN_ENOMEM, "kin_state_flow_new: out of memory");
        memcpy(value, initial, elem_size);
    }
    kin__hot *h = kin__hot_alloc(KIN__HOT_STATE);
    if (!h) {
        kin__free(value);
        return kin__misuse(KIN_ENOMEM, "kin_state_flow_new: out of memory");
    }
    h->esize = elem_size;
    h->value = value;
    h->eq = eq;
    h->eq_arg = eq_arg;
    out->id = kin__hot_id(h);
    kin__lock_release(&h->lock);
    return 0;
}

int kin_state_flow_destroy(kin_state_flow s) {
    int rc;
    kin__hot *h = get(s, "kin_state_flow_destroy", &rc);
    if (!h)
        return rc;
    kin__hot_kill_subs(h);
    char *value = h->value;
    h->value = NULL;
    kin__hot_free_locked(h);
    kin__free(value);
    return 0;
}

int kin_state_flow_get(kin_state_flow s, void *out, size_t size) {
    int rc;
    kin__hot *h = get(s, "kin_state_flow_get", &rc);
    if (!h)
        return rc;
    if ((rc = kin__hot_check_size(h, out, size, "kin_state_flow_get", "out")))
        return rc;
    if (size)
        memcpy(out, h->value, size);
    kin__lock_release(&h->lock);
    return 0;
}

int kin_state_flow_subscribers(kin_state_flow s) {
    int rc;
    kin__hot *h = get(s, "kin_state_flow_subscribers", &rc);
    if (!h)
        return rc;
    int n = h->nsubs;
    kin__lock_release(&h->lock);
    return n;
}

/* Stores a new value (h locked) and wakes the parked subscribers. */
static void store_locked(kin__hot *h, const void *value) {
    copy(h->value, value, h->esize);
    h->version++;
    if (h->nwaiting)
        for (kin__hot_sub *s = h->subs; s; s = s->next)
            if (s->waiting)
                kin__hot_wake_sub(h, s);
}

/* set (expect NULL) and compare_and_set with a custom equality: compares
 * a copy of the value outside the lock and retries if it changed in
 * between. h locked on entry; returns unlocked. */
static int update_eq(kin_state_flow s, kin__hot *h, const void *expect,
                     const void *value, const char *who) {
    size_t esize = h->esize;
    kin_flow_equal_fn eq = h->eq;
    void *arg = h->eq_arg;
    kin__lock_release(&h->lock);
    char buf[STACK_BUF];
    char *cur = kin__hot_buf(buf, sizeof buf, esize);
    if (!cur)
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    int rc;
    for (;;) {
        if (!(h = get(s, who, &rc)))
            break;
        uint64_t version = h->version;
        copy(cur, h->value, esize);
        kin__lock_release(&h->lock);
        bool matches = !expect || eq(cur, expect, arg) > 0;
        bool same = matches && eq(cur, value, arg) > 0;
        if (!(h = get(s, who, &rc)))
            break;
        if (h->version != version) { /* changed meanwhile: again */
            kin__lock_release(&h->lock);
            continue;
        }
        if (matches && !same)
            store_locked(h, value);
        kin__lock_release(&h->lock);
        rc = !matches ? 0 : same ? (expect ? 1 : 0) : 1;
        break;
    }
    kin__hot_buf_free(buf, cur);
    return rc;
}

static int update(kin_state_flow s, const void *expect, const void *value,
                  size_t size, const char *who) {
    int rc;
    kin__hot *h = get(s, who, &rc);
    if (!h)
        return rc;
    if ((rc = kin__hot_check_size(h, value, size, who,
                                  expect ? "update" : "value")))
        return rc;
    if (h->eq)
        return update_eq(s, h, expect, value, who);
    if (expect && !same_bytes(h->value, expect, size)) {
        kin__lock_release(&h->lock);
        return 0;
    }
    if (same_bytes(h->value, value, size)) { /* no change */
        kin__lock_release(&h->lock);
        return expect ? 1 : 0;
    }
    store_locked(h, value);
    kin__lock_release(&h->lock);
    return 1;
}

int kin_state_flow_set(kin_state_flow s, const void *value, size_t size) {
    return update(s, NULL, value, size, "kin_state_flow_set");
}

int kin_state_flow_compare_and_set(kin_state_flow s, const void *expect,
                                   const void *update_, size_t size) {
    if (!expect && size)
        return kin__misuse(KIN_EINVAL,
                           "kin_state_flow_compare_and_set: expect is NULL");
    static const char none[1];
    return update(s, expect ? expect : none, update_, size,
                  "kin_state_flow_compare_and_set");
}

/* ---- Collecting ------------------------------------------------------------ */

/* Leaves the subscriber list unless destroy already took us out. */
static void leave(kin__hot *h, kin__hot_sub *sub) {
    kin__lock_acquire(&h->lock);
    if (!sub->dead)
        kin__hot_unlink(h, sub);
    kin__lock_release(&h->lock);
}

/* The loop of kotlinx's StateFlowImpl.collect (see the top). */
static int collect_loop(kin__hot *h, kin__hot_sub *sub, char *cur, char *last,
                        kin__hot_fn fn, void *ctx) {
    kin__job *co = sub->co;
    size_t esize = h->esize;
    kin_flow_equal_fn eq = h->eq;
    void *arg = h->eq_arg;
    bool have_last = false;
    for (;;) { /* h locked here */
        if (sub->dead) {
            kin__lock_release(&h->lock);
            return kin__hot_destroyed_rc("StateFlow");
        }
        if (sub->idx == h->version) { /* nothing new: wait */
            if (kin__job_is_cancelling(co->cur)) {
                kin__hot_unlink(h, sub);
                kin__lock_release(&h->lock);
                return kin__hot_cancelled_rc(co);
            }
            kin__hot_park(h, sub);
            continue;
        }
        sub->idx = h->version;
        copy(cur, h->value, esize);
        kin__lock_release(&h->lock);
        if (kin__job_is_cancelling(co->cur)) { /* Kotlin's ensureActive */
            leave(h, sub);
            return kin__hot_cancelled_rc(co);
        }
        if (!have_last || !equal(eq, arg, last, cur, esize)) {
            int rc = fn(cur, ctx);
            if (rc < 0) {
                leave(h, sub);
                return rc;
            }
            copy(last, cur, esize);
            have_last = true;
        }
        kin__lock_acquire(&h->lock);
    }
}

/* Subscribes (h locked): the current value is new to us. buf holds two
 * values: the one read and the one passed on last. */
static int subscribe(kin__hot *h, kin__hot_sub *sub, char *buf,
                     kin__hot_fn fn, void *ctx) {
    sub->idx = h->version - 1;
    kin__hot_link(h, sub);
    return collect_loop(h, sub, buf, buf + h->esize, fn, ctx);
}

int kin__state_flow_collect(uint64_t id, kin__hot_fn fn, void *ctx,
                            const char *who) {
    return kin__hot_collect(id, KIN__HOT_STATE, WHAT, 2, subscribe, fn, ctx,
                            who);
}

int kin_state_flow_as_flow(kin_state_flow s, kin_flow *out) {
    return kin__hot_as_flow(s.id, KIN__HOT_STATE, out, kin__state_flow_collect,
                            "kin_state_flow_as_flow", WHAT,
                            "kin_flow_collect (StateFlow)");
}
