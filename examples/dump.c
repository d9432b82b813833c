/* kin_dump: print the tree of live coroutines, like kotlinx-coroutines-debug's dumpCoroutines.
 *
 * A small "server": a scope object with a few connections waiting in
 * delays, one of them awaiting a fetch that runs on IO. The program prints
 * the tree, then sends itself SIGUSR1, which kin_dump_on_signal turns into
 * a second dump on stderr (done by a kin thread, not in the handler).
 */
#undef NDEBUG /* a debug build: kin records where each coroutine was launched */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <kin.h>

static int fetch(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(5000)); /* a slow backend */
    *result = "profile";
    return 0;
}

static int connection(void *arg) {
    long id = (long)arg;
    if (id == 2) {
        kin_job profile;
        KIN_TRY(kin_async(&profile,
                          &(kin_launch_opts){.name = "fetch",
                                             .dispatcher = kin_dispatcher_io()},
                          fetch, NULL));
        return kin_await(profile, NULL);
    }
    return kin_delay(10000 + id);
}

static int body(void *arg) {
    kin_scope *server = arg;
    for (long id = 1; id <= 3; id++)
        KIN_TRY(kin_scope_launch(*server, NULL,
                                 &(kin_launch_opts){.name = "connection"},
                                 connection, (void *)id));
    KIN_TRY(kin_delay(100)); /* let them start */
    kin_dump(stdout);
    raise(SIGUSR1); /* the same dump, on stderr */
    KIN_TRY(kin_delay(100));
    return kin_scope_cancel(*server, NULL);
}

int main(void) {
    kin_dump_on_signal(SIGUSR1, STDERR_FILENO);
    kin_scope server;
    if (kin_scope_new(&server, &(kin_scope_opts){
                                   .name = "server",
                                   .dispatcher = kin_dispatcher_main()}) < 0)
        return 1;
    int rc = kin_run_blocking(body, &server);
    kin_scope_close(server);
    return rc == 0 ? 0 : 1;
}
