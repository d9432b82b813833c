/** @file
 * kin — structured concurrency for C, after kotlinx.coroutines.
 *
 * This header is the whole public API. Everything kin exports starts with
 * kin_ or KIN_.
 *
 * "DESIGN rule N" below cites the semantics contract, docs/semantics.md in
 * kin's source tree (the rules of kotlinx.coroutines that kin keeps).
 *
 * The model in one paragraph: a coroutine is a C function running on its own
 * stack. Every coroutine belongs to a job, and jobs form a tree: a coroutine
 * launched from inside another becomes its child. A parent completes only
 * after all of its children; cancelling a job cancels everything below it; a
 * child that fails cancels its parent and siblings (unless the parent is a
 * supervisor) and the failure is reported exactly once. Every function that
 * can suspend returns an int: 0, or a negative code (KIN_ECANCELED when the
 * calling coroutine was cancelled). Returning that code from a coroutine body
 * is how cancellation propagates, the way rethrowing CancellationException
 * does in Kotlin.
 *
 * ---------------------------------------------------------------------------
 * Lifetime rules (numbered so the rest of this header can cite them)
 * ---------------------------------------------------------------------------
 * @code{.unparsed}
 * L1. A kin_job or kin_scope is a small value (an index and a generation).
 *     It never dangles: once the record it names has been reclaimed, every
 *     function given it returns KIN_ESTALE (or false / NULL where the
 *     function returns a flag or a pointer). A zero handle is "no job".
 * L2. A handle that kin_launch / kin_async gave you (out != NULL) keeps its
 *     record readable — state, cause, async result — until the first of:
 *       a. kin_job_release(handle);
 *       b. the completion of the job that was current when you launched
 *          (inside a coroutine, also with kin_scope_launch: the innermost
 *          coroutine_scope / coroutine of the caller; from plain code
 *          through a scope object: that scope's close; from plain code into
 *          the global scope: never, release it yourself).
 *     This is structured lifetime, like rule L5: the code that launched can
 *     use the handle for as long as it runs. After that the handle works
 *     like a lent one (L3): usable while the job runs, stale once its record
 *     is reclaimed. Pass out == NULL when you do not need a handle; the job
 *     is then reclaimed as soon as it completes.
 * L3. Handles kin lends you (kin_current_job, kin_job_children, the job passed
 *     to handlers) are valid while that job is running; afterwards they may
 *     become stale at any moment (L1 keeps that safe).
 * L4. A job's record holds bounded memory: a scope that launches millions of
 *     children over time holds only the live ones (and those you keep, L2).
 * L5. Children may use their parent's stack memory: a coroutine_scope (and
 *     every scope function) returns only after all children launched in it
 *     have completed, so passing &local to a child launched inside it is
 *     safe, and so is &local of any frame that encloses the scope call. A
 *     coroutine's own body is different: its frame ends when the body
 *     returns, while its job still waits for its children; a child launched
 *     directly from a body must not keep pointers into that body's frame
 *     unless the body joins the child (or wraps the launches in a
 *     kin_coroutine_scope) before returning.
 * L6. (A "call that can set an error" below is one that returns a negative
 *     code, or kin_fail* / kin_clear_error; accessors such as
 *     kin_error_message, kin_job_state's success or kin_is_active do not.)
 *     Error objects returned as "borrowed" (kin_last_error, kin_job_cause,
 *     handler arguments) are valid until the next kin call in the same
 *     coroutine or thread that can set an error, or for kin_job_cause while
 *     the handle is valid; kin_error_retain keeps one longer.
 * L7. When a function that takes a callback returns an error, the callback is
 *     never called (kin_launch, kin_invoke_on_completion, ...).
 * @endcode
 *
 * ---------------------------------------------------------------------------
 * Threads
 * ---------------------------------------------------------------------------
 * A coroutine that has started stays on the thread it started on (except on
 * the Unconfined dispatcher), so its thread-locals, errno included, are the
 * same objects after every suspension point. Their values are the thread's:
 * other coroutines of that thread may change them while this one is
 * suspended, as any function call may. In an Unconfined coroutine, which can
 * change threads at a suspension point, do not keep using thread-locals
 * across one: the compiler may reuse the address of errno or the result of
 * pthread_self() computed before it (glibc declares both const).
 * Functions marked "suspends" must be called from inside a coroutine; called
 * from plain code they return KIN_ENOTCORO. Functions marked "any thread" may
 * be called from any thread, inside or outside coroutines.
 */
#ifndef KIN_H
#define KIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------ */

/** The version of this header; kin_version() gives the library's. */
/**@{*/
#define KIN_VERSION_MAJOR 0
#define KIN_VERSION_MINOR 1
#define KIN_VERSION_PATCH 0
#define KIN_VERSION_STRING "0.1.0"
/**@}*/

/* The one export macro: the library is built with hidden visibility and only
 * the declarations below are visible. */
#if defined(_WIN32)
#define KIN_EXPORT
#elif defined(__GNUC__)
#define KIN_EXPORT __attribute__((visibility("default")))
#else
#define KIN_EXPORT
#endif

#if defined(__GNUC__)
#define KIN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define KIN_PRINTF(fmt, args)
#endif

/** Returns the version of the library linked in, "MAJOR.MINOR.PATCH". */
KIN_EXPORT const char *kin_version(void);

/* ---- Result codes ---------------------------------------------------------
 * 0 is success. Every failure is negative. kin's own codes live in the range
 * below, far from -errno values, so a body may return -errno (-EIO, ...) as a
 * failure without it being mistaken for cancellation.
 */
enum {
    KIN_OK = 0,
    /** The calling coroutine (or the job awaited) was cancelled. Cancellation
     * is not a failure: returned from a body it ends that coroutine as
     * cancelled without cancelling its parent (DESIGN rule 4). */
    KIN_ECANCELED = -4001,
    /** kin_with_timeout's deadline passed. A cancellation too: returned from
     * a body it cancels that coroutine, it does not fail its parent. */
    KIN_ETIMEDOUT = -4002,
    /** A failure raised with kin_fail(); the error object says more. */
    KIN_EFAILED = -4003,
    /** A bad argument: NULL function, negative time, unknown option. */
    KIN_EINVAL = -4004,
    /** Out of memory (job record, error object, coroutine stack). */
    KIN_ENOMEM = -4005,
    /** The handle names a job or scope whose record was reclaimed (L1). */
    KIN_ESTALE = -4006,
    /** A suspending function was called outside any coroutine. */
    KIN_ENOTCORO = -4007,
    /** The wait could never end: joining or awaiting yourself or an ancestor,
     * or blocking on a scope from the thread that must run its children. */
    KIN_EDEADLK = -4008,
    /** kin_start on a job that has already started; kin_resume of a
     * suspension that is over (resumed, cancelled). */
    KIN_EALREADY = -4009,
    /** The scope object was closed; it accepts no new coroutines. Or the
     * channel was closed without a cause (kin_channel_send after
     * kin_channel_close, kin_channel_receive once it is drained). */
    KIN_ECLOSED = -4010,
    /** kin_await on a job that was not created by kin_async. */
    KIN_ENOTASYNC = -4011,
    /** The call is not allowed from this context (for example
     * kin_run_blocking from inside a coroutine). */
    KIN_EPERM = -4012,
    /** Too late or in use: configuring a pool that has started, shutting
     * down while a kin_run_blocking is running, a second on-cancel callback
     * (kin_cont_on_cancel). */
    KIN_EBUSY = -4013,
    /** kin_getaddrinfo: the name could not be resolved; the current
     * error's message says why (gai_strerror). */
    KIN_EADDRINFO = -4014,
    /** A flow with no value where one was needed: kin_flow_first,
     * kin_flow_single, kin_flow_reduce of an empty flow (Kotlin's
     * NoSuchElementException). */
    KIN_ENOELEM = -4015,
    /** A flow broke a rule: exception transparency or context preservation
     * was violated, or kin_flow_single found more than one value (Kotlin's
     * IllegalStateException / IllegalArgumentException). The error's
     * message says which. */
    KIN_EFLOW = -4016,
};

/** kin_with_timeout_or_null's result when its own deadline passed: no value.
 * Positive, because it is not an error. */
#define KIN_NULL 1

/** A readable name for a result code: kin's own codes, or strerror(-code)
 * for negative errno values. Never NULL; the string is static. */
KIN_EXPORT const char *kin_strerror(int code);

/** Propagates a failure: evaluates expr once and, if it is negative, returns
 * it from the calling function. The only control-flow macro in kin. */
#define KIN_TRY(expr)                                                          \
    do {                                                                       \
        int kin_try_rc_ = (expr);                                              \
        if (kin_try_rc_ < 0)                                                   \
            return kin_try_rc_;                                                \
    } while (0)

/* ---- Error objects ------------------------------------------------------- */

/** An error object. A failure or a cancellation carries an error object: a
 * code, a type name (what Kotlin shows as the exception's class,
 * "RuntimeException"), a message, an optional payload with its destructor,
 * an optional underlying cause, and the failures suppressed while it was
 * being handled (DESIGN rule 3). Error objects are immutable once raised,
 * except that a job that failed with one attaches its later failures to it
 * as suppressed when the job completes (not as they arrive: the family,
 * still cancelling, sees the first failure alone), as kotlinx does.
 * They are reference counted and may be read from any thread. */
typedef struct kin_error kin_error;

/** Makes a new error object with one reference owned by the caller. code must
 * be negative (KIN_EFAILED, -errno, or the application's own). type may be
 * NULL ("Failure"). Returns NULL if out of memory or code >= 0. Any thread. */
/**@{*/
KIN_EXPORT kin_error *kin_error_new(int code, const char *type, const char *fmt,
                                    ...) KIN_PRINTF(3, 4);
KIN_EXPORT kin_error *kin_error_newv(int code, const char *type,
                                     const char *fmt, va_list ap);
/**@}*/

/** Attaches a payload to an error that has not been raised yet; free_fn (may be
 * NULL) runs when the last reference goes. Returns KIN_EINVAL if e is NULL or
 * already has a payload. */
KIN_EXPORT int kin_error_set_payload(kin_error *e, void *payload,
                                     void (*free_fn)(void *));

/** Sets the underlying cause of an error that has not been raised yet
 * (Kotlin's CancellationException(message, cause), or any exception made
 * with a cause); cause is retained. Returns KIN_EINVAL if either is NULL,
 * e is static, e already has a cause, or cause already leads back to e
 * (error graphs stay acyclic). */
KIN_EXPORT int kin_error_set_cause(kin_error *e, const kin_error *cause);

/** Adds / drops a reference. Both accept NULL. Any thread. */
/**@{*/
KIN_EXPORT kin_error *kin_error_retain(const kin_error *e);
KIN_EXPORT void kin_error_release(kin_error *e);
/**@}*/

/** Accessors. They accept NULL (returning 0 / "" / NULL). */
/**@{*/
KIN_EXPORT int kin_error_code(const kin_error *e);
KIN_EXPORT const char *kin_error_type(const kin_error *e);
KIN_EXPORT const char *kin_error_message(const kin_error *e);
KIN_EXPORT void *kin_error_payload(const kin_error *e);
/**@}*/
/** The underlying cause. A child cancelled because its parent failed sees a
 * cancellation with the message "Parent job is Cancelling" (and a coroutine
 * whose own child failed sees "Job is cancelling"); its cause is that
 * failure. An application sets one with kin_error_set_cause. NULL for
 * other errors. */
KIN_EXPORT const kin_error *kin_error_cause(const kin_error *e);
/** True for cancellations (KIN_ECANCELED and KIN_ETIMEDOUT). */
KIN_EXPORT bool kin_error_is_cancellation(const kin_error *e);
/** Failures that happened while this one was being handled, each once,
 * in the order they came; each job that failed with this one attaches its
 * own later failures when it completes, so the list is complete once the
 * jobs it reached have completed (the caller of a scope function, an
 * awaiter, a handler see it complete for the job they watch).
 * Error objects are reference counted, so their graph must stay acyclic:
 * when a failure that already holds this one (among its causes or
 * suppressed failures) arrives here, a copy of it is listed instead, with
 * the same code, type and message, without the payload and without the
 * edges that lead back (kotlinx.coroutines would list the object itself and
 * make a cycle). */
/**@{*/
KIN_EXPORT size_t kin_error_suppressed_count(const kin_error *e);
KIN_EXPORT const kin_error *kin_error_suppressed(const kin_error *e, size_t i);
/**@}*/

/** Raises a failure in the calling coroutine (or thread): makes an error
 * object, makes it the current error (kin_last_error) and returns its code,
 * so a body can write `return kin_fail("IllegalStateException", "bad %d", x)`.
 * kin_fail uses KIN_EFAILED; kin_fail_code a negative code of your choice.
 * If the error object cannot be allocated a shared static one with the
 * message "out of memory" is used; the code is returned either way. */
/**@{*/
KIN_EXPORT int kin_fail(const char *type, const char *fmt, ...)
    KIN_PRINTF(2, 3);
KIN_EXPORT int kin_fail_code(int code, const char *type, const char *fmt, ...)
    KIN_PRINTF(3, 4);
/**@}*/
/** Raises a prepared error object, taking over the caller's reference.
 * Returns its code, or KIN_EINVAL for NULL. */
KIN_EXPORT int kin_fail_error(kin_error *e);

/** The current error of the calling coroutine (or of the calling thread in
 * plain code): the object behind the last negative code a kin call returned
 * there. Borrowed (L6). NULL if there is none. When a body returns a negative
 * code equal to its current error's code, that object is the body's failure;
 * otherwise kin makes a new one for the code. */
KIN_EXPORT const kin_error *kin_last_error(void);
/** Forgets the current error ("caught and handled"). */
KIN_EXPORT void kin_clear_error(void);

/* ---- Handles and callbacks ----------------------------------------------- */

/** A job: a coroutine, a scope, or a scope object's root. See L1-L3. */
typedef struct kin_job {
    uint64_t id; /**< opaque: an index and a generation (L1); 0: no job */
} kin_job;

/** A scope object: Kotlin's CoroutineScope(Job() or SupervisorJob() + handler).
 * Plain C code launches coroutines into it. */
typedef struct kin_scope {
    uint64_t id; /**< opaque: an index and a generation (L1) */
} kin_scope;

/** A coroutine body: returns 0, or a negative code (a failure, or a
 * cancellation code to end as cancelled). */
typedef int (*kin_fn)(void *arg);

/** The body of an async coroutine: stores its value in *result (it starts out
 * NULL) and returns 0, or returns a negative code. */
typedef int (*kin_async_fn)(void *arg, void **result);

/** An exception handler (Kotlin's CoroutineExceptionHandler), called with the
 * uncaught failure of a launched coroutine (DESIGN rule 7), on the thread that
 * completed it, after all its children finished. failure is borrowed (L6). It
 * must not suspend. */
typedef void (*kin_handler_fn)(kin_job job, const kin_error *failure,
                               void *arg);

