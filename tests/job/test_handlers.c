/* DESIGN rule 7: an uncaught failure of a launch coroutine whose parent does
 * not handle it (a root, or a child of a supervisor) goes to the handler in
 * its context, else to the default handler; async never calls a handler; a
 * handler on a child inside coroutine_scope is not called. Rule 12: a root
 * reports only after its children finished their cleanup. */
#include <unistd.h>

#include "check.h"

static int calls_local, calls_scope, calls_default;
static char last_name[64];

static void local_handler(kin_job job, const kin_error *e, void *arg) {
    (void)arg;
    calls_local++;
    kin_job_name(job, last_name, sizeof last_name);
    CHECK(kin_error_code(e) == KIN_EFAILED);
}

static void scope_handler(kin_job job, const kin_error *e, void *arg) {
    (void)job;
    calls_scope++;
    CHECK_STR((const char *)arg, "scope-arg");
    CHECK_STR(kin_error_message(e), "in scope object");
}

static void default_handler(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)e, (void)arg;
    calls_default++;
}

static int fails(void *arg) {
    return kin_fail("RuntimeException", "%s", arg ? (const char *)arg : "boom");
}

static int fails_async(void *arg, void **out) {
    (void)arg, (void)out;
    return kin_fail("RuntimeException", "async boom");
}

#include <stdatomic.h>

static atomic_int cleanup_done, cleanup_started;

static int slow_cleanup(void *arg) {
    (void)arg;
    atomic_store(&cleanup_started, 1);
    int rc = kin_delay(100000);
    kin_delay(0);
    cleanup_done = 1;
    return rc;
}

static int fails_after_child(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, slow_cleanup, NULL));
    while (!atomic_load(&cleanup_started)) /* it may run on another worker */
        KIN_TRY(kin_yield());
    return kin_fail("RuntimeException", "root failure");
}

static void root_handler(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)arg;
    CHECK_EQ(cleanup_done, 1); /* rule 12 */
    CHECK_STR(kin_error_message(e), "root failure");
    calls_local++;
}

static int in_supervisor(void *arg) {
    (void)arg;
    kin_launch_opts o = {.handler = local_handler, .name = "worker"};
    KIN_TRY(kin_launch(NULL, &o, fails, NULL));
    KIN_TRY(kin_launch(NULL, NULL, fails, NULL)); /* no handler: default */
    kin_job d;
    KIN_TRY(kin_async(&d, &o, fails_async, NULL)); /* never a handler */
    return 0;
}

static int in_scope(void *arg) {
    (void)arg;
    kin_launch_opts o = {.handler = local_handler};
    return kin_launch(NULL, &o, fails, NULL);
}

static int body(void *arg) {
    (void)arg;
    /* A child of a supervisor: its handler, or the default. */
    CHECK_EQ(kin_supervisor_scope(in_supervisor, NULL), 0);
    CHECK_EQ(calls_local, 1);
    CHECK_EQ(calls_default, 1);
    CHECK(strncmp(last_name, "worker#", 7) == 0);

    /* A handler inside coroutine_scope is not called: the scope fails. */
    CHECK_EQ(kin_coroutine_scope(in_scope, NULL), KIN_EFAILED);
    CHECK_EQ(calls_local, 1);

    /* A root coroutine (global scope): its handler, after its children. */
    kin_job r;
    kin_launch_opts ro = {.handler = root_handler};
    CHECK_EQ(
        kin_scope_launch(kin_global_scope(), &r, &ro, fails_after_child, NULL),
        0);
    CHECK_EQ(kin_join(r), 0);
    CHECK_EQ(calls_local, 2);
    kin_job_release(r);

    /* A root with no handler: the default handler. */
    CHECK_EQ(kin_scope_launch(kin_global_scope(), &r, NULL, fails, NULL), 0);
    CHECK_EQ(kin_join(r), 0);
    CHECK_EQ(calls_default, 2);
    kin_job_release(r);

    /* A scope object with Job() + handler: the scope is cancelled AND the
     * handler is called (the root job does not handle failures). */
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, &(kin_scope_opts){.handler = scope_handler,
                                                 .handler_arg = "scope-arg"}),
             0);
    CHECK_EQ(kin_scope_launch(s, &r, NULL, fails, "in scope object"), 0);
    CHECK_EQ(kin_join(r), 0);
    CHECK_EQ(calls_scope, 1);
    CHECK(!kin_scope_is_active(s));
    CHECK_EQ(kin_scope_close(s), 0);
    return 0;
}

static int default_line(void *arg) {
    (void)arg;
    kin_job r;
    KIN_TRY(kin_scope_launch(kin_global_scope(), &r,
                             &(kin_launch_opts){.name = "printer"}, fails,
                             "printed once"));
    KIN_TRY(kin_join(r));
    return kin_job_release(r);
}

int main(void) {
    kin_set_default_handler(default_handler, NULL);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);

    /* The real default handler prints exactly one line on stderr. */
    kin_set_default_handler(NULL, NULL);
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    CHECK(tmp);
    dup2(fileno(tmp), 2);
    CHECK_EQ(kin_run_blocking(default_line, NULL), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[512] = {0};
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    CHECK(strncmp(buf, "kin: uncaught failure in coroutine 'printer#", 44) ==
          0);
    CHECK(strstr(buf, "': RuntimeException: printed once\n") != NULL);
    CHECK(strchr(buf, '\n') == buf + n - 1); /* one line */
    return 0;
}
