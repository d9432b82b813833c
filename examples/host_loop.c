/* host_loop: Main in the program's own poll() loop, and a "screen" scope
 * on Main closed when the user goes back (Android's viewModelScope).
 *
 * The program owns its event loop, as a GUI toolkit, GLib, libuv or SDL
 * program does: each turn it polls its own input (a pipe standing for
 * the user's key presses) and kin's fd, with kin's timeout, then lets kin
 * run what is ready. Coroutines on Main run on this thread, between the
 * host's own events, never at the same time as them, so they may touch
 * the "UI" freely.
 *
 * The screen opens: its scope (SupervisorJob + Main, as viewModelScope)
 * launches the profile load, which fetches on IO (a blocking call, 50 ms)
 * and comes back to Main to show the result, and a refresher that would
 * reload every 10 s. Once the profile shows, the "user" presses back: the
 * host closes the scope without waiting (kin_scope_close_nowait); the
 * refresher is cancelled in the middle of its delay, and its cleanup (which
 * itself suspends, in a non-cancellable section) runs in the host's next
 * turns. Every line is printed by the single host thread in an order set
 * by cause and effect, so the output is the same on every run.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kin.h>

/* ---- The "UI": only ever touched on the host thread ---------------------- */

static int input[2];        /* the user's key presses: written to input[1] */
static bool profile_shown;  /* the screen's state */
static bool screen_closed;

static void press(const char *key) {
    if (write(input[1], key, strlen(key)) < 0)
        perror("write");
}

/* ---- The screen's coroutines (on Main) ----------------------------------- */

typedef struct profile {
    char name[32];
    int posts;
} profile;

static int fetch_profile(void *arg) { /* on IO: a blocking call is fine */
    profile *p = arg;
    nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
    snprintf(p->name, sizeof p->name, "Ada Lovelace");
    p->posts = 3;
    return 0;
}

static int load_profile(void *arg) {
    (void)arg;
    printf("[main] loading the profile...\n");
    profile p; /* lives on this coroutine's stack while IO fills it (L5) */
    int rc = kin_with_context(kin_dispatcher_io(), fetch_profile, &p);
    if (rc < 0)
        return rc;
    printf("[main] showing %s, %d posts\n", p.name, p.posts);
    profile_shown = true; /* UI state: we are on the host's thread */
    return 0;
}

static int save_draft(void *arg) {
    (void)arg;
    kin_delay(20); /* cleanup that suspends: allowed here (NonCancellable) */
    printf("[main] refresher: draft saved\n");
    return 0;
}

static int refresher(void *arg) {
    (void)arg;
    int rc;
    while ((rc = kin_delay(10000)) == 0)
        printf("[main] refreshing\n"); /* never: the screen closes first */
    printf("[main] refresher: cancelled in its delay\n");
    kin_non_cancellable(save_draft, NULL);
    return rc;
}

static void on_screen_closed(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)arg;
    printf("[host] screen scope completed (%s)\n",
           kin_error_is_cancellation(cause) ? "cancelled" : "?");
    screen_closed = true;
}

/* ---- The host's loop ------------------------------------------------------- */

int main(void) {
    if (pipe(input) < 0 || kin_main_attach() < 0) {
        fprintf(stderr, "setup failed: %s\n",
                kin_error_message(kin_last_error()));
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("[host] opening the profile screen\n");
    kin_scope screen;
    kin_scope_new(&screen,
                  &(kin_scope_opts){.supervisor = true,
                                    .dispatcher = kin_dispatcher_main(),
                                    .name = "profile-screen"});
    kin_invoke_on_completion(kin_scope_job(screen), on_screen_closed, NULL);
    kin_scope_launch(screen, NULL, NULL, load_profile, NULL);
    kin_scope_launch(screen, NULL, NULL, refresher, NULL);

    bool pressed_back = false;
    while (!screen_closed) {
        /* the script of the "user": back, once the profile shows */
        if (profile_shown && !pressed_back) {
            press("back");
            pressed_back = true;
        }
        struct pollfd fds[2] = {{.fd = input[0], .events = POLLIN},
                                {.fd = kin_main_fd(), .events = POLLIN}};
        /* the host would take the smaller of its own timeout and kin's */
        if (poll(fds, 2, kin_main_timeout_ms()) < 0 && errno != EINTR)
            return 1;
        if (fds[0].revents & POLLIN) {
            char key[16] = {0};
            if (read(input[0], key, sizeof key - 1) > 0 &&
                strcmp(key, "back") == 0) {
                printf("[host] user pressed back: closing the screen\n");
                kin_scope_close_nowait(screen); /* returns at once */
                printf("[host] back in the host loop\n");
            }
        }
        kin_main_run_ready(); /* never blocks */
    }
    kin_main_detach();
    printf("[host] bye\n");
    return 0;
}
