/* The guide's "select" section: the first ready clause wins; a timeout. */
#include <stdio.h>

#include <kin.h>

static kin_channel fast, slow;

static int sender(void *arg) {
    int delay = *(int *)arg;
    kin_channel ch = delay < 100 ? fast : slow;
    KIN_TRY(kin_delay(delay));
    return kin_channel_send(ch, &delay, sizeof delay);
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_channel_new(&fast, sizeof(int), NULL));
    KIN_TRY(kin_channel_new(&slow, sizeof(int), NULL));
    int d1 = 50, d2 = 200;
    KIN_TRY(kin_launch(NULL, NULL, sender, &d1));
    KIN_TRY(kin_launch(NULL, NULL, sender, &d2));
    for (int round = 0; round < 3; round++) {
        int a, b;
        kin_select_clause cl[3] = {
            {.kind = KIN_SELECT_RECEIVE, .channel = fast, .elem = &a, .size = sizeof a},
            {.kind = KIN_SELECT_RECEIVE, .channel = slow, .elem = &b, .size = sizeof b},
            {.kind = KIN_SELECT_TIMEOUT, .timeout_ms = 100},
        };
        int w = kin_select(cl, 3); /* the index of the clause that won */
        if (w < 0)
            return w;
        if (w == 0)
            printf("fast: %d\n", a);
        else if (w == 1)
            printf("slow: %d\n", b);
        else
            printf("nothing for 100 ms\n");
    }
    kin_channel_destroy(fast);
    kin_channel_destroy(slow);
    return 0;
}

int main(void) {
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
