/* Seed 000, "coroutineScope": one async fails, so its sibling is cancelled and the scope fails.
 *
 *   suspend fun s000_scope_user_fails() {
 *       try {
 *           coroutineScope {
 *               val u = async { delay(100); throw RuntimeException("user failed") ; "user" }
 *               val o = async { try { delay(300); "orders" } finally { println("orders: finally (cancelled=${!isActive})") } }
 *               val user = u.await()
 *               val orders = o.await()
 *               println("Got $user and $orders")
 *           }
 *       } catch (e: Exception) { println("scope failed: ${e.message}") }
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int fetch_user(void *arg, void **result) {
    (void)arg;
    (void)result;
    KIN_TRY(kin_delay(100));
    return kin_fail("RuntimeException", "user failed");
}

static int fetch_orders(void *arg, void **result) {
    (void)arg;
    int rc = kin_delay(300);
    if (rc == 0)
        *result = "orders";
    printf("orders: finally (cancelled=%s)\n",
           !kin_is_active() ? "true" : "false");
    return rc;
}

static int user_and_orders(void *arg) {
    (void)arg;
    kin_job u, o;
    KIN_TRY(kin_async(&u, NULL, fetch_user, NULL));
    KIN_TRY(kin_async(&o, NULL, fetch_orders, NULL));
    void *user, *orders;
    KIN_TRY(kin_await(u, &user));
    KIN_TRY(kin_await(o, &orders));
    printf("Got %s and %s\n", (const char *)user, (const char *)orders);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    if (kin_coroutine_scope(user_and_orders, NULL) < 0)
        printf("scope failed: %s\n", kin_error_message(kin_last_error()));
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
