/* The guide's "Channels" section: produce, receive_catching as a for
 * loop, try_send on a full buffer, close with a cause. */
#include <stdio.h>

#include <kin.h>

static int squares(kin_channel ch, void *arg) {
    int n = *(int *)arg;
    for (int x = 1; x <= n; x++) {
        int sq = x * x;
        KIN_TRY(kin_channel_send(ch, &sq, sizeof sq)); /* send(x * x) */
    }
    return 0; /* the channel is closed when the producer completes */
}

static int body(void *arg) {
    (void)arg;
    int n = 5;
    kin_channel ch;
    KIN_TRY(kin_produce(&ch, NULL, NULL, NULL, sizeof(int), squares, &n));
    int y;
    while (kin_channel_receive_catching(ch, &y, sizeof y) == 0) /* for (y in ch) */
        printf("%d\n", y);
    printf("Done!\n");
    kin_channel_destroy(ch);

    kin_channel buf; /* Channel<Int>(2) */
    KIN_TRY(kin_channel_new(&buf, sizeof(int), &(kin_channel_opts){.capacity = 2}));
    for (int i = 1; i <= 3; i++) {
        int rc = kin_channel_try_send(buf, &i, sizeof i);
        printf("trySend(%d): %s\n", i, rc == 0 ? "success" : "full");
    }
    kin_channel_close(buf, kin_error_new(KIN_EFAILED, "IOException", "disk gone"));
    int rc;
    while ((rc = kin_channel_receive_catching(buf, &y, sizeof y)) == 0)
        printf("got %d\n", y);
    printf("closed: %s\n", kin_error_message(kin_last_error()));
    kin_channel_destroy(buf);
    return 0;
}

int main(void) {
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
