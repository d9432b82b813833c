/*
 * sanitizer.h — telling AddressSanitizer, ThreadSanitizer and Valgrind about
 * stack switches. Without these, ASan reports false stack-buffer errors after
 * a switch, TSan loses track of happens-before across coroutines, and
 * Valgrind takes every switch for a stack overflow.
 *
 * Each macro is empty in a build without the tool.
 */
#ifndef KIN_SANITIZER_H
#define KIN_SANITIZER_H

#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KIN__ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define KIN__TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(KIN__ASAN)
#define KIN__ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(KIN__TSAN)
#define KIN__TSAN 1
#endif
#ifndef KIN__ASAN
#define KIN__ASAN 0
#endif
#ifndef KIN__TSAN
#define KIN__TSAN 0
#endif

#if KIN__ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if KIN__TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if defined(KIN_HAVE_VALGRIND)
#include <valgrind/valgrind.h>
#define KIN__VALGRIND_STACK_REGISTER(lo, hi)                                   \
    ((unsigned)VALGRIND_STACK_REGISTER((lo), (hi)))
#define KIN__VALGRIND_STACK_DEREGISTER(id) VALGRIND_STACK_DEREGISTER(id)
#define KIN__RUNNING_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define KIN__VALGRIND_STACK_REGISTER(lo, hi) ((void)(lo), (void)(hi), 0u)
#define KIN__VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#define KIN__RUNNING_ON_VALGRIND() 0
#endif

#endif
