/* Seed 003, "loadDashboardStrict": all-or-nothing, the first failure cancels the other fetches.
 *
 *   suspend fun fetchUserData(): String { println("[User] Starting fetch..."); delay(300); println("[User] Done"); return "User: Alice" }
 *   suspend fun fetchOrders(): String { println("[Orders] Starting fetch..."); delay(200); println("[Orders] Failing!"); throw RuntimeException("Orders service unavailable") }
 *   suspend fun fetchRecommendations(): String { println("[Recs] Starting fetch..."); delay(500); println("[Recs] Done"); return "Recs: Kotlin Books" }
 *
 *   suspend fun s003_dashboard_strict() {
 *       try {
 *           coroutineScope {
 *               val user = async { fetchUserData() }
 *               val orders = async { fetchOrders() }
 *               val recs = async { fetchRecommendations() }
 *               println("User: ${user.await()}")
 *               println("Orders: ${orders.await()}")
 *               println("Recs: ${recs.await()}")
 *           }
 *       } catch (e: RuntimeException) { println("Dashboard failed: ${e.message}") }
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int fetch_user_data(void *arg, void **result) {
    (void)arg;
    printf("[User] Starting fetch...\n");
    KIN_TRY(kin_delay(300));
    printf("[User] Done\n");
    *result = "User: Alice";
    return 0;
}

static int fetch_orders(void *arg, void **result) {
    (void)arg;
    (void)result;
    printf("[Orders] Starting fetch...\n");
    KIN_TRY(kin_delay(200));
    printf("[Orders] Failing!\n");
    return kin_fail("RuntimeException", "Orders service unavailable");
}

static int fetch_recommendations(void *arg, void **result) {
    (void)arg;
    printf("[Recs] Starting fetch...\n");
    KIN_TRY(kin_delay(500));
    printf("[Recs] Done\n");
    *result = "Recs: Kotlin Books";
    return 0;
}

static int dashboard(void *arg) {
    (void)arg;
    kin_job user, orders, recs;
    KIN_TRY(kin_async(&user, NULL, fetch_user_data, NULL));
    KIN_TRY(kin_async(&orders, NULL, fetch_orders, NULL));
    KIN_TRY(kin_async(&recs, NULL, fetch_recommendations, NULL));
    void *value;
    KIN_TRY(kin_await(user, &value));
    printf("User: %s\n", (const char *)value);
    KIN_TRY(kin_await(orders, &value));
    printf("Orders: %s\n", (const char *)value);
    KIN_TRY(kin_await(recs, &value));
    printf("Recs: %s\n", (const char *)value);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    int rc = kin_coroutine_scope(dashboard, NULL);
    if (rc == KIN_EFAILED)
        printf("Dashboard failed: %s\n", kin_error_message(kin_last_error()));
    else
        KIN_TRY(rc);
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
