/* Transfers between bank accounts under a Mutex (kin's own example: no seed
 * covers Mutex). In Kotlin:
 *
 *   val mutex = Mutex()
 *   val balance = LongArray(4) { 1000 }
 *   suspend fun transfer(from: Int, to: Int, amount: Long) = mutex.withLock {
 *       check(balance[from] >= amount) { "insufficient funds in account $from" }
 *       balance[from] -= amount
 *       delay(1)                      // talking to the ledger, lock held
 *       balance[to] += amount
 *   }
 *   withContext(Dispatchers.Default) {
 *       repeat(200) { i -> launch { transfer(i % 4, (i + 1) % 4, 5) } }
 *   }
 *
 * Two hundred clerks on Default move money in a ring; each transfer holds
 * the mutex across a suspension (the ledger delay), so no clerk ever sees
 * half a transfer and the total never changes. An overdraft fails inside
 * with_lock, which still unlocks.
 */
#include <stdio.h>

#include <kin.h>

enum { ACCOUNTS = 4, CLERKS = 200 };

static kin_mutex mutex;
static long balance[ACCOUNTS]; /* guarded by mutex */

typedef struct transfer {
    int from, to;
    long amount;
} transfer;

static int move_money(void *arg) {
    transfer *t = arg;
    if (balance[t->from] < t->amount)
        return kin_fail("IllegalStateException",
                        "insufficient funds in account %d", t->from);
    balance[t->from] -= t->amount;
    KIN_TRY(kin_delay(1)); /* the ledger: the lock is held meanwhile */
    balance[t->to] += t->amount;
    return 0;
}

static int clerk(void *arg) {
    return kin_mutex_with_lock(mutex, NULL, move_money, arg);
}

static long total(void) {
    long sum = 0;
    for (int i = 0; i < ACCOUNTS; i++)
        sum += balance[i];
    return sum;
}

static int open_branch(void *arg) {
    transfer *ts = arg;
    for (int i = 0; i < CLERKS; i++) {
        ts[i] = (transfer){i % ACCOUNTS, (i + 1) % ACCOUNTS, 5};
        KIN_TRY(kin_launch(NULL, NULL, clerk, &ts[i]));
    }
    return 0;
}

static int on_default(void *arg) {
    return kin_coroutine_scope(open_branch, arg);
}

static int bank(void *arg) {
    (void)arg;
    static transfer ts[CLERKS];
    for (int i = 0; i < ACCOUNTS; i++)
        balance[i] = 1000;
    KIN_TRY(kin_mutex_new(&mutex, NULL));
    printf("before: total %ld\n", total());
    KIN_TRY(kin_with_context(kin_dispatcher_default(), on_default, ts));
    printf("after %d transfers: total %ld,", CLERKS, total());
    for (int i = 0; i < ACCOUNTS; i++)
        printf(" %ld", balance[i]);
    printf("\n");

    transfer overdraft = {0, 1, 5000};
    int rc = kin_mutex_with_lock(mutex, NULL, move_money, &overdraft);
    printf("overdraft: %s: %s; mutex locked: %s\n", kin_strerror(rc),
           kin_error_message(kin_last_error()),
           kin_mutex_is_locked(mutex) ? "yes" : "no");
    return kin_mutex_destroy(mutex);
}

int main(void) {
    return kin_run_blocking(bank, NULL) == 0 ? 0 : 1;
}
