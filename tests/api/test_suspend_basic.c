/* kin_suspend and kin_resume (Kotlin's suspendCancellableCoroutine): start
 * runs before the coroutine parks; a resume from another coroutine, a plain
 * thread or a Default worker wakes it on its own thread with the value,
 * exactly once; a resume from start itself returns without parking; a
 * failure comes back as the return code and the current error; a second
 * resume, a resume of a suspension that is over and one whose coroutine was
 * reclaimed are errors, never crashes; kin_dump names the wait. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

static kin_cont g_cont;

static void keep_cont(kin_cont cont, void *arg) {
    (void)arg;
    EXPECT(2); /* start runs in kin_suspend, before anything else */
    CHECK(kin_cont_is_active(cont));
    g_cont = cont;
}

/* ---- A resume from another coroutine of the same thread ----------------- */

static int resumer(void *arg) {
    (void)arg;
    EXPECT(3); /* runs only once the suspended coroutine has parked */
    CHECK(kin_cont_is_active(g_cont));
    CHECK_EQ(kin_resume(g_cont, "value"), 0);
    CHECK(!kin_cont_is_active(g_cont));
    /* A second resume is an error with a message, and changes nothing. */
    CHECK_EQ(kin_resume(g_cont, "second"), KIN_EALREADY);
    CHECK(strstr(last_message(), "already resumed"));
    EXPECT(4);
    return 0;
}

static int same_thread(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, resumer, NULL), 0);
    void *v = NULL;
    CHECK_EQ(kin_suspend(keep_cont, NULL, &v), 0);
    EXPECT(5);
    CHECK_STR((const char *)v, "value");
    kin_cont old = g_cont;
    /* The suspension is over: its continuation stays refused even after
     * the coroutine suspends again, and the new one is different. */
    CHECK_EQ(kin_resume(old, "late"), KIN_EALREADY);
    CHECK(strstr(last_message(), "already resumed"));
    CHECK_EQ(kin_launch(NULL, NULL, resumer, NULL), 0);
    check_step_ = 1;
    CHECK_EQ(kin_suspend(keep_cont, NULL, &v), 0);
    CHECK(g_cont.job == old.job && g_cont.seq == old.seq + 1);
    CHECK_EQ(kin_resume(old, "late"), KIN_EALREADY);
    CHECK(strstr(last_message(), "moved on"));
    FINISH(5);
    return 0;
}

/* ---- start resumes at once: no parking (Kotlin's fast path) ------------- */

static int bystander_ran;

static int bystander(void *arg) {
    (void)arg;
    bystander_ran = 1;
    return 0;
}

static void resume_now(kin_cont cont, void *arg) {
    EXPECT(2);
    CHECK_EQ(kin_resume(cont, arg), 0);
    CHECK(!kin_cont_is_active(cont));
    CHECK_EQ(kin_resume(cont, arg), KIN_EALREADY);
    g_cont = cont;
}

static int fast_path(void *arg) {
    (void)arg;
    check_step_ = 0;
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, bystander, NULL), 0);
    void *v = NULL;
    int x = 42;
    CHECK_EQ(kin_suspend(resume_now, &x, &v), 0);
    EXPECT(3);
    CHECK(v == &x);
    /* It never parked: the queued coroutine has not run yet. */
    CHECK_EQ(bystander_ran, 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(bystander_ran, 1);
    FINISH(4);
    return 0;
}

/* ---- A failure ----------------------------------------------------------- */

static kin_error *g_failure;

static void fail_now(kin_cont cont, void *arg) {
    (void)arg;
    g_failure = kin_error_new(-5, "IOException", "disk on fire");
    kin_error_retain(g_failure);
    CHECK_EQ(kin_resume_error(cont, g_failure), 0);
}

static int failure(void *arg) {
    (void)arg;
    void *v = (void *)1;
    CHECK_EQ(kin_suspend(fail_now, NULL, &v), -5);
    CHECK(kin_last_error() == g_failure); /* the same object */
    CHECK_STR(kin_error_type(kin_last_error()), "IOException");
    CHECK(v == (void *)1); /* untouched */
    kin_error_release(g_failure);
    return 0;
}

/* ---- A plain thread resumes: the coroutine continues on its own thread -- */

static void *thread_resumer(void *arg) {
    kin_cont cont = *(kin_cont *)arg;
    usleep(20000); /* the coroutine has parked by now (not required) */
    CHECK(kin_cont_is_active(cont));
    CHECK_EQ(kin_resume(cont, "from a thread"), 0);
    CHECK_EQ(kin_resume(cont, "again"), KIN_EALREADY);
    return NULL;
}

static pthread_t g_thread;