/** A completion handler: cause is NULL on success, the failure or the
 * cancellation otherwise (borrowed, L6). Called once, on the thread that
 * completed the job, without kin locks held. It must not suspend. */
typedef void (*kin_completion_fn)(kin_job job, const kin_error *cause,
                                  void *arg);

/* ---- Job states (DESIGN.md section 1) ------------------------------------ */

/** A job's state, with the flags each state shows:
 * @code{.unparsed}
 *   state        is_active  is_completed  is_cancelled
 *   NEW          false      false         false   lazy, not started
 *   ACTIVE       true       false         false
 *   COMPLETING   true       false         false   body done, children left
 *   CANCELLING   false      false         true
 *   CANCELLED    false      true          true    final: cancelled or failed
 *   COMPLETED    false      true          false   final: success
 * @endcode
 */
typedef enum kin_state {
    KIN_STATE_NEW = 0,
    KIN_STATE_ACTIVE = 1,
    KIN_STATE_COMPLETING = 2,
    KIN_STATE_CANCELLING = 3,
    KIN_STATE_CANCELLED = 4,
    KIN_STATE_COMPLETED = 5,
} kin_state;

/** How a launched coroutine starts (Kotlin's CoroutineStart). */
typedef enum kin_start_mode {
    /** Queued on its dispatcher; runs when the launching coroutine suspends
     * or yields, in FIFO order. Cancelled before it runs, its body never
     * runs. */
    KIN_START_DEFAULT = 0,
    /** Created NEW; starts on kin_start, kin_join or kin_await. Cancelled
     * before that, it completes as cancelled without running. */
    KIN_START_LAZY = 1,
    /** Like DEFAULT, but its body runs even if it is cancelled before it
     * starts (the cancellation shows at its first suspension point). */
    KIN_START_ATOMIC = 2,
    /** Runs at once on the caller's thread, inside kin_launch, until its first
     * suspension; then kin_launch returns. */
    KIN_START_UNDISPATCHED = 3,
} kin_start_mode;

/** A dispatcher decides which thread runs a coroutine (see "Dispatchers"). */
typedef struct kin_dispatcher kin_dispatcher;

/** Options for kin_launch / kin_async; all-zero (or a NULL pointer) means the
 * defaults. Set only what you need, for example
 *   &(kin_launch_opts){ .start = KIN_START_LAZY, .name = "sync" } */
typedef struct kin_launch_opts {
    /** How it starts; 0 is KIN_START_DEFAULT. */
    kin_start_mode start;
    /** Where it runs; NULL inherits the parent's (a scope object's, for
     * kin_scope_launch; Default for the global scope). */
    kin_dispatcher *dispatcher;
    /** For messages and the dump; copied (up to 63 bytes). Default
     * "coroutine". Messages show it as name#id. */
    const char *name;
    /** Stack size in bytes, rounded up to whole pages; 0 means the default
     * (128 KiB, or the environment variable KIN_STACK_SIZE). */
    size_t stack_size;
    /** Exception handler for this coroutine and, inherited, its children.
     * NULL inherits the parent's. */
    /**@{*/
    kin_handler_fn handler;
    void *handler_arg;
    /**@}*/
    /** kin_async only: destructor for the result value, run when the job's
     * record is reclaimed (L2). */
    void (*result_free)(void *result);
    /** An explicit parent (Kotlin's launch(job)): any job handle (a
     * coroutine, a scope's job, a kin_job_new job, a deferred). Zero: the
     * current job (kin_launch) or the scope's root (kin_scope_launch). The
     * new coroutine still takes its dispatcher and exception handler from
     * the caller's context (the current job, or the scope), as Kotlin's
     * context inheritance does. A parent that has already completed gives
     * a child born cancelled ("Parent job is Completed"). */
    kin_job parent;
    /** No parent at all (Kotlin's launch(NonCancellable) / launch(Job())
     * with a root): a root that cancellation of the caller does not reach;
     * it runs on the caller's dispatcher unless one is given. Its handle is
     * still owned as L2 says. Not together with parent. */
    bool no_parent;
} kin_launch_opts;

/* ---- Running ------------------------------------------------------------- */

/** Runs fn(arg) as a coroutine on the calling thread, which becomes the event
 * loop (Kotlin's runBlocking), and returns when it and all its children have
 * completed. Returns fn's result: 0, or its failure or cancellation code, with
 * the error object in kin_last_error() on this thread.
 * Before it returns, the coroutines of other trees already queued on this
 * loop (for example global-scope coroutines dispatched to it) run once
 * each, in queue order, up to their next suspension, as kotlinx's event loop
 * runs its queued tasks when runBlocking shuts it down. What they queue
 * meanwhile (a yield, a wake-up, a launch) and the loop's timers (their
 * delays), due or not, are not waited for: they wait for the thread's next
 * loop (kin_run_blocking again; kotlinx moves them to another thread, but a
 * coroutine that has started stays on its thread).
 * Errors: KIN_EINVAL (fn NULL), KIN_EPERM (called from inside a coroutine:
 * that would block the loop the caller runs on; use kin_coroutine_scope),
 * KIN_ENOMEM. Blocks the calling thread; may be called again afterwards. */
KIN_EXPORT int kin_run_blocking(kin_fn fn, void *arg);

/** Like kin_run_blocking, with virtual time on this thread's loop (Kotlin's
 * runTest): when no coroutine of the loop can run, its clock jumps to the
 * next timer at once, so delays and timeouts take no real time and fire in
 * order (deadline, then arming order); kin_current_time reads that clock.
 * Only this loop's timers are virtual: coroutines on Default or IO wait in
 * real time, and virtual time may run ahead of them (as in
 * kotlinx-coroutines-test), unless kin_run_blocking_opts brings them onto
 * the test loop (kin_run_opts.test_default, test_io). The kin_test_*
 * functions step the clock by hand. Setting the environment variable
 * KIN_VIRTUAL_TIME=1 makes kin_run_blocking behave this way, to test whole
 * programs. Same errors as kin_run_blocking. */
KIN_EXPORT int kin_run_test(kin_fn fn, void *arg);

/** Options for kin_run_blocking_opts; all-zero (or NULL) means the defaults
 * of kin_run_blocking. */
typedef struct kin_run_opts {
    /** Exception handler of the root coroutine, inherited by every
     * coroutine it launches (Kotlin's runBlocking(handler)): failures that
     * reach no parent (children of a supervisor, global launches inherit
     * nothing) go here instead of the default handler. */
    kin_handler_fn handler;
    void *handler_arg; /**< passed to handler */
    /** Name of the root coroutine (CoroutineName), for messages and the
     * dump; copied (up to 63 bytes). Default "run_blocking". */
    const char *name;
    /** Virtual time, as kin_run_test. */
    bool virtual_time;
    /** A test dispatcher for Default (kotlinx-coroutines-test's
     * StandardTestDispatcher, injected where the code under test would use
     * Dispatchers.Default): while this loop runs, every coroutine
     * dispatched to Default (launched on it, inheriting it from a scope
     * object, or a kin_with_context block) runs on this loop's thread
     * instead, queued in FIFO order with the loop's own coroutines and,
     * with virtual_time, under its clock; so a test with Default
     * coroutines runs the same way every time. kin_dispatcher_current and
     * kin_dispatcher_name still say "Default"; a switch between the loop's
     * coroutines and them is still a dispatch (kin_with_context queues its
     * block). Process-wide, like Kotlin's Dispatchers.setMain: one loop at
     * a time (another gets KIN_EBUSY); coroutines made meanwhile stay on
     * this thread, later ones go to the real pool. What stays real:
     * threads the program creates itself, blocking system calls (they
     * block the test loop: everything waits), fds (a wait on an fd is a
     * real wait, during which virtual time runs at real speed), and work
     * on dispatchers not redirected. */
    bool test_default;
    /** The same for IO (a blocking call in an IO coroutine then blocks the
     * test loop). */
    bool test_io;
} kin_run_opts;

/** kin_run_blocking with options (Kotlin's runBlocking(handler +
 * CoroutineName(..))). Same results and errors, plus KIN_ENOMEM for the
 * name and KIN_EBUSY (test_default or test_io while another thread's loop
 * runs with them). kin_run_blocking, kin_run_test and this return
 * KIN_EBUSY on a thread that hosts Main in its own event loop
 * (kin_main_attach). */
KIN_EXPORT int kin_run_blocking_opts(const kin_run_opts *opts, kin_fn fn,
                                     void *arg);

/** The current time of the calling coroutine's clock in milliseconds: the
 * virtual time since kin_run_test began inside one (kotlinx's
 * TestScope.currentTime: 0 at the start, moved only by the loop), else the
 * monotonic clock. In plain code, the calling thread's loop decides (a
 * completion handler run by a kin_run_test loop reads virtual time). Any
 * thread. */
KIN_EXPORT int64_t kin_current_time(void);

/** @name Testing: controlling virtual time (kotlinx-coroutines-test)
 * A kin_run_test loop moves its clock on by itself whenever nothing can run
 * (runTest's automatic advance). These let the test body (or any coroutine
 * running on that loop) step it by hand, as TestScope's advanceTimeBy,
 * advanceUntilIdle and runCurrent do. Each suspends the caller while the
 * loop runs the other coroutines, and returns when the loop has done what
 * it says. Ordering is the loop's: FIFO, timers by (deadline, arming
 * order), DESIGN rule 11.
 * Errors (each with a message): KIN_ENOTCORO (plain code), KIN_EPERM (the
 * calling coroutine's loop has no virtual time: kin_run_blocking, a Default
 * or IO thread), KIN_EINVAL (ms < 0), KIN_EBUSY (another coroutine of the
 * loop is inside one of these calls), KIN_ECANCELED (the caller was
 * cancelled, before or during the wait; the loop then goes on as usual).
 * Coroutines on threads the loop does not run (real Default or IO workers,
 * without kin_run_opts.test_default / test_io) are not waited for: "idle"
 * is this loop's idea. */
/**@{*/
/** advanceTimeBy(ms): runs every coroutine and timer due before
 * kin_current_time() + ms, moving the clock to each timer's time as it
 * fires, then sets the clock to exactly that moment. Timers due at that
 * very moment have not run yet when it returns (kotlinx >= 1.6): they run
 * at the caller's next suspension, or with kin_test_run_current. */
KIN_EXPORT int kin_test_advance_time_by(int64_t ms);
/** advanceUntilIdle(): runs until nothing is left to run, moving the clock
 * through every timer; returns with the clock at the last one. Like
 * kotlinx's, it does not return while a coroutine keeps arming timers (a
 * ticker that never stops). */
KIN_EXPORT int kin_test_advance_until_idle(void);
/** runCurrent(): runs what can run at the current moment (queued
 * coroutines, timers due now, and what they make ready meanwhile) without
 * moving the clock. */
KIN_EXPORT int kin_test_run_current(void);
/**@}*/

/* ---- Builders ------------------------------------------------------------ */

/** Launches fn(arg) as a new coroutine, a child of the current job (Kotlin's
 * launch). It is queued (see kin_start_mode) on its dispatcher: the one in
 * opts, else the parent's. If out
 * is not NULL it receives a handle (L2). Does not suspend (except with
 * KIN_START_UNDISPATCHED, which runs the child until it first suspends).
 * Errors (fn never runs, *out is zeroed): KIN_ENOTCORO (called outside a
 * coroutine; use kin_scope_launch), KIN_EINVAL (fn NULL, bad start mode),
 * KIN_ENOMEM. If the parent is already cancelling, the child is created
 * cancelled and its body never runs (unless ATOMIC), as in Kotlin. */
KIN_EXPORT int kin_launch(kin_job *out, const kin_launch_opts *opts, kin_fn fn,
                          void *arg);

/** Like kin_launch, for a coroutine that produces a value (Kotlin's async).
 * Its failure is kept for kin_await and, in a non-supervisor parent, also
 * cancels the parent (DESIGN rule 6); it never reaches a handler. */
KIN_EXPORT int kin_async(kin_job *out, const kin_launch_opts *opts,
                         kin_async_fn fn, void *arg);

/** Starts a LAZY job. Returns 0, or KIN_EALREADY if it had already started
 * (or completed), KIN_EINVAL / KIN_ESTALE for a bad handle. Any thread. */
KIN_EXPORT int kin_start(kin_job job);

/** @name Waiting
 * Every wait is a suspension point: if the calling coroutine is cancelled it
 * returns KIN_ECANCELED at once, and after resuming it returns KIN_ECANCELED
 * if it was cancelled meanwhile, even when what it waited for is ready
 * (prompt cancellation, DESIGN rule 16). One exception, as in kotlinx:
 * kin_await of a job that has already completed returns its outcome without
 * checking the caller (kin_join of a completed job does check). Each
 * suspends; inside a coroutine only.
 */
/**@{*/

/** Waits until job completes, however it ends; starts it if it is LAZY.
 * Returns 0 (also when the job failed or was cancelled: read the outcome with
 * kin_job_cause), KIN_ECANCELED if the caller is cancelled (also when the
 * job has already completed; compare kin_await), KIN_EDEADLK for
 * the caller's own job or an ancestor, KIN_ESTALE / KIN_EINVAL for bad
 * handles, KIN_ENOTCORO outside a coroutine. */
KIN_EXPORT int kin_join(kin_job job);

/** Waits for an async job and gives its value: returns 0 and stores the value
 * in *result (result may be NULL); or returns the job's failure code with the
 * failure as the current error; or KIN_ECANCELED if the job was cancelled or
 * the caller is cancelled. Every awaiter gets the same value or the same error
 * object. A wait that ends in the job's failure reports that failure even if
 * the caller was cancelled meanwhile. If the job has already completed when
 * kin_await is called, its value or its failure (or its cancellation) is
 * returned at once without checking whether the caller is cancelled, as
 * kotlinx's await does; kin_join differs here: on a completed job it still
 * returns KIN_ECANCELED to a cancelled caller, as kotlinx's join does.
 * Starts a LAZY job. Errors as kin_join, plus KIN_ENOTASYNC for a job not
 * made by kin_async. */
KIN_EXPORT int kin_await(kin_job job, void **result);

/** kin_cancel(job, NULL) then kin_join(job). */
KIN_EXPORT int kin_cancel_and_join(kin_job job);

/** Waits for all n jobs. Returns 0, KIN_ECANCELED, or the first handle error
 * (checked before waiting, nothing waited on then). jobs may be NULL if n==0. */
KIN_EXPORT int kin_join_all(const kin_job *jobs, size_t n);

/** Waits for n async jobs and stores their values in results[0..n) (results
 * may be NULL). Returns as soon as one of them fails, with that failure (the
 * first to fail in time); does not cancel the others. */
KIN_EXPORT int kin_await_all(const kin_job *jobs, size_t n, void **results);
/**@}*/

/* ---- Cancellation -------------------------------------------------------- */

