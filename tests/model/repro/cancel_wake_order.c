/* Reproduction (found by test_model with KIN_MODEL_ORDER=kotlin): the order
 * in which a cancellation resumes a suspended family differs from
 * kotlinx.coroutines on one thread (DESIGN rule 11).
 *
 *   coroutineScope {                                       // S
 *     launch { try { delay(inf) } finally { println("C1") } }
 *     launch { delay(10); throw RuntimeException("x") }
 *     launch { try { delay(inf) } finally { println("C3") } }
 *     try { delay(inf) } finally { println("S") }
 *   }
 *
 * kotlinx.coroutines (Debian's 1.0.1; the same list logic today) prints
 * C1 C3 S: a job's completion list holds its children (attached at launch)
 * before its own suspended continuation (attached when it suspended), and
 * cancellation notifies the list in order. kin prints S C1 C3: cancel_tree
 * wakes the job's own coroutine first, then walks the children (pre-order).
 *
 * Build: cc -I include tests/model/repro/cancel_wake_order.c build/libkin.a
 *        -lpthread
 * Exit 1 if the order is not Kotlin's. */
#include <kin.h>
#include <stdio.h>
#include <string.h>

static char order[16];

static int sleeper(void *arg) {
    int rc = kin_delay(100000);
    strcat(order, arg);
    return rc;
}

static int thrower(void *arg) {
    (void)arg;
    int rc = kin_delay(10);
    if (rc < 0)
        return rc;
    return kin_fail("RuntimeException", "x");
}

static int scope_body(void *arg) {
    (void)arg;
    kin_launch(NULL, NULL, sleeper, "C1 ");
    kin_launch(NULL, NULL, thrower, NULL);
    kin_launch(NULL, NULL, sleeper, "C3 ");
    int rc = kin_delay(100000);
    strcat(order, "S ");
    return rc;
}

static int body(void *arg) {
    (void)arg;
    kin_coroutine_scope(scope_body, NULL);
    return 0;
}

int main(void) {
    kin_run_blocking(body, NULL);
    printf("kin: %s (kotlinx.coroutines: C1 C3 S )\n", order);
    return strcmp(order, "C1 C3 S ") == 0 ? 0 : 1;
}
