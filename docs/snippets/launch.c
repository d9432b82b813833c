/* launch: start a coroutine that returns no result. */
#include <stdio.h>

#include <kin.h>

static int fetch_and_print(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100)); /* fetchFromNetwork() */
    printf("Got data: payload\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, fetch_and_print, NULL));
    printf("Launched\n");
    return 0; /* run_blocking still waits for the child */
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
