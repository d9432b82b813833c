/* Bad input to every kin_mutex_* and kin_semaphore_* function, as a table
 * (the style of tests/api/test_misuse.c): NULL, zero, garbage, destroyed
 * and wrong-kind handles, suspending calls outside a coroutine, unlock of
 * an unlocked mutex or by another owner, release beyond the permits,
 * destroying a busy object. Each returns its documented code with the
 * words a reader needs; nothing crashes or changes state. */
#include "check.h"

static int noop(void *arg) {
    (void)arg;
    return 0;
}

static kin_mutex g_busy;
static kin_semaphore g_sbusy;

static int wait_busy(void *arg) {
    (void)arg;
    return kin_mutex_lock(g_busy, NULL);
}

static int wait_sbusy(void *arg) {
    (void)arg;
    return kin_semaphore_acquire(g_sbusy);
}

/* The calls that need handles of every kind: zero, garbage (an index no
 * record has, a generation of 0), destroyed, the other kind. */
static void bad_handles(void) {
    kin_mutex mz = {0}, mg = {0x00000001ffffff00ull}, mg0 = {1}, md;
    kin_semaphore sz = {0}, sg = {0x00000001ffffff00ull}, sd;
    CHECK_EQ(kin_mutex_new(&md, NULL), 0);
    CHECK_EQ(kin_mutex_destroy(md), 0);
    CHECK_EQ(kin_semaphore_new(&sd, 1, NULL), 0);
    CHECK_EQ(kin_semaphore_destroy(sd), 0);
    kin_mutex m_as_sem_kind;
    kin_semaphore s_live;
    CHECK_EQ(kin_semaphore_new(&s_live, 1, NULL), 0);
    m_as_sem_kind.id = s_live.id; /* a semaphore's id in a kin_mutex */
    kin_semaphore s_as_mutex_kind;
    kin_mutex m_live;
    CHECK_EQ(kin_mutex_new(&m_live, NULL), 0);
    s_as_mutex_kind.id = m_live.id;

    kin_mutex ms[] = {mz, mg, mg0, md, m_as_sem_kind};
    int mcode[] = {KIN_EINVAL, KIN_EINVAL, KIN_EINVAL, KIN_ESTALE, KIN_EINVAL};
    const char *mwords[] = {"invalid mutex handle", "invalid mutex handle",
                            "invalid mutex handle", "mutex was destroyed",
                            "not a mutex"};
    for (int i = 0; i < 5; i++) {
        MISUSE(kin_mutex_destroy(ms[i]), mcode[i], mwords[i]);
        MISUSE(kin_mutex_try_lock(ms[i], NULL), mcode[i], mwords[i]);
        MISUSE(kin_mutex_unlock(ms[i], NULL), mcode[i], mwords[i]);
        MISUSE(kin_mutex_holds_lock(ms[i], &check_cases_), mcode[i], mwords[i]);
        MISUSE(kin_mutex_is_locked(ms[i]), mcode[i], mwords[i]);
    }
    kin_semaphore ss[] = {sz, sg, sd, s_as_mutex_kind};
    int scode[] = {KIN_EINVAL, KIN_EINVAL, KIN_ESTALE, KIN_EINVAL};
    const char *swords[] = {"invalid semaphore handle",
                            "invalid semaphore handle",
                            "semaphore was destroyed", "not a semaphore"};
    for (int i = 0; i < 4; i++) {
        MISUSE(kin_semaphore_destroy(ss[i]), scode[i], swords[i]);
        MISUSE(kin_semaphore_try_acquire(ss[i]), scode[i], swords[i]);
        MISUSE(kin_semaphore_release(ss[i]), scode[i], swords[i]);
        MISUSE(kin_semaphore_available_permits(ss[i]), scode[i], swords[i]);
    }
    /* nothing changed on the live objects of the other kind */
    CHECK_EQ(kin_mutex_is_locked(m_live), 0);
    CHECK_EQ(kin_semaphore_available_permits(s_live), 1);
    CHECK_EQ(kin_mutex_destroy(m_live), 0);
    CHECK_EQ(kin_semaphore_destroy(s_live), 0);
}