/** Requests cancellation of job and all its descendants (cooperative: each
 * sees it at its next suspension point or kin_is_active check). cause may be
 * NULL ("Job was cancelled"); otherwise it must be a cancellation
 * (kin_error_is_cancellation) and kin takes over the caller's reference, even
 * on error. Returns 0 (also if the job had already completed), KIN_EINVAL
 * (a bad handle, or a cause that is not a cancellation), KIN_ESTALE. Does
 * not suspend; any thread. */
KIN_EXPORT int kin_cancel(kin_job job, kin_error *cause);

/** True while the current job is active (not cancelling, not completed).
 * Outside a coroutine: false. Does not suspend. */
KIN_EXPORT bool kin_is_active(void);

/** Returns KIN_ECANCELED if the current job is cancelling (with the
 * cancellation as the current error), else 0; KIN_ENOTCORO outside a
 * coroutine. Does not suspend. */
KIN_EXPORT int kin_ensure_active(void);

/** Runs fn(arg) in place in a section that cancellation does not reach
 * (Kotlin's withContext(NonCancellable)): suspension points inside it work
 * even if the calling coroutine is cancelled, so cleanup can wait. Children
 * launched inside are waited for. Returns fn's result. Suspends. */
KIN_EXPORT int kin_non_cancellable(kin_fn fn, void *arg);

/* ---- Dispatchers --------------------------------------------------------- */

/** The four dispatchers:
 * @code{.unparsed}
 * Default     one worker thread per core (KIN_DEFAULT_THREADS or
 *             kin_dispatcher_set_threads), each with its own run queue; idle
 *             workers steal coroutines that have not started yet. For CPU
 *             work. Blocking in a system call here blocks that worker and the
 *             coroutines that started on it: use IO for blocking calls.
 * IO          an elastic pool for blocking calls (files, databases, a
 *             blocking getaddrinfo): grows while calls block, up to 64
 *             threads (kin_dispatcher_set_threads), shrinks when idle.
 * Main        the loop of the first thread that ran kin_run_blocking (or
 *             the program's own event loop: kin_main_attach); a
 *             coroutine dispatched to it from another thread runs there (it
 *             waits in the queue while that thread is not in its loop;
 *             what is queued when a kin_run_blocking ends runs before it
 *             returns).
 * Unconfined  starts in the caller's thread, and after a suspension continues
 *             in the thread that resumed it (if that thread runs kin; while a
 *             timer of its own is pending, as in kin_delay or
 *             kin_with_timeout, it stays where the timer is).
 * @endcode
 * A coroutine that has started stays on its thread (except Unconfined), so
 * thread-locals and errno stay valid across suspension points.
 * The dispatchers are process-wide objects: the pointers stay valid for the
 * life of the process. The pools start on first use.
 */
/**@{*/
KIN_EXPORT kin_dispatcher *kin_dispatcher_default(void);
KIN_EXPORT kin_dispatcher *kin_dispatcher_io(void);
KIN_EXPORT kin_dispatcher *kin_dispatcher_main(void);
KIN_EXPORT kin_dispatcher *kin_dispatcher_unconfined(void);
/**@}*/

/** The dispatcher of the calling coroutine; NULL in plain code. Inside a
 * kin_run_blocking on a thread other than Main, a dispatcher of that loop. */
KIN_EXPORT kin_dispatcher *kin_dispatcher_current(void);

/** "Default", "IO", "Main", "Unconfined" or "run_blocking" (another thread's
 * loop); "" for NULL. */
KIN_EXPORT const char *kin_dispatcher_name(const kin_dispatcher *d);

/** Sets the size of Default (before it starts: else KIN_EBUSY; overrides
 * KIN_DEFAULT_THREADS) or the thread limit of IO (any time). n from 1 to
 * 1024, else KIN_EINVAL; other dispatchers: KIN_EINVAL. Any thread. */
KIN_EXPORT int kin_dispatcher_set_threads(kin_dispatcher *d, int n);

/** Runs fn(arg) on dispatcher d as a child of the current job and returns its
 * result (Kotlin's withContext): 0, or its failure or cancellation code with
 * the error object as the current error. Cancelling the caller cancels the
 * block; the block's failure comes back as the return value (DESIGN rule
 * 14). If the caller already runs on d (or d is Unconfined) the block runs in
 * place, as kin_coroutine_scope does. A caller that is already cancelled
 * gets its cancellation at once and the block never runs, on any
 * dispatcher (kotlinx checks ensureActive() first). On another
 * dispatcher the way back is a suspension point too: a caller cancelled
 * before it resumes gets its cancellation even if the block succeeded
 * (prompt cancellation, DESIGN rule 16), but a block failure is still
 * returned. The caller's stack memory stays valid for the block (L5). Suspends. Errors: KIN_EINVAL (d or
 * fn NULL), KIN_ENOTCORO, KIN_ECLOSED (d shut down), KIN_ENOMEM. */
KIN_EXPORT int kin_with_context(kin_dispatcher *d, kin_fn fn, void *arg);

/** @name Hosting Main in the program's own event loop
 * A program whose main thread already runs an event loop (its own poll or
 * epoll loop, GLib, libuv, SDL, a toolkit) makes that loop Main's, as
 * Android's Looper is Dispatchers.Main: coroutines dispatched to
 * kin_dispatcher_main() (a scope object with .dispatcher =
 * kin_dispatcher_main(), the viewModelScope pattern) then run on that
 * thread, between the host's own events, and never concurrently with its
 * callbacks. The host's loop, each turn:
 * @code{.unparsed}
 *   int t = kin_main_timeout_ms();     // 0, ms to kin's next timer, or -1
 *   wait for kin_main_fd() readable, the host's own events, at most t ms
 *   kin_main_run_ready();              // never blocks
 * @endcode
 * kin_main_fd() becomes readable when another thread queues work on Main
 * (a wake-up, a kin_with_context block coming back, a launch) or when an
 * fd a Main coroutine waits on is ready. Work made by the host thread's own
 * calls (a kin_scope_launch from a host callback) and kin's timers are told
 * by kin_main_timeout_ms, which must therefore be asked before each wait
 * (libuv's uv_backend_fd / uv_backend_timeout contract for an embedded
 * loop; GLib's GSource prepare, libuv's uv_prepare_t). All of them are
 * called in plain code on the attached thread.
 * Common errors: KIN_EPERM with a message for a call from inside a
 * coroutine, from a thread that is not the attached one, or when no thread
 * is attached. */
/**@{*/
/** Makes the calling thread's event loop the host of Main. Main must be
 * free or already this thread's: Main belongs to the first thread that runs
 * kin_run_blocking or kin_main_attach, for the life of the process.
 * Coroutines dispatched to Main before are queued for the first
 * kin_main_run_ready. Returns 0; KIN_EALREADY (this thread is already
 * attached); KIN_EBUSY (Main belongs to another thread: it ran
 * kin_run_blocking first or is attached; or, built with
 * -DKIN_POLLER=io_uring, this thread's loop already waits for fds in an
 * io_uring ring, which has no fd for the host to wait on: a kin_run_blocking
 * on it waited on an fd. Attach before the thread's first fd wait: a hosted
 * loop's fd waits always use an epoll); KIN_EPERM (inside a coroutine, or
 * while this thread runs a kin loop: a completion handler inside
 * kin_run_blocking); KIN_ENOMEM (no memory or no fd for the epoll). While
 * attached, kin_run_blocking on this thread returns KIN_EBUSY;
 * kin_scope_close from a host callback blocks it, running Main's work
 * meanwhile (kin_scope_close_nowait does not wait). */
KIN_EXPORT int kin_main_attach(void);
/** The fd to wait on for reading (an epoll fd: poll, epoll, select, libuv's
 * uv_poll_t, GLib's g_unix_fd_add all take it). Valid until
 * kin_main_detach; do not read or close it. Returns it (>= 0) or KIN_EPERM. */
KIN_EXPORT int kin_main_fd(void);
/** How long the host may wait before calling kin_main_run_ready: 0 if
 * Main has work now (coroutines queued, a timer due), else the milliseconds
 * to its next timer (rounded up: never early), or -1 if only kin_main_fd
 * can bring work (wait without a timeout, as poll(2)'s -1). Ask it right
 * before each wait: work queued afterwards by another thread makes the fd
 * readable. KIN_EPERM (< -1) for misuse. */
KIN_EXPORT int kin_main_timeout_ms(void);
/** Runs what is ready on Main, without blocking: fires the timers that are
 * due, takes work queued by other threads and fds that are ready, then runs
 * each coroutine queued at that moment once, up to its next suspension.
 * What they queue meanwhile (a launch, a yield, a wake-up) waits for the
 * next call, which kin_main_timeout_ms then asks for at once (0), so a
 * coroutine that keeps yielding cannot starve the host. Returns how many
 * coroutines ran (>= 0); KIN_EPERM (not the attached thread, inside a
 * coroutine, or from a completion handler run by this call). */
KIN_EXPORT int kin_main_run_ready(void);
/** Ends the hosting: Main stays this thread's, and its coroutines that have
 * not finished wait for the thread's next kin_main_attach or
 * kin_run_blocking (cancel their scopes before detaching to end them).
 * Returns 0; KIN_EPERM as above (also from a completion handler run by
 * kin_main_run_ready). */
KIN_EXPORT int kin_main_detach(void);
/**@}*/

/** Shuts kin's thread pools down: cancels every root (scope objects not yet
 * closed, global-scope coroutines), waits for them to complete, then stops
 * and joins the Default and IO threads and frees what they held. Afterwards
 * dispatching to Default or IO fails with KIN_ECLOSED. Plain code only
 * (KIN_EPERM in a coroutine); KIN_EBUSY while a kin_run_blocking runs on
 * another thread. Without it, kin stops idle pool threads at exit; if
 * coroutines are still alive then, they are abandoned like daemon threads:
 * their cleanup does not run. */
KIN_EXPORT int kin_shutdown(void);

/* ---- Suspension ---------------------------------------------------------- */

/** Suspends the calling coroutine for ms milliseconds. Returns 0,
 * KIN_ECANCELED, KIN_EINVAL (ms < 0), KIN_ENOTCORO. ms == 0 returns 0 at
 * once, without suspending and without checking cancellation (as kotlinx's
 * delay(0)); use kin_yield or kin_ensure_active for a check. */
KIN_EXPORT int kin_delay(int64_t ms);

/** Lets the other queued coroutines of this thread run, then continues.
 * Returns 0, KIN_ECANCELED, KIN_ENOTCORO. */
KIN_EXPORT int kin_yield(void);

/** @name Scope functions
 * Each runs fn(arg) in place, in the calling coroutine, inside a new job that
 * is a child of the current one, and returns only when fn has returned and
 * every coroutine launched inside has completed (L5). They hand their failure
 * back to the caller as the return value (with the error object as the
 * current error) instead of cancelling the caller (DESIGN rule 14). All
 * suspend; inside a coroutine only (KIN_ENOTCORO), fn non-NULL (KIN_EINVAL).
 */
/**@{*/

/** A child failure cancels the scope and its other children; returns the
 * first failure (a real failure beats a cancellation, rule 13). */
KIN_EXPORT int kin_coroutine_scope(kin_fn fn, void *arg);

/** A child failure cancels only that child (it goes to the child's handler);
 * the scope returns fn's own result. */
KIN_EXPORT int kin_supervisor_scope(kin_fn fn, void *arg);

/** Like kin_coroutine_scope, but the block is cancelled after ms milliseconds
 * and then KIN_ETIMEDOUT is returned, with an error of type
 * "TimeoutCancellationException" and message "Timed out waiting for <ms> ms"
 * — even if the block swallowed the cancellation and returned 0 (rule 15).
 * In a named coroutine the message is
 * "Coroutine \"<name>\" timed out waiting for <ms> ms", as in kotlinx 1.11:
 * the name is that of the innermost enclosing coroutine or scope object
 * that was given one (kin_launch_opts.name, kin_scope_opts.name), inherited
 * like Kotlin's CoroutineName.
 * A timeout is a cancellation of the block, distinct from a cancellation of
 * the caller (which gives KIN_ECANCELED). ms <= 0 never runs the block and
 * returns KIN_ETIMEDOUT ("Timed out immediately"). */
KIN_EXPORT int kin_with_timeout(int64_t ms, kin_fn fn, void *arg);

/** Like kin_with_timeout but its own timeout returns KIN_NULL ("no value")
 * instead of KIN_ETIMEDOUT (also for ms <= 0, without running the block). A
 * timeout of a nested kin_with_timeout that reaches it is returned as
 * KIN_ETIMEDOUT, never turned into KIN_NULL. */
KIN_EXPORT int kin_with_timeout_or_null(int64_t ms, kin_fn fn, void *arg);
/**@}*/

/* ---- Scope objects ------------------------------------------------------- */

/** Options for kin_scope_new; all-zero (or a NULL pointer) means the
 * defaults. A scope object is Kotlin's CoroutineScope(Job() or
 * SupervisorJob() + handler + dispatcher): a root job that plain C code (or
 * a coroutine) launches into. Its coroutines are not children of the caller;
 * they run on the scope's dispatcher (Default unless
 * kin_scope_opts.dispatcher says otherwise). */
typedef struct kin_scope_opts {
    bool supervisor;            /**< SupervisorJob() instead of Job() */
    kin_dispatcher *dispatcher; /**< for its coroutines; NULL: Default */
    kin_handler_fn handler; /**< inherited by every coroutine of the scope */
    void *handler_arg;      /**< passed to handler */
    const char *name;       /**< copied (up to 63 bytes); default "scope" */
} kin_scope_opts;

/** Makes a scope object; opts may be NULL. Returns 0, KIN_EINVAL (out NULL),
 * KIN_ENOMEM. The scope stays usable until kin_scope_close. Any thread. */
KIN_EXPORT int kin_scope_new(kin_scope *out, const kin_scope_opts *opts);

/** The global scope (Kotlin's GlobalScope): never cancelled or closed. Its
 * coroutines are roots on Default (unless launched with a dispatcher);
 * handles taken from plain code must be released. */
KIN_EXPORT kin_scope kin_global_scope(void);

/** Launch / async into a scope object; as kin_launch / kin_async otherwise.
 * Errors: KIN_ESTALE / KIN_ECLOSED for a closed scope or a dispatcher that
 * was shut down, plus those of kin_launch. A cancelled (not closed) scope
 * creates the coroutine cancelled, as Kotlin does. Any thread. */
/**@{*/
KIN_EXPORT int kin_scope_launch(kin_scope scope, kin_job *out,
                                const kin_launch_opts *opts, kin_fn fn,
                                void *arg);
KIN_EXPORT int kin_scope_async(kin_scope scope, kin_job *out,
                               const kin_launch_opts *opts, kin_async_fn fn,
                               void *arg);
/**@}*/

/** The scope's root job, for kin_join, kin_job_children, the flags (L3). */
KIN_EXPORT kin_job kin_scope_job(kin_scope scope);

/** True while the scope is active (not cancelled). False for bad handles. */
KIN_EXPORT bool kin_scope_is_active(kin_scope scope);

