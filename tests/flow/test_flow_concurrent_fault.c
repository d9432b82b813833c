/* Failure injection through the concurrent flow operators: for N = 1, 2,
 * ... the Nth allocation kin makes fails, in a child process each (as
 * tests/fault/test_fault_sweep.c). Every collect must return 0 or
 * KIN_ENOMEM, nothing may crash or hang, and every coroutine must be gone
 * at the end (kin_shutdown finishes, no job is left). Runs only in a
 * build with -DKIN_FAULT_INJECTION=ON (elsewhere: skipped); in the ASan
 * build LeakSanitizer also checks that nothing leaks. */
#include "check.h"
#include "fault/sweep.h"

/* fault.c's controls, present only in fault-injection builds */
extern void kin__fault_arm(long nth) __attribute__((weak));
extern long kin__fault_count(void) __attribute__((weak));

static int numbers(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 20; i++) {
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
        if (i % 5 == 0)
            KIN_TRY(kin_delay(1));
    }
    return 0;
}

static int producer(kin_channel ch, void *arg) {
    (void)arg;
    for (int i = 1; i <= 10; i++)
        KIN_TRY(kin_channel_send(ch, &i, sizeof i));
    return 0;
}

static int add(const void *a, const void *b, void *out, void *arg) {
    (void)arg;
    int s = *(const int *)a + *(const int *)b;
    memcpy(out, &s, sizeof s);
    return 0;
}

static int ignore(const void *v, void *arg) {
    (void)v, (void)arg;
    return 0;
}

static void check_rc(int rc, const char *what) {
    if (rc != 0 && rc != KIN_ENOMEM) {
        fprintf(stderr, "%s returned %d (%s: %s)\n", what, rc,
                kin_strerror(rc), kin_error_message(kin_last_error()));
        exit(1);
    }
}

/* Builds one flow (op) and collects it; any step may run out of memory. */
static int one(int op) {
    kin_flow f, o;
    int rc = op == 2 ? kin_channel_flow(&f, sizeof(int), NULL, producer, NULL)
                     : kin_flow_new(&f, sizeof(int), numbers, NULL);
    if (rc < 0)
        return rc;
    switch (op) {
    case 0:
        rc = kin_flow_buffer(&f, 2, KIN_OVERFLOW_SUSPEND);
        break;
    case 1:
        rc = kin_flow_on(&f, kin_dispatcher_default());
        break;
    case 2:
        rc = kin_flow_buffer(&f, 3, KIN_OVERFLOW_SUSPEND);
        break;
    case 3:
        rc = kin_flow_debounce(&f, 2);
        break;
    default:
        rc = kin_flow_new(&o, sizeof(int), numbers, NULL);
        if (rc < 0) {
            kin_flow_release(f);
            return rc;
        }
        rc = op == 4 ? kin_flow_zip(&f, o, sizeof(int), add, NULL)
                     : kin_flow_combine(&f, o, sizeof(int), add, NULL);
    }
    if (rc < 0)
        return rc;
    if (op % 2)
        rc = kin_flow_take(&f, 3);
    if (rc < 0)
        return rc;
    rc = kin_flow_collect(f, ignore, NULL);
    kin_flow_release(f);
    return rc;
}

static int body(void *arg) {
    (void)arg;
    for (int op = 0; op < 6; op++)
        check_rc(one(op), "collect");
    return 0;
}

static int child(long n) {
    kin__fault_arm(n);
    int rc = kin_run_test(body, NULL);
    check_rc(rc, "kin_run_test");
    long made = kin__fault_count();
    kin__fault_arm(0);
    CHECK_EQ(kin_shutdown(), 0);
    return made < n ? 3 : 0;
}

int main(int argc, char **argv) {
    if (!kin__fault_arm)
        return 77; /* not a fault-injection build */
    return fault_sweep_main(argc, argv, child, 20);
}
