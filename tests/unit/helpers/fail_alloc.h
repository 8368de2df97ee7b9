/* Allocation failure injection for the fault sweeps (tests/unit/test_fault_*.c):
 * the Nth allocation after fail_alloc_arm(N) returns NULL (once), so a test
 * can walk N = 1, 2, ... along one operation until it completes with no
 * failure injected. Only test binaries named test_fault_* are linked with
 * --wrap=malloc,calloc,realloc,strdup,strndup,asprintf,vasprintf (see the
 * Makefile): production builds never see this file. jansson's allocations go
 * through the same counter (fail_alloc_arm() installs them with
 * json_set_alloc_funcs()); so do libevent's after fail_alloc_count_libevent(), libcurl's after
 * fail_alloc_count_curl() and OpenSSL's after fail_alloc_count_openssl(); other libraries' own
 * mallocs are not counted. */
#ifndef ARCHEIO_TEST_FAIL_ALLOC_H
#define ARCHEIO_TEST_FAIL_ALLOC_H

#include <stdbool.h>

/* Counts libcurl's allocations too (curl_global_init_mem()): call first in
 * main(), before anything initialises libcurl. 0, or -1. */
int fail_alloc_count_curl(void);

/* Counts libevent's allocations too (event_set_mem_functions()): call first
 * in main(), before libevent allocates anything. */
void fail_alloc_count_libevent(void);

/* Counts OpenSSL's allocations too (CRYPTO_set_mem_functions()): call first
 * in main(), before OpenSSL allocates anything. 0, or -1. */
int fail_alloc_count_openssl(void);
/* Switches that counting off and on again (on after fail_alloc_count_openssl()). */
void fail_alloc_openssl_counted(bool counted);

/* Fails the nth allocation from now (1-based); counting starts at zero. */
void fail_alloc_arm(long nth);
/* Stops failing and counting; returns whether the failure was injected. */
bool fail_alloc_disarm(void);
/* Allocations counted since fail_alloc_arm(). */
long fail_alloc_seen(void);

/* The sweep bound: an operation needing more allocations than this is a bug
 * in the sweep (it would never end). */
#define FAIL_ALLOC_MAX_STEPS 20000

#endif
