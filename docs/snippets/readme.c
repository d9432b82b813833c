/* The README's example: two fetches at once; the first failure would
 * cancel the other and reach the caller. */
#include <kin.h>
#include <stdio.h>

static int fetch(void *what, void **out) {
    KIN_TRY(kin_delay(100)); /* suspends; a cancellation ends it here */
    *out = what;
    return 0;
}
static int body(void *name) {
    kin_job user, orders; void *u, *o;
    KIN_TRY(kin_async(&user, NULL, fetch, name));
    KIN_TRY(kin_async(&orders, NULL, fetch, "3 orders"));
    KIN_TRY(kin_await(user, &u));
    KIN_TRY(kin_await(orders, &o));
    printf("%s has %s\n", (char *)u, (char *)o); /* after 100 ms, not 200 */
    return 0;
}
int main(void) { return kin_run_blocking(body, "Alice") < 0; }
