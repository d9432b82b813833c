/* kin_run_blocking_opts: runBlocking(handler + CoroutineName("..")). The
 * handler is inherited by the coroutines of the run, so a supervisor's
 * failing child reports there instead of the process-wide default; the
 * name is the root coroutine's. */
#include "check.h"

static int calls;
static void handler(kin_job job, const kin_error *failure, void *arg) {
    (void)job;
    CHECK_STR(arg, "ctx");
    CHECK_STR(kin_error_message(failure), "child failed");
    calls++;
}

static void default_handler(kin_job job, const kin_error *failure, void *arg) {
    (void)job, (void)failure, (void)arg;
    CHECK(!"the default handler was called");
}

static int failing(void *arg) {
    (void)arg;
    return kin_fail("RuntimeException", "child failed");
}

static int supervised(void *arg) {
    (void)arg;
    CHECK_EQ(kin_launch(NULL, NULL, failing, NULL), 0);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    char name[64];
    CHECK(kin_job_name(kin_current_job(), name, sizeof name) > 0);
    CHECK(strncmp(name, "main-loop#", 10) == 0);
    CHECK_EQ(kin_supervisor_scope(supervised, NULL), 0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(kin_delay(1000), 0); /* virtual: takes no real time */
    return 0;
}

int main(void) {
    kin_set_default_handler(default_handler, NULL);
    CHECK_EQ(kin_run_blocking_opts(&(kin_run_opts){.handler = handler,
                                                   .handler_arg = "ctx",
                                                   .name = "main-loop",
                                                   .virtual_time = true},
                                   body, NULL),
             0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(kin_run_blocking_opts(NULL, NULL, NULL), KIN_EINVAL);
    kin_set_default_handler(NULL, NULL);
    return 0;
}
