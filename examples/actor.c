/* An actor: one coroutine owns a bank account; everyone else sends it messages.
 * In Kotlin:
 *
 *   sealed class Msg
 *   class Deposit(val amount: Long) : Msg()
 *   class GetBalance(val reply: CompletableDeferred<Long>) : Msg()
 *
 *   val account = Channel<Msg>()
 *   val actor = launch {                  // kotlinx's actor { } builder
 *       var balance = 0L                  // only this coroutine touches it
 *       for (msg in account) when (msg) {
 *           is Deposit -> balance += msg.amount
 *           is GetBalance -> msg.reply.complete(balance)
 *       }
 *   }
 *   withContext(Dispatchers.Default) {
 *       repeat(100) { launch { repeat(100) { account.send(Deposit(1)) } } }
 *   }
 *   val reply = CompletableDeferred<Long>()
 *   account.send(GetBalance(reply))
 *   println("balance = ${reply.await()}")
 *   account.close(); actor.join()
 *
 * Compare examples/bank_mutex.c: there the balances are shared and every
 * clerk takes a Mutex around them; here the balance is a local variable of
 * one coroutine, so no lock exists at all. Callers queue messages instead
 * of waiting for a lock, and a question ("what is the balance?") carries a
 * CompletableDeferred (kin_deferred_new) that the actor completes.
 */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

enum { CUSTOMERS = 100, DEPOSITS = 100 };

typedef struct msg {
    enum { DEPOSIT, GET_BALANCE } kind;
    long amount;   /* DEPOSIT */
    kin_job reply; /* GET_BALANCE: a deferred the actor completes */
} msg;

static kin_channel account;

static int account_actor(void *arg) {
    (void)arg;
    long balance = 0; /* the state: nobody else can reach it */
    msg m;
    int rc;
    while ((rc = kin_channel_receive_catching(account, &m, sizeof m)) == 0) {
        switch (m.kind) {
        case DEPOSIT: balance += m.amount; break;
        case GET_BALANCE: kin_deferred_complete(m.reply, (void *)(intptr_t)balance); break;
        }
    }
    printf("actor: account closed\n");
    return rc == KIN_CLOSED ? 0 : rc;
}

static int customer(void *arg) {
    (void)arg;
    for (int i = 0; i < DEPOSITS; i++)
        KIN_TRY(kin_channel_send(account, &(msg){.kind = DEPOSIT, .amount = 1}, sizeof(msg)));
    return 0;
}

static int customers(void *arg) {
    (void)arg;
    for (int c = 0; c < CUSTOMERS; c++)
        KIN_TRY(kin_launch(NULL, NULL, customer, NULL));
    return 0;
}

static int get_balance(long *balance) {
    kin_job reply;
    KIN_TRY(kin_deferred_new(&reply, NULL)); /* CompletableDeferred<Long>() */
    void *value = NULL;
    int rc = kin_channel_send(account, &(msg){.kind = GET_BALANCE, .reply = reply}, sizeof(msg));
    if (rc == 0)
        rc = kin_await(reply, &value);
    kin_job_release(reply);
    *balance = (long)(intptr_t)value;
    return rc;
}

static int bank(void *arg) {
    (void)arg;
    kin_job actor;
    KIN_TRY(kin_channel_new(&account, sizeof(msg), NULL)); /* rendezvous */
    KIN_TRY(kin_launch(&actor, &(kin_launch_opts){.name = "account"}, account_actor, NULL));
    KIN_TRY(kin_with_context(kin_dispatcher_default(), customers, NULL));
    long balance;
    KIN_TRY(get_balance(&balance));
    printf("%d customers x %d deposits of 1: balance = %ld\n", CUSTOMERS, DEPOSITS, balance);
    kin_channel_close(account, NULL); /* the actor ends after the last message */
    KIN_TRY(kin_join(actor));
    return kin_channel_destroy(account);
}

int main(void) {
    return kin_run_blocking(bank, NULL) == 0 ? 0 : 1;
}
