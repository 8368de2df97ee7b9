/* The warning that the ranges in force are stale: older than
 * --ranges-max-age, measured from the files' own publication stamps (else
 * their modification times). Said at start, after each reload, and hourly
 * while it stays true, so a long-running server is not quiet about it. The
 * same rule sets archeio_ranges_stale. Internal to server/. */
#ifndef ARCHEIO_SERVER_RANGES_AGE_H
#define ARCHEIO_SERVER_RANGES_AGE_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/core/log.h"
#include "archeio/server/serve_state.h"

#define RANGES_AGE_CHECK_S 3600

/* Logs the warning when state's ranges are stale at now; true when they are. */
bool ranges_age_warn(const struct serve_state *state, uint64_t max_age_s, int64_t now,
		     const struct logger *log);

#endif
