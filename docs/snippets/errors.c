/* Errors as return values: kin_fail, kin_last_error, KIN_TRY and error
 * objects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <kin.h>

struct http_error {
    int status;
};

/* throw IllegalStateException("bad state 7") */
static int check_state(int state) {
    if (state != 0)
        return kin_fail("IllegalStateException", "bad state %d", state);
    return 0;
}

/* An exception with a field: an error object with a payload. */
static int fetch(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    struct http_error *p = malloc(sizeof *p);
    if (p == NULL)
        return KIN_ENOMEM;
    p->status = 503;
    kin_error *e =
        kin_error_new(KIN_EFAILED, "HttpException", "status %d", p->status);
    if (e == NULL) {
        free(p);
        return KIN_ENOMEM;
    }
    kin_error_set_payload(e, p, free);
    return kin_fail_error(e); /* kin takes over our reference */
}

/* Fails during cleanup, after the family was cancelled: suppressed. */
static int cleanup_fails(void *arg) {
    (void)arg;
    int rc = kin_delay(1000);
    if (rc == KIN_ECANCELED)
        return kin_fail("IOException", "close failed");
    return rc;
}

static int family(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, cleanup_fails, NULL));
    KIN_TRY(kin_launch(NULL, NULL, fetch, NULL));
    return 0;
}

/* A plain -errno is a failure too. */
static int open_config(void *arg) {
    (void)arg;
    return -ENOENT;
}

static int body(void *arg) {
    (void)arg;
    int rc = check_state(7);
    printf("%s: %s: %s\n", kin_strerror(rc), kin_error_type(kin_last_error()),
           kin_error_message(kin_last_error()));
    kin_clear_error(); /* caught and handled */

    rc = kin_coroutine_scope(family, NULL);
    const kin_error *e = kin_last_error();
    const struct http_error *p = kin_error_payload(e);
    printf("scope: %s: %s (status field %d)\n", kin_error_type(e),
           kin_error_message(e), p->status);
    for (size_t i = 0; i < kin_error_suppressed_count(e); i++)
        printf("  suppressed: %s: %s\n",
               kin_error_type(kin_error_suppressed(e, i)),
               kin_error_message(kin_error_suppressed(e, i)));

    rc = kin_coroutine_scope(open_config, NULL);
    e = kin_last_error();
    printf("errno failure: %d, %s: %s, cancellation: %s\n", rc,
           kin_error_type(e), kin_error_message(e),
           kin_error_is_cancellation(e) ? "true" : "false");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