static int in_coroutine(void *arg) {
    (void)arg;
    kin_mutex mz = {0}, md, m;
    kin_semaphore sz = {0}, sd, s;
    CHECK_EQ(kin_mutex_new(&md, NULL), 0);
    CHECK_EQ(kin_mutex_destroy(md), 0);
    CHECK_EQ(kin_semaphore_new(&sd, 2, NULL), 0);
    CHECK_EQ(kin_semaphore_destroy(sd), 0);

    /* suspending calls with bad handles */
    MISUSE(kin_mutex_lock(mz, NULL), KIN_EINVAL, "kin_mutex_lock: invalid");
    MISUSE(kin_mutex_lock(md, NULL), KIN_ESTALE, "destroyed");
    MISUSE(kin_mutex_with_lock(mz, NULL, noop, NULL), KIN_EINVAL,
           "kin_mutex_with_lock: invalid mutex handle");
    MISUSE(kin_mutex_with_lock(md, NULL, noop, NULL), KIN_ESTALE,
           "kin_mutex_with_lock: stale");
    MISUSE(kin_semaphore_acquire(sz), KIN_EINVAL,
           "kin_semaphore_acquire: invalid");
    MISUSE(kin_semaphore_acquire(sd), KIN_ESTALE, "destroyed");
    MISUSE(kin_semaphore_with_permit(sz, noop, NULL), KIN_EINVAL,
           "kin_semaphore_with_permit: invalid");
    MISUSE(kin_semaphore_with_permit(sd, noop, NULL), KIN_ESTALE,
           "destroyed");

    /* NULL functions and owners */
    CHECK_EQ(kin_mutex_new(&m, NULL), 0);
    CHECK_EQ(kin_semaphore_new(&s, 2, NULL), 0);
    MISUSE(kin_mutex_with_lock(m, NULL, NULL, NULL), KIN_EINVAL,
           "function is NULL");
    MISUSE(kin_semaphore_with_permit(s, NULL, NULL), KIN_EINVAL,
           "function is NULL");
    MISUSE(kin_mutex_holds_lock(m, NULL), KIN_EINVAL, "owner is NULL");

    /* unlock not held, wrong owner, already locked by the owner */
    int a, b;
    MISUSE(kin_mutex_unlock(m, NULL), KIN_EPERM, "not locked");
    MISUSE(kin_mutex_unlock(m, &a), KIN_EPERM, "not locked");
    CHECK_EQ(kin_mutex_lock(m, &a), 0);
    MISUSE(kin_mutex_unlock(m, &b), KIN_EPERM, "but");
    MISUSE(kin_mutex_lock(m, &a), KIN_EDEADLK, "already locked by the");
    MISUSE(kin_mutex_try_lock(m, &a), KIN_EDEADLK, "already locked by the");
    MISUSE(kin_mutex_with_lock(m, &a, noop, NULL), KIN_EDEADLK,
           "kin_mutex_with_lock: this mutex is already locked");
    MISUSE(kin_mutex_destroy(m), KIN_EBUSY, "the mutex is locked");
    CHECK_EQ(kin_mutex_holds_lock(m, &a), 1); /* nothing changed */
    CHECK_EQ(kin_mutex_unlock(m, &a), 0);
    CHECK_EQ(kin_mutex_lock(m, NULL), 0); /* no token */
    MISUSE(kin_mutex_unlock(m, &a), KIN_EPERM, "locked by no owner");

    /* destroying with waiters */
    g_busy = m;
    kin_job w;
    CHECK_EQ(kin_launch(&w, NULL, wait_busy, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    MISUSE(kin_mutex_destroy(m), KIN_EBUSY, "waiting for the mutex");
    CHECK_EQ(kin_mutex_unlock(m, NULL), 0); /* to w */
    MISUSE(kin_mutex_destroy(m), KIN_EBUSY, "locked");
    CHECK_EQ(kin_join(w), 0);
    CHECK_EQ(kin_mutex_unlock(m, NULL), 0);
    CHECK_EQ(kin_mutex_destroy(m), 0);
    MISUSE(kin_mutex_destroy(m), KIN_ESTALE, "destroyed");

    /* release beyond the permits; destroying a busy semaphore */
    MISUSE(kin_semaphore_release(s), KIN_EPERM, "cannot be greater than 2");
    CHECK_EQ(kin_semaphore_available_permits(s), 2);
    CHECK_EQ(kin_semaphore_acquire(s), 0);
    MISUSE(kin_semaphore_destroy(s), KIN_EBUSY, "1 permit is not released");
    CHECK_EQ(kin_semaphore_acquire(s), 0);
    g_sbusy = s;
    CHECK_EQ(kin_launch(&w, NULL, wait_sbusy, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    MISUSE(kin_semaphore_destroy(s), KIN_EBUSY, "waiting to acquire");
    CHECK_EQ(kin_semaphore_release(s), 0); /* to w */
    CHECK_EQ(kin_join(w), 0);
    CHECK_EQ(kin_semaphore_release(s), 0);
    CHECK_EQ(kin_semaphore_release(s), 0);
    MISUSE(kin_semaphore_release(s), KIN_EPERM, "released permits");
    CHECK_EQ(kin_semaphore_destroy(s), 0);

    bad_handles();
    return 0;
}

int main(void) {
    kin_mutex m;
    kin_semaphore s;
    /* constructors */
    MISUSE(kin_mutex_new(NULL, NULL), KIN_EINVAL, "out is NULL");
    MISUSE(kin_semaphore_new(NULL, 1, NULL), KIN_EINVAL, "out is NULL");
    MISUSE(kin_semaphore_new(&s, 0, NULL), KIN_EINVAL, "at least 1 permit");
    CHECK_EQ(s.id, 0);
    MISUSE(kin_semaphore_new(&s, -3, NULL), KIN_EINVAL, "but had -3");
    MISUSE(kin_semaphore_new(&s, 2, &(kin_semaphore_opts){.acquired_permits =
                                                              3}),
           KIN_EINVAL, "should be in 0..2");
    MISUSE(kin_semaphore_new(&s, 2, &(kin_semaphore_opts){.acquired_permits =
                                                              -1}),
           KIN_EINVAL, "should be in 0..2");

    /* suspending calls outside a coroutine (checked first) */
    CHECK_EQ(kin_mutex_new(&m, NULL), 0);
    CHECK_EQ(kin_semaphore_new(&s, 1, NULL), 0);
    MISUSE(kin_mutex_lock(m, NULL), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_mutex_with_lock(m, NULL, noop, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    MISUSE(kin_semaphore_acquire(s), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_semaphore_with_permit(s, noop, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    kin_mutex mz = {0};
    MISUSE(kin_mutex_lock(mz, NULL), KIN_ENOTCORO, "outside a coroutine");
    /* the non-suspending calls work from plain code */
    CHECK_EQ(kin_mutex_try_lock(m, NULL), 1);
    MISUSE(kin_mutex_destroy(m), KIN_EBUSY, "locked");
    CHECK_EQ(kin_mutex_unlock(m, NULL), 0);
    CHECK_EQ(kin_semaphore_try_acquire(s), 1);
    CHECK_EQ(kin_semaphore_release(s), 0);
    CHECK_EQ(kin_mutex_destroy(m), 0);
    CHECK_EQ(kin_semaphore_destroy(s), 0);

    bad_handles(); /* from plain code */
    CHECK_EQ(kin_run_blocking(in_coroutine, NULL), 0);
    printf("ok %d misuse cases\n", check_cases_);
    return 0;
}
