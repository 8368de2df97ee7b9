/* Failing mirror origins, one record each while they fail: a small array
 * searched linearly (a handful of origins fail at once; healthy ones have no
 * record), under a mutex because every worker's checker reports here. */
#include "archeio/mirrorcheck/mirror_health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_INTERVAL_MS 5000u

struct failing_origin {
	char *origin;
	size_t len;
	uint64_t since_ms;     /* first failure */
	uint64_t warned_ms;    /* last warning */
	uint64_t failed;       /* failed checks since since_ms */
	uint64_t since_warned; /* failed checks since the last warning */
};

struct mirror_health {
	pthread_mutex_t lock;
	uint64_t interval_ms;
	struct failing_origin *failing;
	size_t count;
	size_t cap;
};

struct mirror_health *mirror_health_new(uint32_t interval_ms)
{
	struct mirror_health *health = calloc(1, sizeof(*health));
	if (!health)
		return NULL;
	if (pthread_mutex_init(&health->lock, NULL) != 0) {
		free(health);
		return NULL;
	}
	health->interval_ms = interval_ms ? interval_ms : DEFAULT_INTERVAL_MS;
	return health;
}

void mirror_health_free(struct mirror_health *health)
{
	if (!health)
		return;
	for (size_t i = 0; i < health->count; i++)
		free(health->failing[i].origin);
	free(health->failing);
	pthread_mutex_destroy(&health->lock);
	free(health);
}

static struct failing_origin *find(struct mirror_health *health, const char *origin, size_t len)
{
	for (size_t i = 0; i < health->count; i++) {
		struct failing_origin *f = &health->failing[i];
		if (f->len == len && memcmp(f->origin, origin, len) == 0)
			return f;
	}
	return NULL;
}

/* A new record for an origin that just failed; NULL when out of memory. */
static struct failing_origin *add(struct mirror_health *health, const char *origin, size_t len,
				  uint64_t now_ms)
{
	if (health->count == health->cap) {
		size_t cap = health->cap ? health->cap * 2 : 8;
		struct failing_origin *grown = realloc(health->failing, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		health->failing = grown;
		health->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, origin, len);
	copy[len] = '\0';
	struct failing_origin *f = &health->failing[health->count++];
	*f = (struct failing_origin){
	    .origin = copy, .len = len, .since_ms = now_ms, .warned_ms = now_ms, .failed = 1};
	return f;
}

static struct mirror_health_report record_failure(struct mirror_health *health,
						  struct failing_origin *f, uint64_t now_ms)
{
	struct mirror_health_report report = {.say = MIRROR_HEALTH_QUIET};
	f->failed++;
	f->since_warned++;
	/* A clock that went backwards (it should not: monotonic) must not
	 * silence the origin for ever. */
	if (now_ms >= f->warned_ms + health->interval_ms || now_ms < f->warned_ms) {
		report.say = MIRROR_HEALTH_STILL_FAILING;
		report.failed_checks = f->since_warned;
		f->warned_ms = now_ms;
		f->since_warned = 0;
	}
	return report;
}

static struct mirror_health_report record_recovery(struct mirror_health *health,
						   struct failing_origin *f, uint64_t now_ms)
{
	struct mirror_health_report report = {
	    .say = MIRROR_HEALTH_RECOVERED,
	    .failed_checks = f->failed,
	    .down_ms = now_ms > f->since_ms ? now_ms - f->since_ms : 0,
	};
	free(f->origin);
	*f = health->failing[--health->count];
	return report;
}

struct mirror_health_report mirror_health_record(struct mirror_health *health, const char *origin,
						 size_t origin_len, bool failed, uint64_t now_ms)
{
	struct mirror_health_report report = {.say = MIRROR_HEALTH_QUIET};
	if (!health || !origin)
		return report;
	pthread_mutex_lock(&health->lock);
	struct failing_origin *f = find(health, origin, origin_len);
	if (f && failed)
		report = record_failure(health, f, now_ms);
	else if (f)
		report = record_recovery(health, f, now_ms);
	else if (failed) {
		add(health, origin, origin_len, now_ms);
		report.say = MIRROR_HEALTH_FAILING;
	}
	pthread_mutex_unlock(&health->lock);
	return report;
}
