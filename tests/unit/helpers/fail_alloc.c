/* The --wrap targets behind fail_alloc.h. One counter for the process: the
 * sweeps are single-threaded (a worker thread would count too, which is why
 * a sweep drives the code without starting threads). */
#include "fail_alloc.h"

#include <errno.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...);

static struct {
	bool armed;
	bool fired;
	long nth;
	long seen;
} injector;

/* Whether this allocation is the one to fail. */
static bool should_fail(void)
{
	if (!injector.armed)
		return false;
	injector.seen++;
	if (injector.fired || injector.seen != injector.nth)
		return false;
	injector.fired = true;
	errno = ENOMEM; /* as glibc's allocators do */
	return true;
}

static void *json_malloc(size_t size)
{
	return should_fail() ? NULL : __real_malloc(size);
}

static void json_free(void *p)
{
	free(p);
}

static void *curl_counted_malloc(size_t size)
{
	return __wrap_malloc(size);
}

static void curl_plain_free(void *p)
{
	free(p);
}

static void *curl_counted_realloc(void *p, size_t size)
{
	return __wrap_realloc(p, size);
}

static char *curl_counted_strdup(const char *s)
{
	return __wrap_strdup(s);
}

static void *curl_counted_calloc(size_t n, size_t size)
{
	return __wrap_calloc(n, size);
}

int fail_alloc_count_curl(void)
{
	return curl_global_init_mem(CURL_GLOBAL_ALL, curl_counted_malloc, curl_plain_free,
				    curl_counted_realloc, curl_counted_strdup,
				    curl_counted_calloc) == CURLE_OK
		   ? 0
		   : -1;
}

void fail_alloc_count_libevent(void)
{
	event_set_mem_functions(__wrap_malloc, __wrap_realloc, free);
}

static bool openssl_counted;

static void *ssl_counted_malloc(size_t size, const char *file, int line)
{
	(void)file;
	(void)line;
	return openssl_counted ? __wrap_malloc(size) : __real_malloc(size);
}

static void *ssl_counted_realloc(void *p, size_t size, const char *file, int line)
{
	(void)file;
	(void)line;
	return openssl_counted ? __wrap_realloc(p, size) : __real_realloc(p, size);
}

static void ssl_plain_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

void fail_alloc_openssl_counted(bool counted)
{
	openssl_counted = counted;
}

int fail_alloc_count_openssl(void)
{
	openssl_counted = true;
	return CRYPTO_set_mem_functions(ssl_counted_malloc, ssl_counted_realloc, ssl_plain_free)
		   ? 0
		   : -1;
}

void fail_alloc_arm(long nth)
{
	json_set_alloc_funcs(json_malloc, json_free);
	injector.armed = true;
	injector.fired = false;
	injector.nth = nth;
	injector.seen = 0;
}

bool fail_alloc_disarm(void)
{
	injector.armed = false;
	return injector.fired;
}

long fail_alloc_seen(void)
{
	return injector.seen;
}

void *__wrap_malloc(size_t size)
{
	return should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
	if (should_fail())
		return -1; /* *out is undefined then, as glibc documents */
	return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = __wrap_vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}
