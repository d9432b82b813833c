/* Main hosted in the program's own poll() loop, with a screen scope. */
#define _DEFAULT_SOURCE /* usleep */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <kin.h>

static bool loaded, closed;

static int fetch(void *arg) { /* on IO */
    *(int *)arg = 42;
    usleep(20 * 1000); /* a blocking call */
    return 0;
}

static int load(void *arg) { /* on Main: the host's thread */
    (void)arg;
    int n = 0;
    KIN_TRY(kin_with_context(kin_dispatcher_io(), fetch, &n));
    printf("loaded %d items\n", n);
    loaded = true;
    return kin_delay(60000); /* keeps refreshing until the screen goes */
}

static void on_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)arg;
    printf("screen done: %s\n", kin_error_message(cause));
    closed = true;
}

int main(void) {
    kin_main_attach();
    kin_scope screen; /* viewModelScope: SupervisorJob() + Dispatchers.Main */
    kin_scope_new(&screen, &(kin_scope_opts){
                               .supervisor = true,
                               .dispatcher = kin_dispatcher_main()});
    kin_invoke_on_completion(kin_scope_job(screen), on_done, NULL);
    kin_scope_launch(screen, NULL, NULL, load, NULL);

    while (!closed) { /* the host's own loop */
        struct pollfd p = {.fd = kin_main_fd(), .events = POLLIN};
        poll(&p, 1, kin_main_timeout_ms());
        kin_main_run_ready();
        if (loaded) { /* "onCleared": the user left the screen */
            loaded = false;
            kin_scope_close_nowait(screen);
        }
    }
    kin_main_detach();
    return 0;
}
