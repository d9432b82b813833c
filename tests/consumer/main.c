/* A program that uses an installed kin, built out of tree by
 * scripts/consumer_test.sh: once with pkg-config, once with CMake's
 * find_package(kin). Exits 0 if kin works and its versions agree. */
#include <stdio.h>
#include <string.h>

#include <kin.h>

static int square(void *arg, void **result) {
    int *n = arg;
    KIN_TRY(kin_delay(10));
    *n *= *n;
    *result = n;
    return 0;
}

static int body(void *arg) {
    int *out = arg;
    int n = 7;
    kin_job job;
    KIN_TRY(kin_async(&job, NULL, square, &n));
    void *value;
    KIN_TRY(kin_await(job, &value));
    *out = *(int *)value;
    return 0;
}

int main(void) {
    int failed = 0;
    if (strcmp(kin_version(), KIN_VERSION_STRING) != 0) {
        printf("kin_version() is %s, the header says %s\n", kin_version(),
               KIN_VERSION_STRING);
        failed = 1;
    }
#ifdef KIN_PACKAGE_VERSION
    /* The version the build system found (kin.pc or kinConfigVersion). */
    if (strcmp(KIN_PACKAGE_VERSION, KIN_VERSION_STRING) != 0) {
        printf("the package says %s, the header says %s\n",
               KIN_PACKAGE_VERSION, KIN_VERSION_STRING);
        failed = 1;
    }
#endif
    int result = 0;
    int rc = kin_run_blocking(body, &result);
    if (rc != 0 || result != 49) {
        printf("kin_run_blocking: %s, result %d\n", kin_strerror(rc), result);
        failed = 1;
    }
    if (failed)
        return 1;
    printf("consumer: kin %s works (7 * 7 = %d)\n", kin_version(), result);
    return 0;
}
