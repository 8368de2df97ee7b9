/* The Prometheus text exposition format, version 0.0.4: `# HELP` and
 * `# TYPE` lines, then one sample per line, `name{label="value",...} value`.
 * Pure: text into a core buf. A bad metric or label name (a bug, not input)
 * or running out of memory marks the text failed; callers check once at the
 * end. Label values are escaped (backslash, double quote, newline), so what
 * range files and URLs contain cannot break a line. */
#ifndef ARCHEIO_METRICS_EXPOSITION_H
#define ARCHEIO_METRICS_EXPOSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/buf.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

struct metrics_label {
	const char *name;
	const char *value; /* NULL is written as "" */
};

struct metrics_text {
	struct buf *out;
	bool failed;
};

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool metrics_name_valid(const char *name);
/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved). */
bool metrics_label_name_valid(const char *name);

/* "# HELP name help" (backslash and newline escaped) and "# TYPE name type". */
void metrics_family(struct metrics_text *t, const char *name, enum metrics_type type,
		    const char *help);
/* One sample: an unsigned integer, a signed one, or a number of
 * microseconds written as seconds ("1.5", "0.000250", "3"). */
void metrics_sample(struct metrics_text *t, const char *name, const struct metrics_label *labels,
		    size_t label_count, uint64_t value);
void metrics_sample_signed(struct metrics_text *t, const char *name,
			   const struct metrics_label *labels, size_t label_count, int64_t value);
void metrics_sample_micros(struct metrics_text *t, const char *name,
			   const struct metrics_label *labels, size_t label_count, uint64_t micros);

/* A histogram's samples: per bucket counts (not cumulative; bucket i holds
 * observations <= bounds_us[i] and above the bound before; the last bucket,
 * count bound_count + 1, the rest), their sum in microseconds. Written as
 * name_bucket{...,le="..."} (cumulative, le in seconds, "+Inf" last),
 * name_sum and name_count. */
struct metrics_histogram {
	const uint64_t *bounds_us;
	size_t bound_count;
	const uint64_t *buckets;
	uint64_t sum_us;
};
void metrics_histogram_samples(struct metrics_text *t, const char *name,
			       const struct metrics_label *labels, size_t label_count,
			       const struct metrics_histogram *h);

#endif
