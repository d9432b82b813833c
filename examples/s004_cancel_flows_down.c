/* Seed 004, "cancellation flows down": cancelling a supervisor scope still cancels every child.
 *
 *   suspend fun s004_cancel_flows_down() {
 *       val cancelScope = CoroutineScope(SupervisorJob())
 *       val job = cancelScope.launch {
 *           launch { try { delay(1_000); println("[cancel] Child 1 done") } finally { println("[cancel] Child 1 finally") } }
 *           launch { try { delay(1_000); println("[cancel] Child 2 done") } finally { println("[cancel] Child 2 finally") } }
 *       }
 *       delay(200)
 *       println("[cancel] Cancel parent scope")
 *       cancelScope.coroutineContext.cancel()
 *       job.join()
 *       println("[cancel] Parent canceled; children are canceled too")
 *   }
 */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

static int child(void *arg) {
    int n = (int)(intptr_t)arg;
    int rc = kin_delay(1000);
    if (rc == 0)
        printf("[cancel] Child %d done\n", n);
    printf("[cancel] Child %d finally\n", n);
    return rc;
}

static int parent(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, child, (void *)(intptr_t)1));
    KIN_TRY(kin_launch(NULL, NULL, child, (void *)(intptr_t)2));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_scope cancel_scope;
    KIN_TRY(
        kin_scope_new(&cancel_scope, &(kin_scope_opts){.supervisor = true}));
    kin_job job;
    KIN_TRY(kin_scope_launch(cancel_scope, &job, NULL, parent, NULL));
    KIN_TRY(kin_delay(200));
    printf("[cancel] Cancel parent scope\n");
    KIN_TRY(kin_scope_cancel(cancel_scope, NULL));
    KIN_TRY(kin_join(job));
    printf("[cancel] Parent canceled; children are canceled too\n");
    /* C has no garbage collector: close the scope object we made. */
    return kin_scope_close(cancel_scope);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
