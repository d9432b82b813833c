/* Seed 004, "supervisorScope": a child failure stays with that child, its sibling finishes.
 *
 *   suspend fun s004_supervisor() {
 *       try {
 *           supervisorScope {
 *               launch { delay(100); println("[supervisorScope] A: about to fail"); throw RuntimeException("Boom from A") }
 *               launch { try { delay(300); println("[supervisorScope] B: finished (still runs)") } finally { println("[supervisorScope] B: finally") } }
 *           }
 *       } catch (e: Throwable) { println("[supervisorScope] Parent caught: ${e.javaClass.simpleName} -> ${e.message}") }
 *       println("[supervisorScope] After supervisorScope")
 *   }
 *
 * A's failure is uncaught: the default handler reports it on stderr.
 */
#include <stdio.h>

#include <kin.h>

static int child_a(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    printf("[supervisorScope] A: about to fail\n");
    return kin_fail("RuntimeException", "Boom from A");
}

static int child_b(void *arg) {
    (void)arg;
    int rc = kin_delay(300);
    if (rc == 0)
        printf("[supervisorScope] B: finished (still runs)\n");
    printf("[supervisorScope] B: finally\n");
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
    if (kin_supervisor_scope(children, NULL) < 0) {
        const kin_error *e = kin_last_error();
        printf("[supervisorScope] Parent caught: %s -> %s\n", kin_error_type(e),
               kin_error_message(e));
    }
    printf("[supervisorScope] After supervisorScope\n");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
