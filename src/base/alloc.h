/*
 * alloc.h — every allocation kin makes goes through these wrappers, so a
 * fault-injection build (-DKIN_FAULT_INJECTION) can make the Nth one fail
 * and the tests can prove that each failure is reported, leaks nothing and
 * leaves the job tree consistent. In normal builds they are plain calls.
 */
#ifndef KIN_ALLOC_H
#define KIN_ALLOC_H

#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#ifdef KIN_FAULT_INJECTION
/* True if this allocation must fail (fault.c). */
int kin__fault_hit(void);
/* Arms the Nth allocation from now to fail (0: none); how many so far. */
void kin__fault_arm(long nth);
long kin__fault_count(void);
#else
#define kin__fault_hit() 0
#endif

static inline void *kin__malloc(size_t n) {
    return kin__fault_hit() ? NULL : malloc(n);
}

static inline void *kin__calloc(size_t n, size_t size) {
    return kin__fault_hit() ? NULL : calloc(n, size);
}

static inline void *kin__realloc(void *p, size_t n) {
    return kin__fault_hit() ? NULL : realloc(p, n);
}

static inline void kin__free(void *p) {
    free(p);
}

static inline void *kin__mmap(size_t len, int prot) {
    if (kin__fault_hit())
        return MAP_FAILED;
    return mmap(NULL, len, prot,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
#ifdef MAP_STACK
                    | MAP_STACK
#endif
                ,
                -1, 0);
}

#endif
