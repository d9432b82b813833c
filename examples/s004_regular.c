/* Seed 004, "regular Job": a child failure cancels its sibling and fails the scope.
 *
 *   suspend fun s004_regular() {
 *       try {
 *           coroutineScope {
 *               launch { delay(100); println("[regular] A: about to fail"); throw RuntimeException("Boom from A") }
 *               launch { try { delay(300); println("[regular] B: finished (won't happen)") } finally { println("[regular] B: finally (canceled)") } }
 *           }
 *       } catch (e: Throwable) { println("[regular] Parent caught: ${e.javaClass.simpleName} -> ${e.message}") }
 *       println("[regular] After coroutineScope")
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int child_a(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    printf("[regular] A: about to fail\n");
    return kin_fail("RuntimeException", "Boom from A");
}

static int child_b(void *arg) {
    (void)arg;
    int rc = kin_delay(300);
    if (rc == 0)
        printf("[regular] B: finished (won't happen)\n");
    printf("[regular] B: finally (canceled)\n");
    return rc;
}

static int children(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, child_a, NULL));
    KIN_TRY(kin_launch(NULL, NULL, child_b, NULL));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    if (kin_coroutine_scope(children, NULL) < 0) {
        const kin_error *e = kin_last_error();
        printf("[regular] Parent caught: %s -> %s\n", kin_error_type(e),
               kin_error_message(e));
    }
    printf("[regular] After coroutineScope\n");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
