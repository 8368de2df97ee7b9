/* Shared between the ranges_*.c files; not part of the public interface. */
#ifndef ARCHEIO_RANGES_INTERNAL_H
#define ARCHEIO_RANGES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/geo/ranges.h"

#define RANGES_CLOUD_AWS "aws"
#define RANGES_CLOUD_GCP "gcp"
#define RANGES_CLOUD_AZURE "azure"

enum ranges_format {
	RANGES_FORMAT_UNKNOWN = 0,
	RANGES_FORMAT_AWS,
	RANGES_FORMAT_GCP,
	RANGES_FORMAT_AZURE,
	RANGES_FORMAT_TEXT,
};

/* Offset past a UTF-8 byte order mark, which some Windows-made files carry. */
size_t ranges_skip_bom(const char *buf, size_t len);
/* JSON when the first significant byte opens an object or array, which no
 * text ranges line (CIDR or comment) can start with. */
bool ranges_looks_like_json(const char *buf, size_t len);

/* snprintf into err when err is not NULL. */
void ranges_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a warning to w: kept whole while fewer than RANGES_WARNINGS_KEPT are,
 * only counted after that. */
void ranges_warn(struct ranges_warnings *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True when the next warning will be kept, so a caller can skip the work of
 * describing one that would only be counted. */
bool ranges_warning_kept_next(const struct ranges_warnings *w);

/* Copies at most 64 bytes of src into dst as a printable, quotable token
 * (control and non-ASCII bytes become '?', an overlong token ends in "...")
 * so error messages stay one safe line whatever the input holds. */
void ranges_quote(char *dst, size_t cap, const char *src, size_t len);

/* What a file says of itself (see struct ranges_file); filled by the
 * parsers when asked. */
struct ranges_stamp {
	enum ranges_format format;
	int64_t published;	 /* 0: none */
	long long change_number; /* -1: none */
};

/* ranges_parse_buffer() that also tells the file's format and stamps
 * (stamp may be NULL). */
int ranges_parse_buffer_stamped(struct range_set *set, struct region_table *regions,
				const char *name, const char *buf, size_t len,
				struct ranges_stamp *stamp, char *err, size_t errlen);
/* "YYYY<d>MM<d>DD<t>hh<c>mm<c>ss", an optional fraction of a second after
 * '.', nothing else; UTC. AWS: d '-', t '-', c '-' ("2026-07-29-08-27-05");
 * GCP: '-', 'T', ':' ("2026-07-29T07:05:53.849365"). False for anything
 * else, an impossible date included. */
bool ranges_parse_utc(const char *text, char date_sep, char between, char time_sep,
		      int64_t *seconds);
struct json_tape; /* json_tape.h: a parsed JSON document, its root token 0 */
/* The stamps a JSON document of this format carries (none: left as is). */
void ranges_json_stamp(const struct json_tape *tape, enum ranges_format format,
		       struct ranges_stamp *stamp);

/* The JSON shape of the document (AWS, GCP, Azure) or RANGES_FORMAT_UNKNOWN. */
enum ranges_format ranges_json_format(const struct json_tape *tape);
/* The JSON text the tape was parsed from, for the line numbers of warnings. */
struct ranges_source {
	const char *name;
	const char *buf;
	size_t len;
};
/* Appends the document's entries; format is what ranges_json_format()
 * returned. */
int ranges_parse_json(struct range_set *set, struct region_table *regions,
		      const struct ranges_source *source, const struct json_tape *tape,
		      enum ranges_format format, char *err, size_t errlen);
/* The operator text format; all lines or nothing. */
int ranges_parse_text(struct range_set *set, struct region_table *regions, const char *name,
		      const char *buf, size_t len, char *err, size_t errlen);

#endif
