/* A pipeline of three stages: numbers -> squares -> a filter that sums the odd ones.
 * In Kotlin:
 *
 *   fun CoroutineScope.numbers(n: Int) = produce {
 *       for (x in 1..n) { println("numbers: $x"); send(x) }
 *       println("numbers: done")
 *   }
 *   fun CoroutineScope.squares(xs: ReceiveChannel<Int>) = produce {
 *       xs.consumeEach { x -> println("squares: $x -> ${x * x}"); send(x * x) }
 *       println("squares: done")
 *   }
 *   runBlocking {
 *       var sum = 0
 *       for (y in squares(numbers(5)))
 *           if (y % 2 == 1) { sum += y; println("sum: + $y = $sum") }
 *           else println("sum: skip $y")
 *       println("sum of the odd squares: $sum")
 *   }
 *
 * Every stage is a coroutine on the one thread of kin_run_blocking, and the
 * channels are rendezvous: a send waits for the next stage's receive, so
 * the stages take turns and the lines come in the same order every run.
 * When numbers returns, kin_produce closes its channel; squares' loop then
 * ends and it returns, which closes its own channel; the sum's loop ends:
 * the close travels down the pipeline, and nothing is left running.
 */
#include <stdio.h>

#include <kin.h>

static int numbers(kin_channel out, void *arg) {
    int n = *(int *)arg;
    for (int x = 1; x <= n; x++) {
        printf("numbers: %d\n", x);
        KIN_TRY(kin_channel_send(out, &x, sizeof x));
    }
    printf("numbers: done\n");
    return 0; /* closes out */
}

static int squares(kin_channel out, void *arg) {
    kin_channel xs = *(kin_channel *)arg;
    int x, rc;
    while ((rc = kin_channel_receive_catching(xs, &x, sizeof x)) == 0) {
        int sq = x * x;
        printf("squares: %d -> %d\n", x, sq);
        if ((rc = kin_channel_send(out, &sq, sizeof sq)) < 0)
            break;
    }
    kin_channel_destroy(xs); /* consumeEach: the input is ours to end */
    if (rc == KIN_CLOSED)
        printf("squares: done\n");
    return rc == KIN_CLOSED ? 0 : rc; /* closes out */
}

static int sum_odd(void *arg) {
    (void)arg;
    int n = 5, y, rc, sum = 0;
    kin_channel nums, sqs;
    KIN_TRY(kin_produce(&nums, NULL, NULL, NULL, sizeof(int), numbers, &n));
    KIN_TRY(kin_produce(&sqs, NULL, NULL, NULL, sizeof(int), squares, &nums));
    while ((rc = kin_channel_receive_catching(sqs, &y, sizeof y)) == 0) {
        if (y % 2 == 1) {
            sum += y;
            printf("sum: + %d = %d\n", y, sum);
        } else {
            printf("sum: skip %d\n", y);
        }
    }
    printf("sum of the odd squares: %d\n", sum);
    kin_channel_destroy(sqs);
    return rc == KIN_CLOSED ? 0 : rc;
}

int main(void) {
    return kin_run_blocking(sum_odd, NULL) == 0 ? 0 : 1;
}
