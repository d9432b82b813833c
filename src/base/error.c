/*
 * error.c — error objects, the current-error slots' API, kin_strerror and
 * the default exception handler.
 *
 * Globals: the static fallback errors (immutable, refs < 0) and the default
 * handler pair, guarded by g_handler_mu.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "kin.h"

/* ---- Static fallbacks for out of memory ---------------------------------*/

#define STATIC_ERROR(code_, type_, msg_)                                       \
    { .refs = -1, .code = code_, .type = type_, .message = msg_ }

static kin_error g_static[] = {
    STATIC_ERROR(KIN_ENOMEM, "OutOfMemoryError", "out of memory"),
    STATIC_ERROR(KIN_ECANCELED, "CancellationException", "Job was cancelled"),
    STATIC_ERROR(KIN_ETIMEDOUT, "TimeoutCancellationException", "Timed out"),
    STATIC_ERROR(KIN_EFAILED, "Failure",
                 "failure (its message was lost: out of memory)"),
};

static kin_error *static_for(int code) {
    for (size_t i = 0; i < sizeof g_static / sizeof g_static[0]; i++)
        if (g_static[i].code == code)
            return &g_static[i];
    return &g_static[0];
}

/* ---- Making and freeing -------------------------------------------------*/

kin_error *kin__error_makev(int code, const char *type, kin_error *cause,
                            const char *fmt, va_list ap) {
    if (!type)
        type = "Failure";
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int mlen = fmt ? vsnprintf(small, sizeof small, fmt, ap2) : 0;
    va_end(ap2);
    if (mlen < 0)
        mlen = 0;
    size_t tlen = strlen(type);
    kin_error *e = kin__malloc(sizeof *e + tlen + 1 + (size_t)mlen + 1);
    if (!e)
        return static_for(code);
    memset(e, 0, sizeof *e);
    atomic_init(&e->refs, 1);
    e->code = code;
    char *text = (char *)(e + 1);
    memcpy(text, type, tlen + 1);
    e->type = text;
    char *msg = text + tlen + 1;
    if (fmt && (size_t)mlen < sizeof small)
        memcpy(msg, small, (size_t)mlen + 1);
    else if (fmt)
        vsnprintf(msg, (size_t)mlen + 1, fmt, ap);
    else
        msg[0] = 0;
    e->message = msg;
    e->cause = kin_error_retain(cause);
    return e;
}

kin_error *kin__error_make(int code, const char *type, kin_error *cause,
                           const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kin_error *e = kin__error_makev(code, type, cause, fmt, ap);
    va_end(ap);
    return e;
}

kin_error *kin_error_newv(int code, const char *type, const char *fmt,
                          va_list ap) {
    if (code >= 0)
        return NULL;
    kin_error *e = kin__error_makev(code, type, NULL, fmt, ap);
    if (atomic_load_explicit(&e->refs, memory_order_relaxed) < 0)
        return NULL; /* the caller asked for a new object: report the OOM */
    return e;
}

kin_error *kin_error_new(int code, const char *type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kin_error *e = kin_error_newv(code, type, fmt, ap);
    va_end(ap);
    return e;
}

kin_error *kin_error_retain(const kin_error *ce) {
    kin_error *e = (kin_error *)ce;
    return e ? kin__error_ref(e) : NULL;
}

void kin_error_release(kin_error *e) {
    if (e)
        kin__error_unref(e);
}

void kin__error_free(kin_error *e) {
    if (e->payload_free)
        e->payload_free(e->payload);
    for (size_t i = 0; i < e->nsup; i++)
        kin_error_release(e->suppressed[i]);
    kin__free(e->suppressed);
    kin_error_release(e->cause);
    kin__free(e);
}

int kin_error_set_payload(kin_error *e, void *payload,
                          void (*free_fn)(void *)) {
    if (!e || atomic_load_explicit(&e->refs, memory_order_relaxed) < 0 ||
        e->payload || e->payload_free)
        return kin__misuse(KIN_EINVAL,
                           "kin_error_set_payload: error is NULL, static, or "
                           "already has a payload");
    e->payload = payload;
    e->payload_free = free_fn;
    return 0;
}

/* ---- Accessors ----------------------------------------------------------*/

int kin_error_code(const kin_error *e) {
    return e ? e->code : 0;
}
const char *kin_error_type(const kin_error *e) {
    return e ? e->type : "";
}
const char *kin_error_message(const kin_error *e) {
    return e ? e->message : "";
}
void *kin_error_payload(const kin_error *e) {
    return e ? e->payload : NULL;
}
const kin_error *kin_error_cause(const kin_error *e) {
    return e ? e->cause : NULL;
}
bool kin_error_is_cancellation(const kin_error *e) {
    return e && kin__is_cancel_code(e->code);
}

size_t kin_error_suppressed_count(const kin_error *ce) {
    kin_error *e = (kin_error *)ce;
    if (!e || e->refs < 0)
        return 0;
    kin__lock_acquire(&e->lock);
    size_t n = e->nsup;
    kin__lock_release(&e->lock);
    return n;
}

