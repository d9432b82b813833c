/* Seed 001, "coroutineScope": a failing child cancels its sibling and the scope rethrows.
 *
 *   suspend fun s001_scope() {
 *       try {
 *           coroutineScope {
 *               launch { throw Exception("Failed child") }
 *               launch { delay(1000); println("This will not be printed!") }
 *           }
 *       } catch (e: Exception) { println(e.message) }
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int failing_child(void *arg) {
    (void)arg;
    return kin_fail("Exception", "Failed child");
}

static int slow_child(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(1000));
    printf("This will not be printed!\n");
    return 0;
}

static int children(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, failing_child, NULL));
    KIN_TRY(kin_launch(NULL, NULL, slow_child, NULL));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    if (kin_coroutine_scope(children, NULL) < 0)
        printf("%s\n", kin_error_message(kin_last_error()));
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