static void start_thread(kin_cont cont, void *arg) {
    (void)arg;
    g_cont = cont;
    CHECK_EQ(pthread_create(&g_thread, NULL, thread_resumer, &g_cont), 0);
}

static int other_thread(void *arg) {
    (void)arg;
    pthread_t me = pthread_self();
    void *v = NULL;
    CHECK_EQ(kin_suspend(start_thread, NULL, &v), 0);
    CHECK(pthread_equal(me, pthread_self()));
    CHECK_STR((const char *)v, "from a thread");
    pthread_join(g_thread, NULL);
    return 0;
}

/* ---- A Default worker resumes, then a Default coroutine suspends -------- */

static int default_resumer(void *arg) {
    kin_cont cont = *(kin_cont *)arg;
    CHECK_EQ(kin_resume(cont, "from Default"), 0);
    return 0;
}

static void start_on_default(kin_cont cont, void *arg) {
    (void)arg;
    g_cont = cont;
    CHECK_EQ(kin_scope_launch(kin_global_scope(), NULL, NULL, default_resumer,
                              &g_cont),
             0);
}

static void *plain_resumer(void *arg) {
    kin_cont *c = arg;
    /* Wait until the coroutine on Default has handed its continuation. */
    while (!atomic_load((_Atomic uint64_t *)&c->seq))
        usleep(100);
    CHECK_EQ(kin_resume(*c, "to Default"), 0);
    return NULL;
}

static void publish(kin_cont cont, void *arg) {
    kin_cont *c = arg;
    atomic_store((_Atomic uint64_t *)&c->job, cont.job);
    atomic_store((_Atomic uint64_t *)&c->seq, cont.seq);
}

static int on_default(void *arg) {
    (void)arg;
    pthread_t me = pthread_self();
    static kin_cont c;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, plain_resumer, &c), 0);
    void *v = NULL;
    CHECK_EQ(kin_suspend(publish, &c, &v), 0);
    CHECK(pthread_equal(me, pthread_self())); /* stayed on its worker */
    CHECK_STR((const char *)v, "to Default");
    pthread_join(t, NULL);
    return 0;
}

static int default_worker(void *arg) {
    (void)arg;
    void *v = NULL;
    CHECK_EQ(kin_suspend(start_on_default, NULL, &v), 0);
    CHECK_STR((const char *)v, "from Default");
    CHECK_EQ(kin_with_context(kin_dispatcher_default(), on_default, NULL), 0);
    return 0;
}

/* ---- Stale: the coroutine's record was reclaimed ------------------------- */

static void resume_later(kin_cont cont, void *arg) {
    *(kin_cont *)arg = cont;
    CHECK_EQ(kin_resume(cont, NULL), 0);
}

static int suspends_once(void *arg) {
    return kin_suspend(resume_later, arg, NULL);
}

static int stale(void *arg) {
    (void)arg;
    kin_cont c = {0, 0};
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, suspends_once, &c), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(c.seq == 1);
    CHECK_EQ(kin_resume(c, NULL), KIN_EALREADY); /* the handle keeps it */
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(kin_resume(c, NULL), KIN_ESTALE);
    CHECK(strstr(last_message(), "stale continuation"));
    CHECK(!kin_cont_is_active(c));
    return 0;
}

/* ---- kin_dump names the wait ---------------------------------------------*/

static void hand_out(kin_cont cont, void *arg) {
    (void)arg;
    g_cont = cont;
}

static int dumped(void *arg) {
    (void)arg;
    return kin_suspend(hand_out, NULL, NULL);
}

static int dump(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_launch(&j, &(kin_launch_opts){.name = "by-hand"}, dumped,
                        NULL),
             0);
    CHECK_EQ(kin_yield(), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(kin_dump(f) > 0);
    fclose(f);
    const char *line = strstr(buf, "by-hand#");
    CHECK(line);
    const char *eol = strchr(line, '\n');
    const char *what = strstr(line, "suspended by hand (kin_suspend)");
    if (!what || (eol && what > eol)) {
        fprintf(stderr, "dump lacks the wait:\n%s", buf);
        exit(1);
    }
    free(buf);
    CHECK_EQ(kin_resume(g_cont, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(same_thread, NULL), 0);
    CHECK_EQ(kin_run_blocking(fast_path, NULL), 0);
    CHECK_EQ(kin_run_blocking(failure, NULL), 0);
    CHECK_EQ(kin_run_blocking(other_thread, NULL), 0);
    CHECK_EQ(kin_run_blocking(default_worker, NULL), 0);
    CHECK_EQ(kin_run_blocking(stale, NULL), 0);
    CHECK_EQ(kin_run_blocking(dump, NULL), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