const kin_error *kin_error_suppressed(const kin_error *ce, size_t i) {
    kin_error *e = (kin_error *)ce;
    if (!e || e->refs < 0)
        return NULL;
    kin__lock_acquire(&e->lock);
    kin_error *r = i < e->nsup ? e->suppressed[i] : NULL;
    kin__lock_release(&e->lock);
    return r;
}

/* Suppressed lists are only appended to under this one lock. Failures
 * rarely pile up, so a single lock costs nothing measurable, and it makes
 * the cycle check below exact: nobody adds an edge while it walks. */
static kin__lock suppress_lock = KIN__LOCK_INIT;
static unsigned suppress_epoch; /* guarded by suppress_lock */

/* True if `target` is reachable from `from` through causes and suppressed
 * lists. Error objects are reference counted, so attaching an error to one
 * of its own descendants would make a cycle that is never freed: the same
 * failure object can reach two jobs in opposite orders (one rethrows an
 * awaited failure that another already suppressed). An iterative walk with
 * visit marks keeps it linear in the graph, whatever its depth. Returns
 * true (refuse) if it cannot allocate its stack. */
static bool reaches_locked(kin_error *from, kin_error *target) {
    KIN__ASSERT_HELD(&suppress_lock);
    unsigned epoch = ++suppress_epoch;
    if (epoch == 0) /* wrapped: marks from 2^32 walks ago could collide */
        epoch = ++suppress_epoch;
    size_t cap = 16, n = 0;
    kin_error **todo = kin__malloc(cap * sizeof *todo);
    if (!todo)
        return true;
    bool found = false;
    todo[n++] = from;
    while (n && !found) {
        kin_error *x = todo[--n];
        if (x == target) {
            found = true;
            break;
        }
        if (atomic_load_explicit(&x->refs, memory_order_relaxed) < 0 ||
            x->walk_mark == epoch)
            continue; /* static objects have no edges */
        x->walk_mark = epoch;
        size_t need = n + x->nsup + 1;
        if (need > cap) {
            while (cap < need)
                cap *= 2;
            kin_error **v = kin__realloc(todo, cap * sizeof *v);
            if (!v) {
                found = true;
                break;
            }
            todo = v;
        }
        if (x->cause)
            todo[n++] = x->cause;
        for (size_t i = 0; i < x->nsup; i++)
            todo[n++] = x->suppressed[i];
    }
    kin__free(todo);
    return found;
}

/* Appends e (retained) to root's list; readers hold only root->lock, so the
 * array grows under it. Out of memory drops e. */
static void append_suppressed_locked(kin_error *root, kin_error *e) {
    KIN__ASSERT_HELD(&suppress_lock);
    kin__lock_acquire(&root->lock);
    if (root->nsup == root->capsup) {
        size_t cap = root->capsup ? root->capsup * 2 : 4;
        kin_error **v = kin__realloc(root->suppressed, cap * sizeof *v);
        if (v) {
            root->suppressed = v;
            root->capsup = cap;
        }
    }
    if (root->nsup < root->capsup)
        root->suppressed[root->nsup++] = kin_error_retain(e);
    kin__lock_release(&root->lock);
}

/* A serial number that names e for the duplicate check of its copies
 * (addresses can be reused once an object is freed; serials are not). */
static uint64_t serial_locked(kin_error *e) {
    static uint64_t next_serial; /* guarded by suppress_lock */
    KIN__ASSERT_HELD(&suppress_lock);
    if (!e->serial)
        e->serial = ++next_serial;
    return e->serial;
}

/* A copy of e to attach to root when e itself would close a cycle (root is
 * already among e's causes or suppressed failures: the same failure object
 * reached two jobs in opposite orders). Kotlin attaches e anyway and lets
 * the garbage collector cope; here the copy keeps e's code, type, message
 * and every edge that does not lead back to root, so the failure is still
 * reported where it belongs and the graph stays acyclic. The payload stays
 * with e, whose destructor is its only owner. NULL when out of memory. */
static kin_error *acyclic_copy_locked(kin_error *e, kin_error *root) {
    KIN__ASSERT_HELD(&suppress_lock);
    kin_error *cause =
        e->cause && !reaches_locked(e->cause, root) ? e->cause : NULL;
    kin_error *c = kin__error_make(e->code, e->type, cause, "%s", e->message);
    if (atomic_load_explicit(&c->refs, memory_order_relaxed) < 0)
        return NULL;
    c->copy_of = serial_locked(e);
    for (size_t i = 0; i < e->nsup; i++) /* e's writers hold our lock */
        if (!reaches_locked(e->suppressed[i], root))
            append_suppressed_locked(c, e->suppressed[i]);
    return c;
}

