/* The per-client request limit's shared parts, made once at start from the
 * configuration (--rate-limit and friends) and given to every worker. */
#ifndef ARCHEIO_SERVER_SERVER_LIMITS_H
#define ARCHEIO_SERVER_SERVER_LIMITS_H

#include <stdbool.h>

#include "rate_exempt.h"
#include "rate_limit.h"
#include "request.h"

struct server_limits {
	bool on;
	struct rate_limiter buckets;
	struct rate_exempt exempt;
	struct request_limits limits;
};

/* Off (0) when --rate-limit is 0; -1 when the table cannot be made, logged. */
int server_limits_open(struct server_limits *s, const struct config *config,
		       const struct logger *log);
/* What the workers get: NULL when off. */
const struct request_limits *server_limits_get(const struct server_limits *s);
void server_limits_close(struct server_limits *s);

#endif