/** CoroutineScope.ensureActive(): 0 while the scope is active, else
 * KIN_ECANCELED with its cancellation as the current error; KIN_ESTALE /
 * KIN_EINVAL for bad handles (the global scope is always active). Any
 * thread. */
KIN_EXPORT int kin_scope_ensure_active(kin_scope scope);

/** Cancels the scope and every coroutine in it; cause as kin_cancel. The scope
 * stays valid (new launches are created cancelled) until closed. Any thread.*/
KIN_EXPORT int kin_scope_cancel(kin_scope scope, kin_error *cause);

/** Cancels the scope (if not yet), waits for all its coroutines to complete
 * and releases it and every handle owned by it (L2); afterwards the handle is
 * stale. From a coroutine it suspends (uncancellably: the children must
 * finish); from plain code it blocks, running this thread's loop meanwhile
 * (in case the scope's coroutines run on it).
 * Returns 0, KIN_ESTALE, KIN_EINVAL (the global scope), KIN_EDEADLK (called
 * from one of the scope's own coroutines). */
KIN_EXPORT int kin_scope_close(kin_scope scope);

/** kin_scope_close without the wait, for a scope tied to a lifecycle
 * (Android's viewModelScope, cancelled in onCleared): cancels the scope (if
 * not yet) and gives the handle up at once: launches into it fail with
 * KIN_ESTALE from now on (as do a second close and, once the record is
 * reclaimed, every call). The coroutines finish their cleanup as their dispatchers
 * run them (a Main scope in a hosted loop: in the next kin_main_run_ready
 * calls); the handles the scope owned (L2) and its record are released
 * when the last one has completed. Returns 0, KIN_ESTALE (already closed),
 * KIN_EINVAL (the global scope, or not a scope). Any thread, also from
 * the scope's own coroutines, never blocks. */
KIN_EXPORT int kin_scope_close_nowait(kin_scope scope);

/* ---- Jobs ------------------------------------------------------------------ */

/** The current job: the innermost scope or coroutine of the calling coroutine
 * (L3). A zero handle outside coroutines. */
KIN_EXPORT kin_job kin_current_job(void);

/** The job's state (kin_state, >= 0), or KIN_EINVAL / KIN_ESTALE. Any thread.*/
KIN_EXPORT int kin_job_state(kin_job job);

/** The flags of the state table above; false for bad handles. Any thread. */
/**@{*/
KIN_EXPORT bool kin_job_is_active(kin_job job);
KIN_EXPORT bool kin_job_is_completed(kin_job job);
KIN_EXPORT bool kin_job_is_cancelled(kin_job job);
/**@}*/

/** The final cause of a completed job: NULL on success, the failure or the
 * cancellation otherwise. NULL too while it has not completed, and for bad
 * handles. Borrowed: valid while the handle is (L2). Any thread. */
KIN_EXPORT const kin_error *kin_job_cause(kin_job job);

/** Copies the job's display name ("name#id") into buf (always terminated).
 * Returns the full length, or KIN_EINVAL / KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_job_name(kin_job job, char *buf, size_t len);

/** Stores up to cap handles (L3) of the job's children that have not yet
 * completed into out, in launch order, and returns how many there are (which
 * may exceed cap); KIN_EINVAL / KIN_ESTALE for bad handles. Any thread. */
KIN_EXPORT int kin_job_children(kin_job job, kin_job *out, size_t cap);

/** Calls fn(job, cause, arg) once when job completes (at once, in the caller,
 * if it already has). Returns 0, KIN_EINVAL, KIN_ESTALE, KIN_ENOMEM (L7).
 * Any thread. */
KIN_EXPORT int kin_invoke_on_completion(kin_job job, kin_completion_fn fn,
                                        void *arg);

/** Gives up a handle from kin_launch / kin_async before its owner completes
 * (L2). Returns 0, KIN_EINVAL, KIN_ESTALE (already released, or not a handle
 * you own). The job itself keeps running. Any thread. */
KIN_EXPORT int kin_job_release(kin_job job);

/** The parent of a job as a lent handle (L3) in *parent: zero for a root
 * (a scope object, a kin_run_blocking or global-scope coroutine, a
 * kin_job_new root), for a job born cancelled under a completed parent
 * (it stands alone), and for a job that has completed (kotlinx disposes
 * the parent handle at completion; its parent may be gone). Kotlin's
 * Job.parent. Returns 0, KIN_EINVAL (parent
 * NULL or a bad handle), KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_job_parent(kin_job job, kin_job *parent);

/** Cancels every child of job, not job itself (Kotlin's cancelChildren).
 * cause as kin_cancel (NULL or a cancellation; taken over even on error).
 * Returns 0, KIN_EINVAL, KIN_ESTALE, KIN_ENOMEM. Does not suspend; any
 * thread. */
KIN_EXPORT int kin_job_cancel_children(kin_job job, kin_error *cause);

/** Kotlin's Job.ensureActive(): 0 while job is active (ACTIVE or
 * COMPLETING); KIN_ECANCELED once it is cancelling, cancelled or completed,
 * with a cancellation as the current error (its own cancellation, or "Job
 * has completed normally"); KIN_EFAILED with an IllegalStateException ("Job
 * is still new") for a lazy job not yet started; KIN_EINVAL / KIN_ESTALE for
 * bad handles. Does not suspend; any thread. */
KIN_EXPORT int kin_job_ensure_active(kin_job job);

/* ---- Hand-made jobs and deferreds ---------------------------------------- */

/** Options for kin_job_new and kin_deferred_new; all-zero (or NULL) means a
 * root Job() that is not a supervisor. */
typedef struct kin_job_opts {
    /** The parent: any job handle. Zero: a root (Kotlin's Job() with no
     * parent), which kin_shutdown cancels and kin_dump shows. */
    kin_job parent;
    /** SupervisorJob(parent): its children's failures do not cancel it. */
    bool supervisor;
    /** For messages and the dump; copied (up to 63 bytes). Default "job"
     * (kin_job_new) or "deferred" (kin_deferred_new). */
    const char *name;
    /** kin_deferred_new only: destructor for the value, run when the
     * record is reclaimed (L2). */
    void (*result_free)(void *result);
} kin_job_opts;

/** Makes a job that is not a coroutine (Kotlin's Job(parent) /
 * SupervisorJob(parent)): ACTIVE until completed by hand or cancelled.
 * Coroutines join its family with kin_launch_opts.parent. It completes
 * (COMPLETING, then COMPLETED or CANCELLED) once kin_job_complete or
 * kin_job_complete_exceptionally was called, or it was cancelled, and all
 * its children have completed. Like any job: a failed child cancels it and
 * its other children (not under a supervisor); its own failure cancels its
 * parent unless the parent is a supervisor; cancelling it does not cancel
 * its parent. It runs no handler: its failure is read with kin_job_cause,
 * and a child's failure that no coroutine above handles is reported by the
 * child (Kotlin's handlesException).
 * *out is a handle owned as L2 says for launches: by the current job inside
 * a coroutine, else by nobody (release it with kin_job_release). A parent
 * that has already completed gives a job born cancelled. Returns 0,
 * KIN_EINVAL (out NULL, bad parent handle), KIN_ESTALE (parent reclaimed),
 * KIN_ENOMEM. Any thread. */
KIN_EXPORT int kin_job_new(kin_job *out, const kin_job_opts *opts);

/** Kotlin's CompletableDeferred(parent): a job like kin_job_new's that also
 * holds a value, awaitable with kin_await by any number of coroutines
 * (every awaiter gets the same value, or the same error object). Complete
 * it with kin_deferred_complete or kin_job_complete_exceptionally. */
KIN_EXPORT int kin_deferred_new(kin_job *out, const kin_job_opts *opts);

/** Kotlin's Job.complete(): the job's own work is done; it completes once
 * its children have (COMPLETING until then). Returns 1 if this call
 * completed it, 0 if it was already completing, completed or cancelled (a
 * cancelled hand-made job has nothing left to complete), KIN_EINVAL (not a
 * kin_job_new / kin_deferred_new job, bad handle), KIN_ESTALE. A deferred
 * completed this way holds the value NULL. Any thread. */
KIN_EXPORT int kin_job_complete(kin_job job);

/** Kotlin's completeExceptionally(error): ends a kin_job_new or
 * kin_deferred_new job with failure (taken over, even on error). A
 * cancellation (kin_error_is_cancellation) cancels it as kin_cancel does;
 * any other failure fails it: its children are cancelled, and its parent
 * too unless that is a supervisor. Returns 1 if this call completed it, 0
 * if it was already completing or completed, KIN_EINVAL (failure NULL,
 * not a hand-made job, bad handle), KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_job_complete_exceptionally(kin_job job, kin_error *failure);

/** CompletableDeferred.complete(value): completes the deferred with value
 * (kept until the record is reclaimed; kin_job_opts.result_free then runs).
 * Returns 1 if this call completed it, 0 if it was already completed (the
 * value is then not kept: the caller still owns it), KIN_EINVAL (not a
 * deferred), KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_deferred_complete(kin_job deferred, void *value);

/* ---- Completion handlers you can remove ---------------------------------- */

/** Names one registered completion handler (Kotlin's DisposableHandle). A
 * value; stays safe to use after the handler ran or the job was reclaimed. */
typedef struct kin_disposable {
    uint64_t job; /**< opaque */
    uint64_t id;  /**< opaque */
} kin_disposable;

/** Options for kin_invoke_on_completion_ex; all-zero (or NULL): the
 * handler runs when the job completes, as kin_invoke_on_completion. */
typedef struct kin_completion_opts {
    /** Kotlin's invokeOnCompletion(onCancelling = true): run when the job
     * starts cancelling (state CANCELLING), with its cause, instead of when
     * it is final; if it completes without being cancelled, run at
     * completion with cause NULL. Runs on the thread that cancelled the
     * job, after the cancellation has reached every descendant. */
    bool on_cancelling;
} kin_completion_opts;

/** kin_invoke_on_completion with options and a handle to remove the
 * handler. If the job has already completed (or, on_cancelling, is already
 * cancelling) fn runs at once in the caller and *out is a handle that
 * disposes nothing. out may be NULL. Returns 0, KIN_EINVAL, KIN_ESTALE,
 * KIN_ENOMEM (L7). Any thread. */
KIN_EXPORT int kin_invoke_on_completion_ex(kin_job job,
                                           const kin_completion_opts *opts,
                                           kin_completion_fn fn, void *arg,
                                           kin_disposable *out);

/** DisposableHandle.dispose(): removes the handler if it has not run; it
 * will then never run. Returns 1 if this call removed it, 0 if it had
 * already run, been disposed, or its job was reclaimed (all harmless, as
 * in Kotlin), KIN_EINVAL for a zero or garbage handle. Any thread. */
KIN_EXPORT int kin_dispose(kin_disposable handle);

/* ---- Exception handlers -------------------------------------------------- */

/** Reports that the running exception handler or completion handler failed
 * (Kotlin: the handler threw); takes over failure. kin carries on as
 * kotlinx.coroutines does: the other completion handlers still run; an
 * exception handler's failure goes to the default handler as a
 * "RuntimeException: Exception while trying to handle coroutine exception"
 * with the handler's failure as cause and the original failure suppressed
 * (the original itself if the handler reported that very object);
 * completion handlers' failures are gathered into one
 * "CompletionHandlerException" (the first as cause, later ones suppressed)
 * reported once through the job's exception handler, else the default one.
 * A failing default handler ends on stderr. Returns 0, KIN_EINVAL (NULL),
 * KIN_EPERM (not inside a handler). */
KIN_EXPORT int kin_handler_fail(kin_error *failure);

/* ---- Exception handlers (default) ---------------------------------------- */

/** Replaces the default handler, which prints one line to stderr:
 * @code{.unparsed}
 *   kin: uncaught failure in coroutine 'NAME#ID': TYPE: MESSAGE
 * @endcode
 * fn NULL restores it. Any thread; takes effect for failures reported after
 * it returns. */
KIN_EXPORT void kin_set_default_handler(kin_handler_fn fn, void *arg);

/* ---- Suspending by hand ---------------------------------------------------
 * Kotlin's suspendCancellableCoroutine: the primitive for wrapping a callback
 * API (a thread that calls back, a completion queue, a signal) into a call
 * that suspends. The coroutine hands out a continuation; whoever holds it
 * resumes the coroutine once, from any thread, with a value or a failure.
 * Example: docs/guide.md, "Suspending by hand".
 */

/** A continuation: names one suspension of one coroutine (the coroutine's
 * job handle and the number of that suspension). A small value, safe to copy
 * and to hand to any thread. It is checked, never trusted (L1): once that
 * suspension is over, every call given it returns KIN_EALREADY (or
 * KIN_ESTALE once the coroutine's record was reclaimed). A zero continuation
 * is invalid. */
typedef struct kin_cont {
    uint64_t job; /**< opaque: the suspended coroutine's job handle */
    uint64_t seq; /**< opaque: which of its suspensions; never 0 */
} kin_cont;

/** kin_suspend's start function: runs on the coroutine, in kin_suspend,
 * before it parks. It hands cont out (to a thread, a callback's context,
 * a queue) and may register an on-cancel callback. It may resume cont
 * itself (then kin_suspend returns without parking). It must not suspend. */
typedef void (*kin_suspend_fn)(kin_cont cont, void *arg);

/** An on-cancel callback (kin_cont_on_cancel). It must not suspend and
 * should be short; it is called without kin locks held. */
typedef void (*kin_cont_cancel_fn)(kin_cont cont, void *arg);

/** Suspends the calling coroutine until its continuation is resumed (Kotlin's
 * suspendCancellableCoroutine). Calls start(cont, arg) once, on this
 * coroutine, then parks until one of:
 * @code{.unparsed}
 *   kin_resume(cont, v)         returns 0 and stores v in *value (value may
 *                               be NULL: v is then dropped, see
 *                               kin_resume_ex);
 *   kin_resume_error(cont, e)   returns e's code, e as the current error;
 *   cancellation of the caller  returns KIN_ECANCELED (KIN_ETIMEDOUT in a
 *                               timed-out kin_with_timeout block), the
 *                               cancellation as the current error; the
 *                               on-cancel callback has run and returned.
 * @endcode
 * Prompt cancellation (DESIGN rule 16): resumed with a value but cancelled
 * before it ran again, it returns KIN_ECANCELED; the on-cancel callback runs
 * (on this coroutine's thread) and the value goes to kin_resume_ex's on_drop.
 * Resumed with a failure, it returns that failure even if cancelled.
 * If the caller is already cancelled, start still runs, once, with a
 * continuation that is already cancelled (kin_cont_on_cancel runs its
 * callback at once; resuming it returns KIN_EALREADY), and kin_suspend
 * returns the cancellation code: as Kotlin, whose block always runs exactly
 * once. Inside kin_non_cancellable, cancellation does not end the wait.
 * No allocation. Suspends. Errors (start not called): KIN_ENOTCORO, KIN_EINVAL
 * (start NULL). */
