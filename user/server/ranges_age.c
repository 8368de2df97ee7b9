#include "ranges_age.h"

#include <stdio.h>
#include <time.h>

#include "archeio/metrics/snapshot.h"

bool ranges_age_warn(const struct serve_state *state, uint64_t max_age_s, int64_t now,
		     const struct logger *log)
{
	int64_t when = 0;
	bool published = false;
	bool known = ranges_data_time(&state->ranges, &when, &published);
	uint64_t age;
	if (!metrics_ranges_too_old(known, when, now, max_age_s, &age))
		return false;
	char made[32] = "-";
	time_t t = (time_t)when;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(made, sizeof(made), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const struct log_field fields[] = {
	    LOG_TEXT("data_time", made),
	    LOG_TEXT("from", published ? "publication stamp" : "file modification time"),
	    LOG_NUMBER("age_s", age),
	    LOG_NUMBER("max_age_s", max_age_s),
	};
	log_record(log, LOG_WARN,
		   "ranges are stale (older than --ranges-max-age): clients may be placed in the "
		   "wrong region; refresh them (scripts/fetch-ranges.sh) and send SIGHUP",
		   fields, sizeof(fields) / sizeof(fields[0]));
	return true;
}
