/* Token bucket for a requests-per-second limit. Pure arithmetic: the clock
 * is passed in (nanoseconds, monotonic); the caller sleeps. Reservations may
 * drive the bucket negative, so concurrent callers queue up fairly: each gets
 * the wait that keeps the long-run rate at `rate`. */
#ifndef ARCHEIO_MIRROR_TOKEN_BUCKET_H
#define ARCHEIO_MIRROR_TOKEN_BUCKET_H

#include <stdint.h>

struct token_bucket {
	double rate;   /* tokens per second; <= 0 means unlimited */
	double burst;  /* bucket size (at least 1) */
	double tokens; /* may be negative: reserved ahead */
	uint64_t last_ns;
};

void token_bucket_init(struct token_bucket *tb, double rate, double burst, uint64_t now_ns);
/* Takes one token; returns how long (ns) the caller must wait before acting. */
uint64_t token_bucket_reserve(struct token_bucket *tb, uint64_t now_ns);

#endif