KIN_EXPORT int kin_suspend(kin_suspend_fn start, void *arg, void **value);

/** Resumes the suspension cont names with value; the coroutine continues on
 * its own thread. Once per continuation: returns 0, or (the value was not
 * delivered and is still yours) KIN_EALREADY if that suspension is over
 * (already resumed, cancelled, or the coroutine has moved on), KIN_ESTALE if
 * the coroutine's record was reclaimed, KIN_EINVAL for a zero or foreign
 * continuation. Never crashes on a stale one. A value resumed in time may
 * still be dropped by prompt cancellation; use kin_resume_ex when it owns
 * something. Does not suspend; any thread (also start itself), but not
 * from a signal handler (it takes a short lock). */
KIN_EXPORT int kin_resume(kin_cont cont, void *value);

/** Like kin_resume, and on_drop (may be NULL) takes care of a value that is
 * not delivered (Kotlin's resume(value, onCancellation)): called with value
 * in the caller, before returning, when this returns an error; or on the
 * coroutine's thread when prompt cancellation drops it, or when kin_suspend
 * was given value == NULL. The value is always either delivered or passed
 * to on_drop, exactly once. */
KIN_EXPORT int kin_resume_ex(kin_cont cont, void *value,
                             void (*on_drop)(void *value));

/** Resumes with a failure (Kotlin's resumeWithException): kin_suspend
 * returns its code with failure as the current error. Takes over the
 * caller's reference, even on error. Errors as kin_resume, and KIN_EINVAL
 * for failure NULL. */
KIN_EXPORT int kin_resume_error(kin_cont cont, kin_error *failure);

/** Registers fn(cont, arg) to run if the suspension is cancelled (Kotlin's
 * invokeOnCancellation): exactly once, whenever kin_suspend returns the
 * cancellation code for this suspension, never otherwise. It runs in the
 * thread that cancels (inside kin_cancel, a timeout's timer, a failing
 * sibling's completion), before the coroutine continues; if the coroutine
 * notices the cancellation first, or on prompt cancellation, on the
 * coroutine's thread. kin_suspend returns only after it has returned.
 * Register it in start, before handing cont out: it is accepted only while
 * the suspension waits. If the suspension is already cancelled, fn runs at
 * once in the caller (from start: before kin_suspend returns; from another
 * thread: maybe after). Returns 0, KIN_EBUSY (one is registered already: at
 * most one), KIN_EALREADY (already resumed, or over), KIN_ESTALE,
 * KIN_EINVAL (fn NULL, a zero or foreign continuation); on error fn is
 * never called (L7). Does not suspend; any thread. */
KIN_EXPORT int kin_cont_on_cancel(kin_cont cont, kin_cont_cancel_fn fn,
                                  void *arg);

/** True while the suspension cont names waits to be resumed: not resumed,
 * not cancelled. False for bad continuations. Any thread. */
KIN_EXPORT bool kin_cont_is_active(kin_cont cont);

/* ---- Channels ------------------------------------------------------------ */

/** @name Channels
 * Kotlin's Channel: coroutines hand elements to each other through it, in
 * FIFO order, suspending (never blocking a thread) when they must wait.
 * Elements are copied in and out (elem_size bytes each, fixed when the
 * channel is made); every call that moves an element takes its size too,
 * and a size that differs from the channel's is KIN_EINVAL.
 *
 * A kin_channel is a checked handle, like kin_job (L1): after
 * kin_channel_destroy every call given it returns KIN_ESTALE (false for
 * the predicates); never undefined behaviour. All channel functions may
 * be called from any thread; those marked "suspends" only from inside a
 * coroutine (KIN_ENOTCORO otherwise).
 *
 * Closed results: after kin_channel_close(ch, NULL) a send returns
 * KIN_ECLOSED ("ClosedSendChannelException: Channel was closed") and a
 * receive, once the elements sent before the close are drained, returns
 * KIN_ECLOSED ("ClosedReceiveChannelException"); after a close with a cause
 * or a cancel, both return the cause's code with the cause as the current
 * error (kotlinx's sendException / receiveException).
 *
 * Prompt cancellation (DESIGN rule 16): a send or receive that suspended
 * returns KIN_ECANCELED if its coroutine was cancelled before it resumed,
 * even if the element was handed over meanwhile; a received element is then
 * given to the on_undelivered callback, a sent one counts as delivered.
 * An element the channel accepted is delivered to exactly one receiver or
 * given exactly once to on_undelivered: when a suspended send is cancelled,
 * when a send finds the channel closed, when the channel is cancelled or
 * destroyed with elements in it, when DROP_OLDEST / conflation drops an
 * element, when DROP_LATEST drops the one being sent.
 */
/**@{*/

/** A channel handle (an index and a generation); zero is no channel. */
typedef struct kin_channel {
    uint64_t id; /**< opaque */
} kin_channel;

/** kin_channel_opts.capacity: Channel.RENDEZVOUS, no buffer: a send waits
 * for a receive and the other way round. */
#define KIN_CHANNEL_RENDEZVOUS 0
/** kin_channel_opts.capacity: Channel.CONFLATED, a buffer of one element
 * that each send overwrites (the overwritten one goes to on_undelivered);
 * sends never suspend. Only with KIN_OVERFLOW_SUSPEND (the default). */
#define KIN_CHANNEL_CONFLATED (-1)
/** kin_channel_opts.capacity: Channel.BUFFERED, the default buffer of 64
 * elements (as kotlinx's channel default). */
#define KIN_CHANNEL_BUFFERED (-2)
/** kin_channel_opts.capacity: Channel.UNLIMITED, a buffer that grows as
 * needed; sends never suspend. */
#define KIN_CHANNEL_UNLIMITED 0x7fffffff

/** What a send does when the buffer is full (Kotlin's BufferOverflow). */
typedef enum kin_overflow {
    /** Waits for room (try_send returns KIN_FULL). */
    KIN_OVERFLOW_SUSPEND = 0,
    /** Drops the oldest buffered element; the send never suspends. */
    KIN_OVERFLOW_DROP_OLDEST = 1,
    /** Drops the element being sent; the send never suspends. */
    KIN_OVERFLOW_DROP_LATEST = 2,
} kin_overflow;

/** Called with an element that was sent but will never be received
 * (Kotlin's onUndeliveredElement), once per such element, on the thread of
 * the call that dropped it, without channel locks held. elem points to the
 * element (valid during the call). It must not suspend. */
typedef void (*kin_undelivered_fn)(void *elem, void *arg);

/** Options for kin_channel_new; all-zero (or NULL) is a rendezvous channel
 * that suspends. */
typedef struct kin_channel_opts {
    /** 0 (RENDEZVOUS), a buffer size > 0, or KIN_CHANNEL_CONFLATED,
     * KIN_CHANNEL_BUFFERED, KIN_CHANNEL_UNLIMITED; other negative values
     * are KIN_EINVAL. A big buffer is not allocated up front: it grows. */
    int capacity;
    /** When the buffer is full. With capacity 0 a policy other than
     * SUSPEND makes a one-element buffer with that policy (as kotlinx). */
    kin_overflow overflow;
    /** See kin_undelivered_fn; NULL: dropped elements are dropped. */
    kin_undelivered_fn on_undelivered;
    void *undelivered_arg; /**< passed to on_undelivered */
} kin_channel_opts;

/** Positive results: nothing happened, and it is not an error (no current
 * error is set, nothing allocated). */
/**@{*/
#define KIN_FULL 2   /**< kin_channel_try_send: no room, no receiver */
#define KIN_EMPTY 3  /**< kin_channel_try_receive: nothing to receive */
#define KIN_CLOSED 4 /**< closed without a cause and drained */
/**@}*/

/** Makes a channel of elements of elem_size bytes (0 allowed: signals).
 * Returns 0, KIN_EINVAL (out NULL, bad capacity or overflow, CONFLATED with
 * a policy other than SUSPEND), KIN_ENOMEM. Any thread. */
KIN_EXPORT int kin_channel_new(kin_channel *out, size_t elem_size,
                               const kin_channel_opts *opts);

/** Frees the channel; the handle becomes stale. Buffered elements go to
 * on_undelivered. Returns 0, KIN_EINVAL, KIN_ESTALE, KIN_EBUSY (a coroutine
 * is suspended in a send, receive or select on it: cancel the channel
 * first, which resumes them). For a kin_produce channel whose producer is
 * still running, destroy cancels the channel (and so the producer, and
 * whoever waits on the channel) and the record is reclaimed when the
 * producer completes. Any thread. */
KIN_EXPORT int kin_channel_destroy(kin_channel ch);

/** Sends the size bytes at elem (Kotlin's send). Hands it to a waiting
 * receiver (which is queued to resume; the sender goes on without
 * suspending), else buffers it, else suspends until a receiver takes it
 * (suspended senders are served FIFO) or, for the drop policies, drops an
 * element. Returns 0; KIN_ECLOSED or the close cause's code if the channel
 * is closed (the element goes to on_undelivered); KIN_ECANCELED (see
 * prompt cancellation above); KIN_EINVAL (bad handle, size mismatch, elem
 * NULL with size > 0), KIN_ESTALE, KIN_ENOTCORO, KIN_ENOMEM. Suspends. */
KIN_EXPORT int kin_channel_send(kin_channel ch, const void *elem, size_t size);

/** Receives the oldest element into elem (Kotlin's receive): from the
 * buffer (then the first suspended sender's element moves into it), else
 * from a suspended sender (which is queued to resume), else suspends.
 * Returns 0; KIN_ECLOSED (closed without a cause and drained) or the
 * cause's code; KIN_ECANCELED; KIN_EINVAL, KIN_ESTALE, KIN_ENOTCORO.
 * Suspends. */
KIN_EXPORT int kin_channel_receive(kin_channel ch, void *elem, size_t size);

/** Kotlin's receiveCatching: as kin_channel_receive, but a channel closed
 * without a cause and drained gives KIN_CLOSED (positive, no error made)
 * instead of KIN_ECLOSED; closed with a cause: the cause's code (negative)
 * with the cause as the current error. The loop
 * `while (kin_channel_receive_catching(ch, &x, sizeof x) == 0)` is
 * Kotlin's `for (x in channel)`. Suspends. */
KIN_EXPORT int kin_channel_receive_catching(kin_channel ch, void *elem,
                                            size_t size);

/** Kotlin's trySend: sends without suspending. Returns 0 (sent, buffered,
 * or dropped by a drop policy), KIN_FULL (it would suspend: nothing sent,
 * the caller keeps the element), KIN_ECLOSED or the close cause's code (the
 * caller keeps the element: on_undelivered is not called), KIN_EINVAL,
 * KIN_ESTALE. Any thread, inside or outside coroutines. */
KIN_EXPORT int kin_channel_try_send(kin_channel ch, const void *elem,
                                    size_t size);

/** Kotlin's tryReceive: receives without suspending. Returns 0, KIN_EMPTY,
 * KIN_CLOSED (closed without a cause, drained), the cause's code (closed
 * with a cause), KIN_EINVAL, KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_channel_try_receive(kin_channel ch, void *elem,
                                       size_t size);

/** Kotlin's close(cause): no more sends; receivers get the elements sent
 * before (buffered ones and those of senders already suspended), then the
 * closed result. Suspended receivers of an empty channel resume at once
 * with it. cause may be NULL or any error; taken over, even on error.
 * Returns 1 if this call closed it, 0 if it was already closed (the cause
 * is dropped), KIN_EINVAL, KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_channel_close(kin_channel ch, kin_error *cause);

/** Kotlin's cancel(cause): closes the channel (unless it was closed: the
 * first cause stays) and drops everything in it: buffered elements and
 * those of suspended senders go to on_undelivered, suspended senders and
 * receivers resume with the cause's code. cause may be NULL
 * (CancellationException "Channel was cancelled") or a cancellation
 * (kin_error_is_cancellation); taken over, even on error. For a
 * kin_produce channel it also cancels the producer. Returns 0, KIN_EINVAL
 * (bad handle, a cause that is not a cancellation), KIN_ESTALE. Any
 * thread. */
KIN_EXPORT int kin_channel_cancel(kin_channel ch, kin_error *cause);

/** Kotlin's isClosedForSend / isClosedForReceive (closed and nothing left
 * to receive) / isEmpty (nothing to receive now). False for bad handles.
 * Any thread. */
/**@{*/
KIN_EXPORT bool kin_channel_is_closed_for_send(kin_channel ch);
KIN_EXPORT bool kin_channel_is_closed_for_receive(kin_channel ch);
KIN_EXPORT bool kin_channel_is_empty(kin_channel ch);
/**@}*/

/** Kotlin's `for (x in channel) fn(x)`: receives into elem until the
 * channel is closed and drained, calling fn(elem, arg) after each element;
 * fn returns 0 to go on, or a negative code to stop. The channel is not
 * cancelled afterwards (that would be consumeEach). Returns 0 (closed
 * without a cause), fn's code, the close cause's code, or the errors of
 * kin_channel_receive. Suspends. */
KIN_EXPORT int kin_channel_for_each(kin_channel ch, void *elem, size_t size,
                                    int (*fn)(void *elem, void *arg),
                                    void *arg);

/** The body of a kin_produce coroutine: sends into ch (a handle that stays
 * valid for the producer until it completes, even if the consumer destroys
 * its own). */
typedef int (*kin_produce_fn)(kin_channel ch, void *arg);

/** Kotlin's produce: makes a channel (copts; NULL: rendezvous) and launches
 * fn(ch, arg) as a child of the current job (lopts as kin_launch). When the
 * producer completes the channel is closed: without a cause on success,
 * with its failure or cancellation otherwise, before the producer's job is
 * final (a receiver sees the close before a kin_join of the producer
 * returns). A failure the close carried into the channel goes to no
 * exception handler (the receivers get it); one that finds the channel
 * closed already, and that the parent does not take, goes to the
 * producer's handler as a launch's would (kotlinx's ProducerCoroutine).
 * kin_channel_cancel on the
 * channel cancels the producer. *out is the consumer's handle: destroy it
 * when done (see kin_channel_destroy). job may be NULL; else it receives
 * the producer's handle (L2). Returns 0, KIN_EINVAL, KIN_ENOTCORO,
 * KIN_ENOMEM (fn never runs then, *out is zero). */
KIN_EXPORT int kin_produce(kin_channel *out, kin_job *job,
                           const kin_launch_opts *lopts,
                           const kin_channel_opts *copts, size_t elem_size,
                           kin_produce_fn fn, void *arg);
/**@}*/

/* ---- Select -------------------------------------------------------------- */

