// kin.h from C++: the header compiles as C++11 (-Wall -Wextra -Werror
// -pedantic) and the library works from C++ code. Designated initialisers
// are C++20, so options are value-initialised and then assigned.
#include <kin.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

static int failures = 0;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,        \
                         __LINE__, #cond);                                     \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static std::atomic<int> handled(0);

extern "C" {

static int count_up(void *arg) {
    std::atomic<int> *count = static_cast<std::atomic<int> *>(arg);
    KIN_TRY(kin_delay(5));
    ++*count;
    return 0;
}

static int answer(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(5));
    *result = const_cast<char *>("42");
    return 0;
}

static int fails(void *arg) {
    (void)arg;
    return kin_fail("IllegalStateException", "failed in C++ %d", 11);
}

static int launches_failing_child(void *arg) {
    (void)arg;
    return kin_launch(NULL, NULL, fails, NULL);
}

static void handler(kin_job job, const kin_error *failure, void *arg) {
    (void)job;
    (void)arg;
    if (std::strcmp(kin_error_message(failure), "failed in C++ 11") == 0)
        ++handled;
}

static int launches_with_handler(void *arg) {
    (void)arg;
    kin_launch_opts opts = kin_launch_opts();
    opts.handler = handler;
    return kin_launch(NULL, &opts, fails, NULL);
}

static int sleeps(void *arg) {
    (void)arg;
    return kin_delay(10000);
}

static int body(void *arg) {
    (void)arg;
    // launch: children of this coroutine, one on IO with a name.
    std::atomic<int> count(0);
    kin_launch_opts opts = kin_launch_opts();
    opts.name = "cpp";
    opts.dispatcher = kin_dispatcher_io();
    kin_job named, plain;
    KIN_TRY(kin_launch(&named, &opts, count_up, &count));
    KIN_TRY(kin_launch(&plain, NULL, count_up, &count));
    char name[64];
    CHECK(kin_job_name(named, name, sizeof name) > 0);
    CHECK(std::string(name).compare(0, 4, "cpp#") == 0);
    const kin_job both[] = {named, plain};
    KIN_TRY(kin_join_all(both, 2));
    CHECK(count.load() == 2);
    CHECK(kin_job_state(named) == KIN_STATE_COMPLETED);

    // A captureless lambda is a body too.
    kin_fn lambda = [](void *p) -> int {
        ++*static_cast<std::atomic<int> *>(p);
        return 0;
    };
    KIN_TRY(kin_launch(NULL, NULL, lambda, &count));

    // async / await.
    kin_job deferred;
    KIN_TRY(kin_async(&deferred, NULL, answer, NULL));
    void *value = NULL;
    KIN_TRY(kin_await(deferred, &value));
    CHECK(std::string(static_cast<const char *>(value)) == "42");
    CHECK(count.load() == 3);

    // A failing child fails coroutine_scope; the error object says why.
    CHECK(kin_coroutine_scope(launches_failing_child, NULL) == KIN_EFAILED);
    const kin_error *e = kin_last_error();
    CHECK(std::string(kin_error_type(e)) == "IllegalStateException");
    CHECK(std::string(kin_error_message(e)) == "failed in C++ 11");
    kin_clear_error();

    // Under a supervisor the child's handler gets it.
    KIN_TRY(kin_supervisor_scope(launches_with_handler, NULL));
    CHECK(handled.load() == 1);

    // Timeouts.
    CHECK(kin_with_timeout(20, sleeps, NULL) == KIN_ETIMEDOUT);
    CHECK(kin_with_timeout_or_null(20, sleeps, NULL) == KIN_NULL);
    return 0;
}

} // extern "C"

int main() {
    CHECK(std::string(kin_version()) == KIN_VERSION_STRING);
    CHECK(kin_run_blocking(body, NULL) == 0);
    CHECK(kin_shutdown() == 0);
    if (failures != 0)
        return 1;
    std::printf("test_cpp: ok\n");
    return 0;
}
