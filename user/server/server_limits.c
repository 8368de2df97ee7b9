#include "server_limits.h"

#include <string.h>
#include <time.h>

#include "archeio/core/log.h"
#include "archeio/server/config.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int server_limits_open(struct server_limits *s, const struct config *config,
		       const struct logger *log)
{
	char err[512];
	memset(s, 0, sizeof(*s));
	if (!config->rate_limit)
		return 0;
	if (!rate_exempt_parse(&s->exempt, config->rate_limit_exempt,
			       config->rate_limit_exempt_count, err, sizeof(err))) {
		log_msg(log, LOG_ERROR, "%s", err);
		return -1;
	}
	if (rate_limiter_init(&s->buckets, config->rate_limit, config->rate_burst,
			      config->rate_limit_entries, config->rate_limit_v6_prefix) != 0) {
		log_msg(log, LOG_ERROR, "--rate-limit: out of memory for %u buckets",
			(unsigned)config->rate_limit_entries);
		rate_exempt_free(&s->exempt);
		return -1;
	}
	s->on = true;
	s->limits = (struct request_limits){
	    .buckets = &s->buckets, .exempt = &s->exempt, .now_ns = monotonic_ns};
	log_msg(log, LOG_INFO,
		"rate limit: %u requests/s per client, burst %u, IPv6 per /%u, %zu buckets shared "
		"by the workers, %zu exempt ranges, %zu exempt clouds/regions",
		(unsigned)config->rate_limit, (unsigned)config->rate_burst, s->buckets.v6_prefix,
		s->buckets.mask + 1, s->exempt.prefix_count, s->exempt.place_count);
	return 0;
}

const struct request_limits *server_limits_get(const struct server_limits *s)
{
	return s->on ? &s->limits : NULL;
}

void server_limits_close(struct server_limits *s)
{
	if (!s->on)
		return;
	rate_limiter_free(&s->buckets);
	rate_exempt_free(&s->exempt);
	s->on = false;
}