/** The kind of a kin_select clause (Kotlin's onReceive, onSend, ...). */
typedef enum kin_select_kind {
    KIN_SELECT_RECEIVE = 1,         /**< channel.onReceive */
    KIN_SELECT_RECEIVE_CATCHING = 2, /**< channel.onReceiveCatching */
    KIN_SELECT_SEND = 3,            /**< channel.onSend(elem) */
    KIN_SELECT_AWAIT = 4,           /**< deferred.onAwait */
    KIN_SELECT_JOIN = 5,            /**< job.onJoin */
    KIN_SELECT_TIMEOUT = 6,         /**< onTimeout(ms) */
} kin_select_kind;

/** One clause of kin_select; set kind and the fields it uses. */
typedef struct kin_select_clause {
    kin_select_kind kind; /**< what to wait for */
    kin_channel channel;  /**< RECEIVE, RECEIVE_CATCHING, SEND */
    void *elem;   /**< RECEIVE*: where the element goes; SEND: what to send */
    size_t size;  /**< the channel's element size */
    kin_job job;  /**< AWAIT (a kin_async or deferred job), JOIN */
    void **result;     /**< AWAIT: receives the value (may be NULL) */
    int64_t timeout_ms; /**< TIMEOUT: after this long (<= 0: at once) */
    /** Out: for the chosen clause, RECEIVE_CATCHING's result (0,
     * KIN_CLOSED, or the close cause's code) or 0. */
    int rc;
} kin_select_clause;

/** Kotlin's select: waits until one of the n clauses can complete,
 * completes that one only, and returns its index. The clauses are tried in
 * order, so when several are ready the first listed wins (biased, as in
 * kotlinx). A RECEIVE on a closed channel, an AWAIT of a job that failed or
 * was cancelled and a SEND to a closed channel (whose element then goes to
 * on_undelivered) complete the select with that error: the result is then
 * negative, as if the clause threw. Cancelled while suspended, it returns
 * KIN_ECANCELED and leaves every channel as it was, unless a clause had
 * already completed (prompt cancellation: a received element then goes to
 * on_undelivered). Errors (nothing done): KIN_EINVAL (clauses NULL, n 0,
 * a bad kind, handle or size, AWAIT of a job not made by kin_async or
 * kin_deferred_new), KIN_ESTALE, KIN_EDEADLK (JOIN/AWAIT of the caller or
 * an ancestor), KIN_ENOTCORO, KIN_ENOMEM. Suspends. */
KIN_EXPORT int kin_select(kin_select_clause *clauses, size_t n);

/** Kotlin's selectUnbiased: as kin_select, but the clauses are tried in a
 * random order each call, so no ready clause is favoured. */
KIN_EXPORT int kin_select_unbiased(kin_select_clause *clauses, size_t n);


/* ---- Mutex and Semaphore ------------------------------------------------- */

/** @name Mutex and Semaphore
 * kotlinx.coroutines' Mutex and Semaphore: a lock and a counting semaphore
 * whose waiters suspend their coroutine, never a thread, so they may be
 * held across suspension points (a kin_delay, a kin_join) and used from
 * coroutines on any dispatcher and from plain code on any thread.
 *
 * Both are fair: suspended callers get the lock (a permit) in the order
 * they asked for it. Releasing with waiters hands it straight to the first
 * waiter, who runs when its thread gets to it (it is queued, as every woken
 * coroutine is) while the releaser runs on; meanwhile nobody else can take
 * it, not even with a try call (kotlinx's hand-off).
 *
 * Cancellation, as in kotlinx: a waiter whose coroutine is cancelled
 * returns KIN_ECANCELED (its cancellation code, set as the current error)
 * and never takes the lock or permit, which goes to the next waiter.
 * Prompt cancellation (DESIGN rule 16): a waiter that was handed the lock
 * but was cancelled before it resumed returns KIN_ECANCELED too, and passes
 * the lock on; nothing is lost. As kotlinx's lock() and acquire(), they do
 * not check for cancellation when the lock or a permit is free: they take
 * it without suspending (use kin_ensure_active to check). A cancelled
 * caller that would have to wait returns KIN_ECANCELED at once.
 *
 * Lifetime: a kin_mutex or kin_semaphore is a handle like kin_job (L1): it
 * never dangles. It lives until kin_mutex_destroy / kin_semaphore_destroy,
 * which fails with KIN_EBUSY while it is locked (permits are out) or
 * coroutines wait on it; afterwards every function given the handle
 * returns KIN_ESTALE. A zero or garbage handle gives KIN_EINVAL. No job
 * owns them: a mutex shared by the coroutines of a scope is typically made
 * before the scope and destroyed after it. Records are reused, so memory
 * is bounded by the most that were alive at once; locking, unlocking,
 * acquiring and releasing never allocate.
 */
/**@{*/

/** A Mutex (kotlinx's Mutex). Opaque: an index and a generation. */
typedef struct kin_mutex {
    uint64_t id; /**< opaque; 0: no mutex */
} kin_mutex;

/** A counting Semaphore (kotlinx's Semaphore). Opaque, as kin_mutex. */
typedef struct kin_semaphore {
    uint64_t id; /**< opaque; 0: no semaphore */
} kin_semaphore;

/** Options for kin_mutex_new; all-zero (or NULL): an unlocked mutex. */
typedef struct kin_mutex_opts {
    /** Mutex(locked = true): made locked, with no owner token. */
    bool locked;
} kin_mutex_opts;

/** Options for kin_semaphore_new; all-zero (or NULL): every permit
 * available. */
typedef struct kin_semaphore_opts {
    /** Semaphore(permits, acquiredPermits): how many permits are already
     * taken, 0..permits. */
    int acquired_permits;
} kin_semaphore_opts;

/** Makes a mutex (Kotlin's Mutex(locked)); *out receives its handle.
 * Returns 0, KIN_EINVAL (out NULL), KIN_ENOMEM. Any thread. */
KIN_EXPORT int kin_mutex_new(kin_mutex *out, const kin_mutex_opts *opts);

/** Destroys an unlocked mutex that nobody waits for; the handle is stale
 * afterwards. Returns 0, KIN_EBUSY (locked, or coroutines wait for it:
 * nothing changes), KIN_EINVAL, KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_mutex_destroy(kin_mutex mutex);

/** Locks the mutex (Kotlin's lock(owner)), suspending while it is locked;
 * waiters get it in FIFO order. owner is an optional token (any non-NULL
 * pointer that names the holder, NULL for none) that kin_mutex_unlock and
 * kin_mutex_holds_lock check. The mutex is not reentrant: locking it again
 * from the coroutine that holds it suspends forever, unless the same
 * non-NULL owner token is given, which is an error instead.
 * Returns 0 (the caller holds the lock), the caller's cancellation code
 * (KIN_ECANCELED: see the cancellation rules above; the lock is not held),
 * KIN_EDEADLK (the mutex is already locked with this owner token),
 * KIN_EINVAL, KIN_ESTALE, KIN_ENOTCORO. Suspends. */
KIN_EXPORT int kin_mutex_lock(kin_mutex mutex, const void *owner);

/** Locks the mutex if it is unlocked, without suspending (Kotlin's
 * tryLock(owner)). Returns 1 if it is now held by the caller, 0 if it was
 * locked (also while a waiter it was handed to has not resumed yet),
 * KIN_EDEADLK (already locked with this non-NULL owner token), KIN_EINVAL,
 * KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_mutex_try_lock(kin_mutex mutex, const void *owner);

/** Unlocks the mutex (Kotlin's unlock(owner)): the first waiter, if any,
 * gets the lock at once (with its owner token) and is resumed; else it is
 * unlocked. owner NULL unlocks it whoever holds it; a non-NULL owner must
 * be the holder's token. Returns 0, KIN_EPERM (the mutex is not locked, or
 * is locked with another owner token: nothing changes), KIN_EINVAL,
 * KIN_ESTALE. Does not suspend; any thread (a mutex is not tied to a
 * thread or a coroutine). */
KIN_EXPORT int kin_mutex_unlock(kin_mutex mutex, const void *owner);

/** Kotlin's holdsLock(owner): 1 if the mutex is locked with the token owner,
 * 0 if it is unlocked or locked with another token (or none). Returns
 * KIN_EINVAL (owner NULL, bad handle), KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_mutex_holds_lock(kin_mutex mutex, const void *owner);

/** Kotlin's isLocked: 1 if the mutex is locked, 0 if not; KIN_EINVAL,
 * KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_mutex_is_locked(kin_mutex mutex);

/** Kotlin's withLock(owner) { ... }: kin_mutex_lock(mutex, owner), then
 * fn(arg), then kin_mutex_unlock(mutex, owner) however fn ends (a failure,
 * a cancellation code), and returns fn's result. If the lock fails (the
 * caller was cancelled while waiting, ...) fn never runs and that code is
 * returned. If the unlock fails (fn unlocked or destroyed the mutex
 * itself) its error is returned instead of fn's result, as an exception
 * from a finally block replaces the result in Kotlin. Errors as
 * kin_mutex_lock, plus KIN_EINVAL for fn NULL. Suspends. */
KIN_EXPORT int kin_mutex_with_lock(kin_mutex mutex, const void *owner,
                                   kin_fn fn, void *arg);

/** Makes a semaphore with permits permits (Kotlin's Semaphore(permits,
 * acquiredPermits)); *out receives its handle. Returns 0, KIN_EINVAL (out
 * NULL, permits < 1, acquired_permits outside 0..permits), KIN_ENOMEM.
 * Any thread. */
KIN_EXPORT int kin_semaphore_new(kin_semaphore *out, int permits,
                                 const kin_semaphore_opts *opts);

/** Destroys a semaphore whose permits are all back and that nobody waits
 * for; the handle is stale afterwards. Returns 0, KIN_EBUSY (permits not
 * released, or waiters: nothing changes), KIN_EINVAL, KIN_ESTALE. Any
 * thread. */
KIN_EXPORT int kin_semaphore_destroy(kin_semaphore sem);

/** Takes a permit, suspending until one is available (Kotlin's acquire());
 * waiters get permits in FIFO order. Returns 0, the caller's cancellation
 * code (see the rules above; no permit is held), KIN_EINVAL, KIN_ESTALE,
 * KIN_ENOTCORO. Suspends. */
KIN_EXPORT int kin_semaphore_acquire(kin_semaphore sem);

/** Takes a permit if one is available, without suspending (Kotlin's
 * tryAcquire()). Returns 1 if it took one, 0 if none was available (never
 * while coroutines wait: a released permit goes to them first),
 * KIN_EINVAL, KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_semaphore_try_acquire(kin_semaphore sem);

/** Gives a permit back (Kotlin's release()): to the first waiter, if any,
 * which is resumed; else to the semaphore. Returns 0, KIN_EPERM (all
 * permits are already available: more releases than acquires), KIN_EINVAL,
 * KIN_ESTALE. Does not suspend; any thread (a permit is not tied to a
 * coroutine). */
KIN_EXPORT int kin_semaphore_release(kin_semaphore sem);

/** Kotlin's availablePermits: the number of permits available now (0 while
 * coroutines wait), or KIN_EINVAL, KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_semaphore_available_permits(kin_semaphore sem);

/** Kotlin's withPermit { ... }: kin_semaphore_acquire, fn(arg), then
 * kin_semaphore_release however fn ends; returns fn's result. As
 * kin_mutex_with_lock: fn never runs if the acquire fails, and an error of
 * the release replaces fn's result. Errors as kin_semaphore_acquire, plus
 * KIN_EINVAL for fn NULL. Suspends. */
KIN_EXPORT int kin_semaphore_with_permit(kin_semaphore sem, kin_fn fn,
                                         void *arg);
/**@}*/

/* ---- I/O ------------------------------------------------------------------
 * Suspending, cancellable I/O on file descriptors (Go's netpoller, with
 * kin's structured cancellation). A coroutine that waits for an fd
 * suspends only itself: its thread runs the others and sleeps in
 * epoll_wait when none can run. A wait ends promptly when the coroutine is
 * cancelled (KIN_ECANCELED, or KIN_ETIMEDOUT inside a timed-out
 * kin_with_timeout), consuming no data, so every call below composes with
 * kin_with_timeout and with cancelling a scope. Linux (epoll).
 *
 * Results are C's: a count or 0, else a negative code: -errno from the
 * system call (-ECONNRESET, -EPIPE, ...; no error object is made for
 * those), or one of kin's codes. The fds given to kin_read, kin_write and
 * kin_connect must be non-blocking (kin_set_nonblocking; kin_accept's are),
 * else the system call blocks the whole thread; kin_recv and kin_send pass
 * MSG_DONTWAIT and work on any socket. Close an fd other coroutines may be
 * waiting on with kin_close, never close(2): kin_close wakes them with
 * -EBADF, close(2) would leave them waiting. One coroutine at a time may
 * wait on an fd in each direction (a second gets KIN_EBUSY): a reader and
 * a writer may share an fd, two readers may not, as two reads interleaving
 * their bytes is rarely what a program means. kin's own fds (each loop's
 * epoll or io_uring and eventfd, kin_dump_on_signal's pipe) are refused
 * by every call here with -EBADF and a message: a caller can only name
 * one after closing its own fd with close(2) while kin reused the number.
 * Example: docs/guide.md, "Waiting for I/O".
 */

struct sockaddr;
struct addrinfo;

/** kin_wait_fd's directions, also its result (a bit mask). */
enum {
    KIN_READABLE = 1, /**< data to read, a connection to accept, EOF, error */
    KIN_WRITABLE = 2, /**< room to write, a connect finished, error */
};

/** Suspends the calling coroutine until fd is ready for events
 * (KIN_READABLE, KIN_WRITABLE or both) or timeout_ms milliseconds have
 * passed (timeout_ms < 0: no timeout; 0: only look). Returns the ready
 * directions among events (> 0); an error or hang-up on the fd counts as
 * ready, so the next read or write reports it. Returns 0 when the timeout
 * passed: an ordinary result, not KIN_ETIMEDOUT, which is kin_with_timeout's
 * cancellation and would end the caller's coroutine as cancelled if
 * returned from its body. A regular file or directory (which epoll does not
 * support) is always ready. Otherwise:
 * @code{.unparsed}
 *   KIN_ECANCELED   the caller was cancelled (KIN_ETIMEDOUT in a timed-out
 *                   kin_with_timeout block); at once, also when the fd was
 *                   ready meanwhile (prompt cancellation, DESIGN rule 16)
 *   -EBADF          fd was closed through kin_close while waited on, or
 *                   is not open
 *   KIN_EBUSY       another coroutine waits on fd in one of these
 *                   directions
 *   KIN_EINVAL      fd < 0 or too large (4194304 and up), events not a
 *                   non-empty subset of KIN_READABLE | KIN_WRITABLE
 *   KIN_ENOMEM, KIN_ENOTCORO, -errno of epoll_ctl (-ENOMEM, -ENOSPC)
 * @endcode
 * Inside kin_non_cancellable the wait is not ended by cancellation.
 * Suspends (also when the fd is ready at once: it looks with poll(2)
 * first and returns without parking). */
KIN_EXPORT int kin_wait_fd(int fd, int events, int64_t timeout_ms);

