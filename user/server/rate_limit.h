/* Per-client request limits: one token bucket per client key, in a fixed-size
 * table shared by every worker.
 *
 * Each bucket is one 64-bit word, its "theoretical arrival time" (GCRA, the
 * generic cell rate algorithm, which is a token bucket expressed as a time):
 * a request at `now` is allowed when the bucket's time, moved up to `now`, is
 * at most (burst - 1) intervals ahead of it, and then moves one interval
 * (1 s / rate) further. One compare-and-swap per request, no lock, so the
 * workers share the buckets and a client gets the same limit whichever
 * worker its connections land on.
 *
 * The table is open addressing over a power-of-two slot array with a short
 * probe window: a client not found claims an empty slot in its window, or
 * evicts the bucket that has been idle longest (the one with the earliest
 * time; a full bucket loses nothing when evicted). So the table never grows,
 * and a flood of new addresses costs the evicted clients at most a fresh
 * burst, never a refusal. (A request racing with the eviction of its own
 * bucket may charge its token to the slot's new client: one token, once.)
 *
 * The table and the rate are apart: a reload (--limits-file) makes a new
 * limiter with the new rate and burst over the same table
 * (rate_limiter_share()), so clients keep their buckets; a bucket's time is
 * absolute, so it simply drains at the new rate from then on.
 *
 * Pure: the clock is passed in (monotonic nanoseconds), tests use a fake. */
#ifndef ARCHEIO_SERVER_RATE_LIMIT_H
#define ARCHEIO_SERVER_RATE_LIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/ip.h"

struct rate_slot {
	_Atomic uint64_t key; /* rate_limit_key() + 1; 0: empty */
	_Atomic uint64_t tat; /* theoretical arrival time, ns */
};

/* The buckets, shared by the limiters made over them (reference-counted:
 * the last rate_limiter_free() frees them, on whichever thread). */
struct rate_table {
	atomic_uint refs;
	unsigned v6_prefix; /* IPv6 clients are keyed by this prefix (1..64) */
	size_t mask;	    /* slot count - 1 */
	struct rate_slot *slots;
};

struct rate_limiter {
	uint64_t interval_ns;  /* 1 s / rate */
	uint64_t tolerance_ns; /* (burst - 1) * interval_ns */
	struct rate_table *table;
};

/* rate requests per second (>= 1), burst >= 1, entries: at least this many
 * buckets (rounded up to a power of two). -1 when out of memory. */
int rate_limiter_init(struct rate_limiter *limiter, unsigned rate, unsigned burst, size_t entries,
		      unsigned v6_prefix);
/* A limiter at rate and burst over from's buckets (and key shape). */
void rate_limiter_share(struct rate_limiter *limiter, unsigned rate, unsigned burst,
			const struct rate_limiter *from);
/* Drops this limiter's reference to its buckets. */
void rate_limiter_free(struct rate_limiter *limiter);

/* The bucket key of a client: its IPv4 address, or its IPv6 address cut to
 * v6_prefix bits. The two never collide: an IPv4 key's upper 32 bits are
 * fffffffe, and an IPv6 prefix that starts so (ffff:fffe::/32) is multicast,
 * never a TCP client. */
uint64_t rate_limit_key(const struct ip_addr *client, unsigned v6_prefix);

/* Takes one request's token for client at now_ns. true: allowed. false: over
 * the limit; *retry_after_ns (may be NULL) is how long until a token is
 * free again. */
bool rate_limiter_take(struct rate_limiter *limiter, const struct ip_addr *client, uint64_t now_ns,
		       uint64_t *retry_after_ns);

/* Retry-After in whole seconds for a wait: rounded up, at least 1. */
unsigned rate_limit_retry_seconds(uint64_t retry_after_ns);

#endif
