/* --limits-file: the request and SYN limits an operator may change with
 * SIGHUP, one "KEY VALUE" per line ('#' starts a comment):
 *
 *   rate-limit 100            requests/s per client (0: off)
 *   rate-burst 200
 *   rate-limit-v6-prefix 64   (a change starts every client's bucket afresh)
 *   rate-limit-exempt 10.0.0.0/8        (repeatable; CIDR or CLOUD[:REGION])
 *   xdp-syn-limit 50          SYNs/s per source (0: off; needs --xdp-iface)
 *   xdp-syn-burst 50
 *
 * A key given in the file overrides its flag; the exempt lines together
 * replace --rate-limit-exempt's list. Pure: the parser sees a buffer. */
#ifndef ARCHEIO_SERVER_LIMITS_FILE_H
#define ARCHEIO_SERVER_LIMITS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/buf.h"

enum limits_key {
	LIMITS_RATE_LIMIT,
	LIMITS_RATE_BURST,
	LIMITS_V6_PREFIX,
	LIMITS_EXEMPT,
	LIMITS_SYN_LIMIT,
	LIMITS_SYN_BURST,
	LIMITS_KEY_COUNT,
};

/* The most exempt entries a file may hold (the XDP exempt tries' size). */
#define LIMITS_EXEMPT_MAX 1024

struct limits_file {
	bool has[LIMITS_KEY_COUNT];
	uint32_t value[LIMITS_KEY_COUNT]; /* the numbers; [LIMITS_EXEMPT] unused */
	char **exempt;			  /* has[LIMITS_EXEMPT]: the entries, in order */
	size_t exempt_count;
};

/* The key's name as written in the file ("rate-limit", ...). */
const char *limits_key_name(enum limits_key key);

/* Parses text (len bytes, NUL bytes are an error). xdp: whether the server
 * runs the XDP program (a non-zero xdp-syn-limit without it is an error).
 * -1 with err "NAME:LINE: message" (out is then empty). */
int limits_file_parse(struct limits_file *out, const char *name, const char *text, size_t len,
		      bool xdp, char *err, size_t errlen);
/* Reads and parses path; err as above, or "PATH: reason" when unreadable. */
int limits_file_load(struct limits_file *out, const char *path, bool xdp, char *err, size_t errlen);
void limits_file_free(struct limits_file *f);
/* The file's values as a file that parses to the same values (keys in a
 * fixed order). false when out of memory. */
bool limits_file_format(const struct limits_file *f, struct buf *out);

#endif