/** Makes fd non-blocking (O_NONBLOCK). Returns 0 or -errno (-EBADF).
 * Does not suspend; any thread. */
KIN_EXPORT int kin_set_nonblocking(int fd);

/** read(2) that suspends the coroutine instead of the thread: returns the
 * number of bytes read (> 0), 0 at end of file, or -errno (-ECONNRESET
 * ...), KIN_ECANCELED (checked before reading: no data is consumed by a
 * cancelled call), -EBADF (kin_close'd while waiting), KIN_EBUSY (another
 * coroutine reads fd), KIN_EINVAL (buf NULL with n > 0), KIN_ENOTCORO. Like
 * read(2) it may return fewer bytes than n. fd must be non-blocking.
 * Suspends. */
KIN_EXPORT long kin_read(int fd, void *buf, size_t n);

/** Writes all n bytes, suspending while the fd is full. Returns n; or, when
 * an error or a cancellation stops it after some bytes went out, that
 * short count (the next call reports the error: a cancelled coroutine gets
 * KIN_ECANCELED); with nothing written, the error: -errno (-EPIPE: also
 * raises SIGPIPE unless ignored; use kin_send on sockets), KIN_ECANCELED,
 * -EBADF, KIN_EBUSY, KIN_EINVAL (buf NULL with n > 0), KIN_ENOTCORO. fd must
 * be non-blocking. Suspends. */
KIN_EXPORT long kin_write(int fd, const void *buf, size_t n);

/** recv(2) that suspends the coroutine: as kin_read, with flags (MSG_PEEK,
 * ...; MSG_DONTWAIT is added, so the socket need not be non-blocking).
 * Suspends. */
KIN_EXPORT long kin_recv(int fd, void *buf, size_t n, int flags);

/** send(2) of all n bytes that suspends the coroutine: as kin_write, with
 * flags; MSG_DONTWAIT and MSG_NOSIGNAL are added (a closed peer gives
 * -EPIPE, never SIGPIPE). Suspends. */
KIN_EXPORT long kin_send(int fd, const void *buf, size_t n, int flags);

/** accept(2) that suspends the coroutine until a connection comes. Returns
 * the new fd, non-blocking and close-on-exec; addr and addrlen as
 * accept(2) (both NULL, or both set; addrlen is a socklen_t *, an
 * unsigned int on Linux). Errors: -errno (-EMFILE / -ENFILE:
 * out of fds; the connection stays in the backlog and the listening fd
 * stays readable, so back off, e.g. kin_delay, before calling again, or the
 * loop spins), KIN_ECANCELED, -EBADF, KIN_EBUSY, KIN_EINVAL (addr without
 * addrlen), KIN_ENOTCORO. Connections aborted before they were accepted
 * are skipped. Suspends. */
KIN_EXPORT int kin_accept(int fd, struct sockaddr *addr, unsigned *addrlen);

/** connect(2) that suspends the coroutine while the connection is made
 * (the EINPROGRESS dance: wait writable, then read SO_ERROR). fd must be
 * non-blocking. addr and len as connect(2). Returns 0 or
 * -errno (-ECONNREFUSED, -ETIMEDOUT: the kernel's, ...), KIN_ECANCELED (the
 * attempt is abandoned: close the socket), -EBADF, KIN_EBUSY, KIN_EINVAL
 * (addr NULL), KIN_ENOTCORO. Suspends. */
KIN_EXPORT int kin_connect(int fd, const struct sockaddr *addr,
                           unsigned len);

/** Closes fd (close(2)) and wakes every coroutine waiting on it, on any
 * thread, with -EBADF: never a hang. Calls and waits on fd that begin
 * while it closes get -EBADF too, and so does a call that found fd not
 * ready just before the close and would wait next. A kin call on another
 * thread that is inside its system call on fd at that moment (a read, an
 * accept...) finishes first: close(2) is then made by that call as it
 * returns (as Go's Close racing a Read), so the number is never closed
 * under a running system call. kin keeps a record per fd number with a
 * generation, so readiness that arrives for the old file is never taken
 * for a new file that reuses the number. Returns 0 or -errno of close(2)
 * (the fd is closed anyway, as close(2); 0 when close(2) was left to a
 * call in flight); -EBADF for fd < 0, for one of kin's own fds (left
 * open), or when another kin_close of fd is under way. Does not suspend;
 * any thread. */
KIN_EXPORT int kin_close(int fd);

/** getaddrinfo(3) run on the IO dispatcher (it blocks), so the caller
 * suspends instead of blocking its thread. Arguments as getaddrinfo (node
 * or service may be NULL, not both; hints may be NULL); *res receives the
 * list, to free with freeaddrinfo. Returns 0; KIN_EADDRINFO, with
 * "getaddrinfo(node, service): <gai_strerror text>" as the current error's
 * message (type "UnknownHostException"); -errno for EAI_SYSTEM;
 * KIN_ENOMEM; KIN_ECANCELED (a cancellation ends the wait only when the
 * lookup returns, which cannot be interrupted; its result is then freed);
 * KIN_EINVAL (res NULL, or node and service both NULL); KIN_ENOTCORO.
 * Suspends. */
KIN_EXPORT int kin_getaddrinfo(const char *node, const char *service,
                               const struct addrinfo *hints,
                               struct addrinfo **res);

/* ---- Flows ----------------------------------------------------------------
 * Kotlin's Flow. A cold flow is a recipe: nothing runs until a terminal
 * (kin_flow_collect, kin_flow_first, ...) collects it, and each collect runs
 * the recipe again from the start, in the collecting coroutine. Values are
 * copied (elem_size bytes each, fixed per flow; each operator says the size
 * of what it emits). A chain of sequential operators is one call chain: an
 * emit calls the operators below it in place, with no coroutine switch, no
 * channel and no malloc per value.
 *
 * A kin_flow is a checked handle, like kin_channel: after its last
 * reference is released every call given it returns KIN_ESTALE; never
 * undefined behaviour. Flows are immutable once built and may be collected
 * by any number of coroutines on any threads at once. Callback arguments
 * (the void *arg of each builder and operator) are borrowed: they must live
 * as long as the flow (see kin_flow_on_free).
 *
 * BUILDING. Every operator takes the upstream flow *f over (even on error)
 * and on success stores the new flow in *f; on error *f is set to zero and
 * the upstream's reference is released, so a chain checked with KIN_TRY
 * leaks nothing:
 *
 *     kin_flow f;
 *     KIN_TRY(kin_flow_from_array(&f, xs, n, sizeof(int)));
 *     KIN_TRY(kin_flow_map(&f, sizeof(int), square, NULL));
 *     KIN_TRY(kin_flow_take(&f, 10));
 *     int rc = kin_flow_collect(f, print_int, NULL);
 *     kin_flow_release(f);
 *
 * EMITTING. An emitter (kin_flow_emitter_fn, a transform, on_start, ...)
 * calls kin_flow_emit(out, &value, size) for each value. Emit returns 0,
 * or a negative code when the collector below failed or needs no more
 * values (take, first: KIN_ECANCELED, Kotlin's AbortFlowException) or the
 * collecting coroutine was cancelled (cancellation transparency: every
 * emit checks, as Kotlin's flow builder does). On a negative result the
 * emitter must stop and return that code.
 *
 * EXCEPTION TRANSPARENCY. A flow must not swallow its collector's failure.
 * If an emitter calls kin_flow_emit again after an emit returned a
 * negative code, that emit returns KIN_EFLOW ("Flow exception transparency
 * is violated: ..."), and the collect ends with KIN_EFLOW whatever the
 * emitter returns. If an emitter returns 0 after an emit failed, the
 * collect still returns the downstream failure: no failure is lost. Use
 * kin_flow_catch to handle upstream failures.
 *
 * CONTEXT PRESERVATION. A kin_flow_collector is valid only during the call
 * it was passed to, and only in the collecting coroutine: kin_flow_emit
 * from any other coroutine or thread returns KIN_EFLOW ("Flow invariant is
 * violated: emission from another coroutine is detected"). To emit from
 * other coroutines use kin_channel_flow; to run the upstream elsewhere,
 * kin_flow_on.
 *
 * Terminals suspend (KIN_ENOTCORO outside a coroutine). They return 0 or a
 * negative code: the first failure of the upstream, an operator or the
 * collector's own function, with that failure as the current error.
 */
/**@{*/

/** A flow handle (an index and a generation); zero is no flow. */
typedef struct kin_flow {
    uint64_t id; /**< opaque */
} kin_flow;

/** Where an emitter sends its values; valid only during the call it was
 * given to (see CONTEXT PRESERVATION). */
typedef struct kin_flow_collector kin_flow_collector;

/** An emitter: the body of a flow (Kotlin's flow { ... } block). Calls
 * kin_flow_emit for each value; returns 0, or a negative code (a failure,
 * or what an emit returned). It may suspend. */
typedef int (*kin_flow_emitter_fn)(kin_flow_collector *out, void *arg);

/** Called with each value (collect, on_each): returns 0 to go on or a
 * negative code (a failure) to stop. value is valid during the call. It
 * may suspend. */
typedef int (*kin_flow_value_fn)(const void *value, void *arg);

/** map: computes out (out_size bytes, uninitialised) from in; returns 0 or
 * a negative code. It may suspend. */
typedef int (*kin_flow_map_fn)(const void *in, void *out, void *arg);

/** filter and retry's predicate: returns 1 (true), 0 (false) or a
 * negative code (a failure). It may suspend. */
typedef int (*kin_flow_pred_fn)(const void *value, void *arg);

/** transform: emits zero or more values into out for one upstream value;
 * returns 0 or a negative code. It may suspend. */
typedef int (*kin_flow_transform_fn)(kin_flow_collector *out,
                                     const void *value, void *arg);

/** on_start: may emit into out before the upstream starts. */
typedef int (*kin_flow_start_fn)(kin_flow_collector *out, void *arg);

/** on_completion and catch: cause is NULL on success (on_completion only),
 * else the upstream's failure or cancellation (borrowed). out may be used
 * to emit: after a success (on_completion) or instead of the failure
 * (catch). Returns 0, or a negative code: catch rethrows by returning
 * kin_error_code(cause) (the cause stays the current error). */
typedef int (*kin_flow_cause_fn)(kin_flow_collector *out,
                                 const kin_error *cause, void *arg);

/** retry and retry_when: decides whether to collect the upstream again
 * after it failed with cause (borrowed; never a cancellation of the
 * collector, which is never retried). attempt counts from 0. Returns 1 to
 * retry, 0 to let the failure through, or a negative code (a failure of
 * its own). It may suspend (a backoff delay; see kin_retry). */
typedef int (*kin_flow_retry_fn)(const kin_error *cause, uint64_t attempt,
                                 void *arg);

/** zip and combine: computes out from one value of each flow. */
typedef int (*kin_flow_combine_fn)(const void *a, const void *b, void *out,
                                   void *arg);

/** distinct_until_changed: returns 1 if a and b are equal, 0 if not. */
typedef int (*kin_flow_equal_fn)(const void *a, const void *b, void *arg);

/** fold and reduce: combines value into acc in place; returns 0 or a
 * negative code. It may suspend. */
typedef int (*kin_flow_fold_fn)(void *acc, const void *value, void *arg);

/** Sends size bytes at value to the collector (see EMITTING). size must be
 * the flow's elem_size (KIN_EINVAL otherwise). Suspends only if the
 * collector does. */
KIN_EXPORT int kin_flow_emit(kin_flow_collector *out, const void *value,
                             size_t size);

/* -- Builders: each makes a flow with one reference owned by the caller.
 * Errors: KIN_EINVAL (out NULL, fn NULL, values NULL with n > 0),
 * KIN_ENOMEM. Any thread. */

/** Kotlin's flow { ... }: a flow of elem_size-byte values emitted by
 * fn(out, arg) on each collect. */
KIN_EXPORT int kin_flow_new(kin_flow *out, size_t elem_size,
                            kin_flow_emitter_fn fn, void *arg);

/** Kotlin's asFlow() / flowOf(...): the n values at values (copied now). */
KIN_EXPORT int kin_flow_from_array(kin_flow *out, const void *values,
                                   size_t n, size_t elem_size);

/** Kotlin's channelFlow { ... } (and callbackFlow): each collect makes a
 * channel (copts; NULL: KIN_CHANNEL_BUFFERED) and runs fn(ch, arg) as a
 * coroutine, a child of the collector, that may send into ch and launch
 * coroutines that send into ch. The collector receives what they send;
 * the flow completes when fn and all its children have completed (the
 * channel is then closed), and fails with the first failure among them.
 * When the collector stops early (take, first, its own failure, its
 * cancellation) the producer and its children are cancelled. */
KIN_EXPORT int kin_channel_flow(kin_flow *out, size_t elem_size,
                                const kin_channel_opts *copts,
                                kin_produce_fn fn, void *arg);

/** References: a builder's or operator's result holds one; retain adds
 * one, release drops one (the flow is freed when the last one goes and
 * the handle becomes stale). Returns 0, KIN_EINVAL, KIN_ESTALE. Any
 * thread. */
/**@{*/
KIN_EXPORT int kin_flow_retain(kin_flow f);
KIN_EXPORT int kin_flow_release(kin_flow f);
/**@}*/

/** Calls fn(arg) once, when the flow (this stage) is freed, so that the
 * arguments of its callbacks can be freed with it. One per flow: a second
 * is KIN_EBUSY. Returns 0, KIN_EINVAL, KIN_ESTALE, KIN_EBUSY. */
KIN_EXPORT int kin_flow_on_free(kin_flow f, void (*fn)(void *arg), void *arg);

/** The size of the flow's values; 0 for bad handles (and for flows of
 * zero-size values). */
KIN_EXPORT size_t kin_flow_elem_size(kin_flow f);

/* -- Intermediate operators: see BUILDING for *f. Errors: KIN_EINVAL (f
 * NULL or zero, fn NULL where required, bad counts), KIN_ESTALE,
 * KIN_ENOMEM. Any thread. Each returns a new cold flow. */

/** Kotlin's map: values of out_size bytes computed by fn. */
KIN_EXPORT int kin_flow_map(kin_flow *f, size_t out_size, kin_flow_map_fn fn,
                            void *arg);
/** Kotlin's filter: the values for which fn returns 1. */
KIN_EXPORT int kin_flow_filter(kin_flow *f, kin_flow_pred_fn fn, void *arg);
/** Kotlin's transform: fn emits any number of out_size-byte values for
 * each upstream value. */
KIN_EXPORT int kin_flow_transform(kin_flow *f, size_t out_size,
                                  kin_flow_transform_fn fn, void *arg);
/** Kotlin's take: the first n values (n > 0, else KIN_EINVAL); the
 * upstream is then stopped (its emit returns KIN_ECANCELED) and the
 * collect completes normally. */