static bool is_attached_locked(kin_error *root, kin_error *e) {
    KIN__ASSERT_HELD(&suppress_lock);
    for (size_t i = 0; i < root->nsup; i++) {
        kin_error *s = root->suppressed[i];
        if (s == e || (s->copy_of && s->copy_of == serial_locked(e)))
            return true;
    }
    return false;
}

void kin__error_add_suppressed(kin_error *root, kin_error *e) {
    if (!root || !e || root == e || kin__is_cancel_code(e->code) ||
        atomic_load_explicit(&root->refs, memory_order_relaxed) < 0)
        return;
    kin__lock_acquire(&suppress_lock);
    if (!is_attached_locked(root, e)) {
        if (!reaches_locked(e, root)) {
            append_suppressed_locked(root, e);
        } else {
            kin_error *copy = acyclic_copy_locked(e, root);
            if (copy) {
                append_suppressed_locked(root, copy);
                kin_error_release(copy);
            }
        }
    }
    kin__lock_release(&suppress_lock);
}

/* The cause is written once, under suppress_lock (which the cycle walk
 * holds), before the error is raised; readers then see it as immutable. */
int kin_error_set_cause(kin_error *e, const kin_error *cause) {
    if (!e || !cause)
        return kin__misuse(KIN_EINVAL,
                           "kin_error_set_cause: %s is NULL",
                           !e ? "the error" : "the cause");
    if (atomic_load_explicit(&e->refs, memory_order_relaxed) < 0)
        return kin__misuse(KIN_EINVAL,
                           "kin_error_set_cause: the error is a static one "
                           "(an out-of-memory stand-in)");
    kin_error *c = (kin_error *)cause;
    kin__lock_acquire(&suppress_lock);
    int rc = 0;
    if (e->cause)
        rc = 1;
    else if (c == e || reaches_locked(c, e))
        rc = 2;
    else
        e->cause = kin_error_retain(c);
    kin__lock_release(&suppress_lock);
    if (rc == 1)
        return kin__misuse(KIN_EINVAL,
                           "kin_error_set_cause: the error already has a cause");
    if (rc == 2)
        return kin__misuse(KIN_EINVAL,
                           "kin_error_set_cause: the cause already leads back "
                           "to the error (the graph must stay acyclic)");
    return 0;
}

/* ---- Current error -------------------------------------------------------*/

void kin__error_set(kin_error *e) {
    kin_error **slot = kin__error_slot();
    kin_error *old = *slot;
    *slot = e;
    kin_error_release(old);
}

const kin_error *kin_last_error(void) {
    return *kin__error_slot();
}

void kin_clear_error(void) {
    kin__error_set(NULL);
}

int kin_fail_error(kin_error *e) {
    if (!e)
        return kin__misuse(KIN_EINVAL, "kin_fail_error: error is NULL");
    int code = e->code;
    kin__error_set(e);
    return code;
}

int kin_fail(const char *type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kin_error *e = kin__error_makev(KIN_EFAILED, type, NULL, fmt, ap);
    va_end(ap);
    kin__error_set(e);
    return KIN_EFAILED;
}

int kin_fail_code(int code, const char *type, const char *fmt, ...) {
    if (code >= 0)
        return kin__misuse(KIN_EINVAL, "kin_fail_code: code %d is not negative",
                           code);
    va_list ap;
    va_start(ap, fmt);
    kin_error *e = kin__error_makev(code, type, NULL, fmt, ap);
    va_end(ap);
    kin__error_set(e);
    return code;
}

int kin__misuse(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kin_error *e = kin__error_makev(code, "KinError", NULL, fmt, ap);
    va_end(ap);
    kin__error_set(e);
    return code;
}

/* ---- Names of codes -----------------------------------------------------*/

const char *kin_strerror(int code) {
    switch (code) {
    case KIN_OK:
        return "success";
    case KIN_ECANCELED:
        return "cancelled";
    case KIN_ETIMEDOUT:
        return "timed out";
    case KIN_EFAILED:
        return "failed";
    case KIN_EINVAL:
        return "invalid argument";
    case KIN_ENOMEM:
        return "out of memory";
    case KIN_ESTALE:
        return "stale handle: the job or scope was reclaimed";
    case KIN_ENOTCORO:
        return "suspending call outside a coroutine";
    case KIN_EDEADLK:
        return "the wait could never end";
    case KIN_EALREADY:
        return "already started, or already resumed";
    case KIN_ECLOSED:
        return "scope closed";
    case KIN_ENOTASYNC:
        return "not an async job";
    case KIN_EPERM:
        return "not allowed from this context";
    case KIN_EBUSY:
        return "busy: too late, or already in use";
    case KIN_EADDRINFO:
        return "address resolution failed";
    case KIN_ENOELEM:
        return "no such element: the flow was empty";
    case KIN_EFLOW:
        return "a flow rule was broken";
    case KIN_NULL:
        return "no value (timed out)";
    default:
        break;
    }
    if (code < 0 && code > -4000) {
        const char *s = strerror(-code); /* glibc: static for known codes */
        if (s)
            return s;
    }
    return "unknown code";
}
