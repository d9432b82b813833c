/* kin_dump names what a coroutine suspended in a channel, select, mutex
 * or semaphore waits for, and forgets it once the wait is over. */
#include "check.h"
#include "dump_lines.h"

static kin_channel g_rv;  /* rendezvous: nobody on the other side */
static kin_channel g_rv2; /* a second one, for the select */
static kin_mutex g_mx;
static kin_semaphore g_sem;

static int sender(void *arg) {
    (void)arg;
    long v = 1;
    return kin_channel_send(g_rv, &v, sizeof v);
}

static int receiver(void *arg) {
    (void)arg;
    long v;
    return kin_channel_receive(g_rv2, &v, sizeof v);
}

static int selector(void *arg) {
    (void)arg;
    long a, b;
    kin_select_clause cl[2] = {
        {.kind = KIN_SELECT_RECEIVE, .channel = g_rv, .elem = &a,
         .size = sizeof a},
        {.kind = KIN_SELECT_RECEIVE, .channel = g_rv2, .elem = &b,
         .size = sizeof b}};
    return kin_select(cl, 2);
}

static int locker(void *arg) {
    (void)arg;
    KIN_TRY(kin_mutex_lock(g_mx, NULL));
    return kin_mutex_unlock(g_mx, NULL);
}

static int acquirer(void *arg) {
    (void)arg;
    KIN_TRY(kin_semaphore_acquire(g_sem));
    return kin_semaphore_release(g_sem);
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_channel_new(&g_rv, sizeof(long), NULL), 0);
    CHECK_EQ(kin_channel_new(&g_rv2, sizeof(long), NULL), 0);
    CHECK_EQ(kin_mutex_new(&g_mx, NULL), 0);
    CHECK_EQ(kin_semaphore_new(&g_sem, 1, NULL), 0);
    CHECK_EQ(kin_mutex_lock(g_mx, NULL), 0);    /* held: the locker waits */
    CHECK_EQ(kin_semaphore_acquire(g_sem), 0); /* none left */

    kin_job s, r, sel, l, a;
    CHECK_EQ(kin_launch(&s, &(kin_launch_opts){.name = "sender"}, sender, NULL), 0);
    CHECK_EQ(kin_launch(&sel, &(kin_launch_opts){.name = "selector"}, selector, NULL), 0);
    CHECK_EQ(kin_launch(&r, &(kin_launch_opts){.name = "receiver"}, receiver, NULL), 0);
    CHECK_EQ(kin_launch(&l, &(kin_launch_opts){.name = "locker"}, locker, NULL), 0);
    CHECK_EQ(kin_launch(&a, &(kin_launch_opts){.name = "acquirer"}, acquirer, NULL), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(kin_yield(), 0);

    /* The sender suspended first (no receiver); the selector then found it
     * and took its element at once. The others wait. */
    char *d = dump_to_string();
    CHECK(find_line(d, "launch 'receiver#",
                    "suspended in kin_channel_receive on channel #", NULL));
    CHECK(find_line(d, "launch 'locker#", "suspended locking mutex #", NULL));
    CHECK(find_line(d, "launch 'acquirer#", "suspended acquiring semaphore #",
                    NULL));
    free(d);

    /* The selector took the sender's element, so both are done; a second
     * selector finds nobody and waits on both channels. */
    CHECK_EQ(kin_join(s), 0);
    CHECK_EQ(kin_join(sel), 0);
    kin_job sel2, s2;
    CHECK_EQ(kin_launch(&sel2, &(kin_launch_opts){.name = "selector2"}, selector, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    d = dump_to_string();
    CHECK(find_line(d, "launch 'selector2#", "suspended in kin_select (2 clauses)",
                    NULL));
    free(d);
    /* the receiver takes from a sender on g_rv2; the select's clause on it
     * registered later, so the receiver wins (FIFO) */
    long v = 5;
    CHECK_EQ(kin_channel_send(g_rv2, &v, sizeof v), 0);
    CHECK_EQ(kin_join(r), 0);
    /* sender2's element goes to the waiting selector */
    CHECK_EQ(kin_launch(&s2, &(kin_launch_opts){.name = "sender2"}, sender, NULL), 0);
    CHECK_EQ(kin_join(sel2), 0);
    CHECK_EQ(kin_join(s2), 0);

    kin_job s3;
    CHECK_EQ(kin_launch(&s3, &(kin_launch_opts){.name = "sender3"}, sender, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    d = dump_to_string();
    CHECK(find_line(d, "launch 'sender3#",
                    "suspended in kin_channel_send on channel #", NULL));
    free(d);
    CHECK_EQ(kin_cancel_and_join(s3), 0);

    /* once the waits end, the dump says so no more */
    CHECK_EQ(kin_mutex_unlock(g_mx, NULL), 0);
    CHECK_EQ(kin_semaphore_release(g_sem), 0);
    CHECK_EQ(kin_join(l), 0);
    CHECK_EQ(kin_join(a), 0);
    d = dump_to_string();
    CHECK(!strstr(d, "suspended locking"));
    CHECK(!strstr(d, "suspended acquiring"));
    free(d);

    kin_job all[] = {s, r, sel, l, a, sel2, s2, s3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        CHECK_EQ(kin_job_release(all[i]), 0);
    CHECK_EQ(kin_channel_destroy(g_rv), 0);
    CHECK_EQ(kin_channel_destroy(g_rv2), 0);
    CHECK_EQ(kin_mutex_destroy(g_mx), 0);
    CHECK_EQ(kin_semaphore_destroy(g_sem), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    puts("ok");
    return 0;
}
