/* Which mirror origins are failing, and when the operator should hear of it:
 * a warning when an origin starts failing, at most one more per interval
 * while it keeps failing, one line when it answers again. One tracker is
 * shared by every worker's checker (thread-safe), so N workers seeing one
 * dead mirror make one warning, not N. Pure logic apart from its lock: the
 * clock is passed in and nothing is logged here (mirror_check.c logs what
 * this decides). */
#ifndef ARCHEIO_MIRROR_HEALTH_H
#define ARCHEIO_MIRROR_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mirror_health;

enum mirror_health_say {
	MIRROR_HEALTH_QUIET,	     /* nothing new to tell */
	MIRROR_HEALTH_FAILING,	     /* the origin just started failing */
	MIRROR_HEALTH_STILL_FAILING, /* still failing, an interval after the last warning */
	MIRROR_HEALTH_RECOVERED,     /* answered again after failing */
};

struct mirror_health_report {
	enum mirror_health_say say;
	/* STILL_FAILING: failed checks since the previous warning, this one
	 * included. RECOVERED: failed checks while it was down. */
	uint64_t failed_checks;
	uint64_t down_ms; /* RECOVERED: since the first failure */
};

/* interval_ms: the least time between two warnings for one origin (0: 5000).
 * NULL when out of memory. */
struct mirror_health *mirror_health_new(uint32_t interval_ms);
void mirror_health_free(struct mirror_health *health);
/* Records one finished check of a mirror origin ("scheme://host[:port]/",
 * origin_len bytes) at now_ms: failed for a transport error or a 5xx, not
 * failed for any other answer (a 404 is a mirror that works). Says what the
 * operator should be told. Only failing origins are held, so the memory is
 * bounded by the origins the rules name. Out of memory: every failure says
 * FAILING (too many warnings rather than none). */
struct mirror_health_report mirror_health_record(struct mirror_health *health, const char *origin,
						 size_t origin_len, bool failed, uint64_t now_ms);

#endif