KIN_EXPORT int kin_flow_take(kin_flow *f, uint64_t n);
/** Kotlin's onEach: calls fn with each value before passing it on. */
KIN_EXPORT int kin_flow_on_each(kin_flow *f, kin_flow_value_fn fn, void *arg);
/** Kotlin's onStart: fn runs (and may emit) before the upstream starts. */
KIN_EXPORT int kin_flow_on_start(kin_flow *f, kin_flow_start_fn fn,
                                 void *arg);
/** Kotlin's onCompletion: fn runs after the upstream and the collector
 * are done, with the cause: NULL on success, the failure (of the upstream
 * or downstream) or the cancellation otherwise. fn may emit only after a
 * success. The cause then goes on unchanged; a failure of fn replaces a
 * success or a cancellation (as kotlinx), or is added to a failure as
 * suppressed. */
KIN_EXPORT int kin_flow_on_completion(kin_flow *f, kin_flow_cause_fn fn,
                                      void *arg);
/** Kotlin's catch: handles failures of the upstream only (never the
 * downstream's, never cancellations of the collector): fn may emit
 * replacement values, return 0 to complete normally, or rethrow. */
KIN_EXPORT int kin_flow_catch(kin_flow *f, kin_flow_cause_fn fn, void *arg);
/** Kotlin's retry(retries, predicate): collects the upstream again, at
 * most retries times, while fn (NULL: always) returns 1 for the failure.
 * Values emitted before a failure stay emitted. */
KIN_EXPORT int kin_flow_retry(kin_flow *f, uint64_t retries,
                              kin_flow_retry_fn fn, void *arg);
/** Kotlin's retryWhen: collects the upstream again while fn returns 1. */
KIN_EXPORT int kin_flow_retry_when(kin_flow *f, kin_flow_retry_fn fn,
                                   void *arg);
/** Kotlin's buffer(capacity, onBufferOverflow): the upstream runs in a
 * coroutine of its own, concurrently with the collector, through a
 * channel of that capacity and policy (as kin_channel_opts). Adjacent
 * buffer / conflate / flow_on / channel_flow stages fuse into one channel
 * as in kotlinx (capacities add; a dropping policy replaces the one
 * before). */
KIN_EXPORT int kin_flow_buffer(kin_flow *f, int capacity,
                               kin_overflow overflow);
/** Kotlin's conflate: buffer(KIN_CHANNEL_CONFLATED): a slow collector
 * sees the latest value. */
KIN_EXPORT int kin_flow_conflate(kin_flow *f);
/** Kotlin's flowOn: runs the upstream (everything before this operator,
 * up to an earlier kin_flow_on) on dispatcher d, through a channel
 * (KIN_CHANNEL_BUFFERED); the collector stays where it is. If d is the
 * collector's own dispatcher the upstream runs in place, with no channel.
 * Of two adjacent flow_ons the upstream one's dispatcher wins. */
KIN_EXPORT int kin_flow_on(kin_flow *f, kin_dispatcher *d);
/** Kotlin's debounce(timeoutMillis): a value is passed on only if no
 * newer one arrives within timeout_ms (the last value is always passed
 * on when the upstream completes). timeout_ms >= 0; 0 leaves *f as it
 * is. */
KIN_EXPORT int kin_flow_debounce(kin_flow *f, int64_t timeout_ms);
/** Kotlin's distinctUntilChanged: drops a value equal to the one before
 * it; eq NULL compares the bytes. */
KIN_EXPORT int kin_flow_distinct_until_changed(kin_flow *f,
                                               kin_flow_equal_fn eq,
                                               void *arg);
/** Kotlin's zip: pairs the i-th values of *f and other (taken over too)
 * through fn, into out_size-byte values; completes when either does (the
 * other is cancelled). */
KIN_EXPORT int kin_flow_zip(kin_flow *f, kin_flow other, size_t out_size,
                            kin_flow_combine_fn fn, void *arg);
/** Kotlin's combine: after both flows have emitted, fn runs with the
 * latest value of each whenever either emits; completes when both do. */
KIN_EXPORT int kin_flow_combine(kin_flow *f, kin_flow other, size_t out_size,
                                kin_flow_combine_fn fn, void *arg);

/* -- Terminal operators: they collect f (a borrowed reference) in the
 * calling coroutine and suspend. Errors besides the flow's own failure:
 * KIN_EINVAL, KIN_ESTALE, KIN_ENOTCORO, KIN_ENOMEM. */

/** Kotlin's collect: calls fn with each value. */
KIN_EXPORT int kin_flow_collect(kin_flow f, kin_flow_value_fn fn, void *arg);
/** Kotlin's first: stores the first value (size bytes) and stops the
 * upstream; KIN_ENOELEM if the flow is empty. */
KIN_EXPORT int kin_flow_first(kin_flow f, void *out, size_t size);
/** Kotlin's single: the only value; KIN_ENOELEM if empty, KIN_EFLOW if
 * there is more than one ("Flow has more than one element"). */
KIN_EXPORT int kin_flow_single(kin_flow f, void *out, size_t size);
/** Kotlin's reduce: acc = the first value, then fn(acc, value) for each
 * following one; KIN_ENOELEM if empty. size is the flow's elem_size. */
KIN_EXPORT int kin_flow_reduce(kin_flow f, void *acc, size_t size,
                               kin_flow_fold_fn fn, void *arg);
/** Kotlin's fold: acc (acc_size bytes, any size, initialised by the
 * caller) is folded with fn over each value. */
KIN_EXPORT int kin_flow_fold(kin_flow f, void *acc, size_t acc_size,
                             kin_flow_fold_fn fn, void *arg);
/** Kotlin's count. */
KIN_EXPORT int kin_flow_count(kin_flow f, uint64_t *out);
/** Kotlin's toList: *values gets a malloc'd array (free it with free())
 * of *n values; NULL when the flow is empty. On error nothing is kept. */
KIN_EXPORT int kin_flow_to_array(kin_flow f, void **values, size_t *n);
/** Kotlin's launchIn(scope): launches a coroutine that collects f
 * (ignoring the values: use kin_flow_on_each) in scope (zero: as a child
 * of the calling coroutine, KIN_ENOTCORO outside one). The flow is
 * retained until that coroutine completes. job may be NULL (L2). Does not
 * suspend. Errors as kin_scope_launch / kin_launch. */
KIN_EXPORT int kin_flow_launch_in(kin_flow f, kin_scope scope, kin_job *job);
/**@}*/

/* ---- Hot flows: StateFlow and SharedFlow ----------------------------------
 * State that many observers watch. A hot flow exists independently of its
 * collectors: values are set or emitted into it from any thread, and each
 * collector (through kin_state_flow_as_flow / kin_shared_flow_as_flow, a
 * cold kin_flow usable with every operator and terminal) sees them from the
 * moment it subscribes. Collecting a hot flow never completes normally:
 * it ends when the collector is cancelled or stops (take, first).
 * Handles are checked (KIN_ESTALE after destroy). Destroying a hot flow
 * with collectors cancels their collects (they return KIN_ECANCELED).
 */
/**@{*/

/** A StateFlow handle; zero is none. */
typedef struct kin_state_flow {
    uint64_t id; /**< opaque */
} kin_state_flow;

/** A SharedFlow handle; zero is none. */
typedef struct kin_shared_flow {
    uint64_t id; /**< opaque */
} kin_shared_flow;

/** Kotlin's MutableStateFlow(initial): always has a value (elem_size bytes
 * copied from initial); setting an equal value (eq; NULL compares bytes)
 * changes nothing; slow collectors skip intermediate values (conflated).
 * Returns 0, KIN_EINVAL, KIN_ENOMEM. Any thread. */
KIN_EXPORT int kin_state_flow_new(kin_state_flow *out, size_t elem_size,
                                  const void *initial, kin_flow_equal_fn eq,
                                  void *eq_arg);
/** Destroys s: its collects end with KIN_ECANCELED, and s becomes stale.
 * Returns 0, KIN_EINVAL, KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_state_flow_destroy(kin_state_flow s);
/** The current value (Kotlin's value). Never suspends. Any thread. */
KIN_EXPORT int kin_state_flow_get(kin_state_flow s, void *out, size_t size);
/** Sets the value (Kotlin's value = v); returns 1 if it changed, 0 if it
 * was equal. Never suspends. Any thread. */
KIN_EXPORT int kin_state_flow_set(kin_state_flow s, const void *value,
                                  size_t size);
/** Kotlin's compareAndSet: sets update if the value equals expect;
 * returns 1 if it did, 0 if not. Any thread. */
KIN_EXPORT int kin_state_flow_compare_and_set(kin_state_flow s,
                                              const void *expect,
                                              const void *update,
                                              size_t size);
/** A cold flow that collects s: the current value first, then each new
 * one. *out holds a reference (release it). */
KIN_EXPORT int kin_state_flow_as_flow(kin_state_flow s, kin_flow *out);
/** The number of collectors now (Kotlin's subscriptionCount.value). */
KIN_EXPORT int kin_state_flow_subscribers(kin_state_flow s);

/** Options for kin_shared_flow_new; all-zero (NULL) is Kotlin's
 * MutableSharedFlow(): no replay, no buffer, emit suspends until every
 * collector has taken the value. */
typedef struct kin_shared_flow_opts {
    size_t replay;          /**< values replayed to a new collector */
    size_t extra_buffer;    /**< buffer beyond replay */
    kin_overflow overflow;  /**< when the buffer is full; a policy other
                             * than SUSPEND needs replay + extra > 0 */
} kin_shared_flow_opts;

/** Kotlin's MutableSharedFlow. Returns 0, KIN_EINVAL, KIN_ENOMEM. */
KIN_EXPORT int kin_shared_flow_new(kin_shared_flow *out, size_t elem_size,
                                   const kin_shared_flow_opts *opts);
/** Destroys s: its collects and suspended emits end with KIN_ECANCELED,
 * and s becomes stale. Returns 0, KIN_EINVAL, KIN_ESTALE. Any thread. */
KIN_EXPORT int kin_shared_flow_destroy(kin_shared_flow s);
/** Kotlin's emit: suspends while the buffer is full (SUSPEND policy) for
 * the slowest collector. Suspends. */
KIN_EXPORT int kin_shared_flow_emit(kin_shared_flow s, const void *value,
                                    size_t size);
/** Kotlin's tryEmit: 0 if emitted, KIN_FULL if it would suspend. Any
 * thread. */
KIN_EXPORT int kin_shared_flow_try_emit(kin_shared_flow s, const void *value,
                                        size_t size);
/** A cold flow that subscribes to s: the replay cache first, then every
 * value emitted while it collects. */
KIN_EXPORT int kin_shared_flow_as_flow(kin_shared_flow s, kin_flow *out);
/** The number of collectors now (Kotlin's subscriptionCount.value). */
KIN_EXPORT int kin_shared_flow_subscribers(kin_shared_flow s);
/** Kotlin's resetReplayCache. */
KIN_EXPORT int kin_shared_flow_reset_replay(kin_shared_flow s);
/**@}*/

/* ---- Retry with exponential backoff -------------------------------------- */

/** How kin_retry and kin_flow_retry_backoff retry; all-zero (or NULL) are
 * the defaults shown. The delay before attempt k (k = 1, 2, ...; attempt 0
 * is the first try) is min(base_ms * factor^(k-1), max_ms), then scaled by
 * a random factor in [1 - jitter, 1 + jitter]. Cancellations are never
 * retried. */
typedef struct kin_retry_opts {
    uint32_t attempts;  /**< tries in all, the first included; 0: 3 */
    int64_t base_ms;    /**< delay before the second try; 0: 100 */
    double factor;      /**< growth per try (>= 1); 0: 2.0 */
    int64_t max_ms;     /**< cap on one delay; 0: no cap */
    double jitter;      /**< 0..1; 0: none (exact delays) */
    uint64_t seed;      /**< jitter's random seed; 0: from the clock */
    /** Which failures to retry (1 yes, 0 no, negative: a failure of its
     * own); NULL: every failure. Gets the attempt that failed. */
    kin_flow_retry_fn retry_if;
    void *arg; /**< passed to retry_if */
} kin_retry_opts;

/** Calls fn(arg) until it returns 0 or a negative code that is not to be
 * retried, sleeping (kin_delay: cancellable, virtual under kin_run_test)
 * between tries. Returns fn's last result (0 or its failure, which stays
 * the current error), KIN_ECANCELED if cancelled (during a delay: at once),
 * KIN_EINVAL (fn NULL, bad options), KIN_ENOTCORO. Suspends. */
KIN_EXPORT int kin_retry(const kin_retry_opts *opts, kin_fn fn, void *arg);

/** kin_flow_retry_when with the delays and predicate of opts (copied). */
KIN_EXPORT int kin_flow_retry_backoff(kin_flow *f, const kin_retry_opts *opts);

/* ---- Debugging ----------------------------------------------------------- */

/** Prints the tree of live jobs to out (Kotlin's dumpCoroutines): each root
 * (scope objects, global-scope coroutines, kin_run_blocking) and below it
 * every job not yet completed, one line each, indented by depth: kind, name
 * and id, state, dispatcher and thread, what it is suspended on (a delay and
 * when it ends, the job it joins or awaits, its children, an fd, a channel
 * send or receive, a select, a mutex or a semaphore), how much of its
 * stack is in use and the most it has touched, and, in builds of your
 * program without NDEBUG, where it was launched (file:line). It streams: a
 * tree of a million jobs needs no memory beyond the FILE's buffer. Safe at
 * any time from any thread, inside or outside coroutines, while others
 * launch and complete: it holds each job's lock while printing its line,
 * so completions under the job being printed wait for it. Returns the
 * number of jobs printed, or KIN_EINVAL (out NULL). */
KIN_EXPORT int kin_dump(FILE *out);

/** Makes the signal signo print a dump to the file descriptor fd (for
 * example SIGUSR1 and 2 for stderr). The handler only writes a byte to a
 * pipe; a thread that kin starts does the dump, so it is safe whatever the
 * signal interrupts. Returns 0, KIN_EINVAL (a signal that cannot be caught,
 * or fd < 0), KIN_ENOMEM. Any thread; the last call wins. */
KIN_EXPORT int kin_dump_on_signal(int signo, int fd);

/** Notes where the next launch on this thread comes from: used by the
 * macros below, which a build of your program without NDEBUG gets. */
KIN_EXPORT void kin_launch_site(const char *file, int line);

#if !defined(NDEBUG) && !defined(KIN_NO_LAUNCH_SITES)
#define kin_launch(...)                                                        \
    (kin_launch_site(__FILE__, __LINE__), kin_launch(__VA_ARGS__))
#define kin_async(...)                                                         \
    (kin_launch_site(__FILE__, __LINE__), kin_async(__VA_ARGS__))
#define kin_scope_launch(...)                                                  \
    (kin_launch_site(__FILE__, __LINE__), kin_scope_launch(__VA_ARGS__))
#define kin_scope_async(...)                                                   \
    (kin_launch_site(__FILE__, __LINE__), kin_scope_async(__VA_ARGS__))
#endif

#ifdef __cplusplus
}
#endif

#endif /* KIN_H */
