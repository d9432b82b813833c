/* async / await: two fetches run at the same time, then both are awaited. */
#include <stdio.h>

#include <kin.h>

static int fetch_user(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    *result = "user";
    return 0;
}

static int fetch_orders(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(200));
    *result = "orders";
    return 0;
}

static int two_results(void *arg) {
    (void)arg;
    kin_job user_deferred, orders_deferred;
    KIN_TRY(kin_async(&user_deferred, NULL, fetch_user, NULL));
    KIN_TRY(kin_async(&orders_deferred, NULL, fetch_orders, NULL));
    void *user, *orders;
    KIN_TRY(kin_await(user_deferred, &user));
    KIN_TRY(kin_await(orders_deferred, &orders));
    printf("Got %s and %s\n", (char *)user, (char *)orders);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(two_results, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
