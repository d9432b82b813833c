/* Seed 000, "supervisorScope": a failed async only loses its own result.
 *
 *   suspend fun s000_supervisor_orders_fail() = supervisorScope {
 *       val userDeferred = async { delay(100); "user" }
 *       val ordersDeferred = async { delay(50); throw RuntimeException("orders failed"); "orders" }
 *       val user = try { userDeferred.await() } catch (e: Exception) { null }
 *       val orders = try { ordersDeferred.await() } catch (e: Exception) { null }
 *       println("User: $user, Orders: $orders")
 *   }
 */
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
    (void)result;
    KIN_TRY(kin_delay(50));
    return kin_fail("RuntimeException", "orders failed");
}

/* Kotlin's string template prints a null reference as "null". */
static const char *str(const void *s) { return s ? s : "null"; }

static int supervisor_orders_fail(void *arg) {
    (void)arg;
    kin_job user_deferred, orders_deferred;
    KIN_TRY(kin_async(&user_deferred, NULL, fetch_user, NULL));
    KIN_TRY(kin_async(&orders_deferred, NULL, fetch_orders, NULL));
    void *user, *orders;
    if (kin_await(user_deferred, &user) < 0)
        user = NULL;
    if (kin_await(orders_deferred, &orders) < 0)
        orders = NULL;
    printf("User: %s, Orders: %s\n", str(user), str(orders));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_supervisor_scope(supervisor_orders_fail, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
