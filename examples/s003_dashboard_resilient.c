/* Seed 003, "loadDashboardResilient": each fetch fails alone and gets a fallback.
 *
 *   suspend fun fetchUserData(): String { println("[User] Starting fetch..."); delay(300); println("[User] Done"); return "User: Alice" }
 *   suspend fun fetchOrders(): String { println("[Orders] Starting fetch..."); delay(200); println("[Orders] Failing!"); throw RuntimeException("Orders service unavailable") }
 *   suspend fun fetchRecommendations(): String { println("[Recs] Starting fetch..."); delay(500); println("[Recs] Done"); return "Recs: Kotlin Books" }
 *
 *   suspend fun s003_dashboard_resilient() = supervisorScope {
 *       val user = async { fetchUserData() }
 *       val orders = async { fetchOrders() }
 *       val recs = async { fetchRecommendations() }
 *       val userData = try { user.await() } catch (e: RuntimeException) { "User: unavailable" }
 *       val orderData = try { orders.await() } catch (e: RuntimeException) { "Orders: unavailable" }
 *       val recData = try { recs.await() } catch (e: RuntimeException) { "Recs: unavailable" }
 *       println(userData); println(orderData); println(recData)
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

/* try { deferred.await() } catch (e: RuntimeException) { fallback } */
static int await_or(kin_job deferred, const char *fallback, const char **data) {
    void *value;
    int rc = kin_await(deferred, &value);
    if (rc != KIN_EFAILED)
        KIN_TRY(rc);
    *data = rc == KIN_EFAILED ? fallback : value;
    return 0;
}

static int dashboard(void *arg) {
    (void)arg;
    kin_job user, orders, recs;
    KIN_TRY(kin_async(&user, NULL, fetch_user_data, NULL));
    KIN_TRY(kin_async(&orders, NULL, fetch_orders, NULL));
    KIN_TRY(kin_async(&recs, NULL, fetch_recommendations, NULL));
    const char *user_data, *order_data, *rec_data;
    KIN_TRY(await_or(user, "User: unavailable", &user_data));
    KIN_TRY(await_or(orders, "Orders: unavailable", &order_data));
    KIN_TRY(await_or(recs, "Recs: unavailable", &rec_data));
    printf("%s\n%s\n%s\n", user_data, order_data, rec_data);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_supervisor_scope(dashboard, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
