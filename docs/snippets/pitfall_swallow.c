/* Pitfall: swallowing the cancellation code. */
#include <stdio.h>

#include <kin.h>

/* Wrong: ignores what kin_delay returns. */
static int ticker_wrong(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) {
        kin_delay(100); /* returns KIN_ECANCELED at once after the timeout */
        printf("wrong: tick %d\n", i);
    }
    return 0; /* "caught" the cancellation */
}

/* Right: passes the code on. */
static int ticker_right(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) {
        KIN_TRY(kin_delay(100));
        printf("right: tick %d\n", i);
    }
    return 0;
}

static int body(void *arg) {
    (void)arg;
    int rc = kin_with_timeout(250, ticker_wrong, NULL);
    printf("wrong: %s\n", kin_strerror(rc)); /* still the timeout */
    rc = kin_with_timeout(250, ticker_right, NULL);
    printf("right: %s\n", kin_strerror(rc));
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
