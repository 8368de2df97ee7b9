/* Asynchronous mirror existence checks: HTTP HEAD through libcurl's multi
 * interface driven by a libevent loop (never blocks the loop), in front of a
 * mirror_cache. One checker per event loop (worker). */
#ifndef ARCHEIO_MIRROR_CHECK_H
#define ARCHEIO_MIRROR_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/mirror_cache.h"

struct event_base;
struct mirror_checker;

struct mirror_checker_options {
	struct mirror_cache_options cache;
	uint32_t timeout_ms; /* whole HEAD request; default 2000 */
	const char *ca_file; /* NULL: system trust store */
};

/* Called exactly once per mirror_checker_check(), possibly before it returns
 * (cache hit). present is false on timeout, error or any status but 200. */
typedef void (*mirror_check_fn)(void *arg, bool present);

struct mirror_checker *mirror_checker_new(struct event_base *base,
					  const struct mirror_checker_options *options);
/* Pending checks complete with present=false before this returns. */
void mirror_checker_free(struct mirror_checker *checker);
void mirror_checker_check(struct mirror_checker *checker, const char *url, mirror_check_fn fn,
			  void *arg);

#endif
