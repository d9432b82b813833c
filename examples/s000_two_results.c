/* Seed 000, "two results": two async fetches run concurrently, then both are awaited.
 *
 *   suspend fun fetchUserOk(): String { delay(100); return "user" }
 *   suspend fun fetchOrdersOk(): String { delay(200); return "orders" }
 *   suspend fun s000_two_results() = coroutineScope {
 *       val userDeferred = async { fetchUserOk() }
 *       val ordersDeferred = async { fetchOrdersOk() }
 *       val user = userDeferred.await()
 *       val orders = ordersDeferred.await()
 *       println("Got $user and $orders")
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int fetch_user_ok(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    *result = "user";
    return 0;
}

static int fetch_orders_ok(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(200));
    *result = "orders";
    return 0;
}

static int two_results(void *arg) {
    (void)arg;
    kin_job user_deferred, orders_deferred;
    KIN_TRY(kin_async(&user_deferred, NULL, fetch_user_ok, NULL));
    KIN_TRY(kin_async(&orders_deferred, NULL, fetch_orders_ok, NULL));
    void *user, *orders;
    KIN_TRY(kin_await(user_deferred, &user));
    KIN_TRY(kin_await(orders_deferred, &orders));
    printf("Got %s and %s\n", (const char *)user, (const char *)orders);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(two_results, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
