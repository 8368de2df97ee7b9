/* Whether the server is ready for traffic (/readyz): it serves (the
 * workers run), ranges are loaded when --ranges was given (a ranges
 * directory that a sidecar has not filled yet holds no prefixes: every
 * client would get the '*' rule), and XDP is attached when --xdp-iface asked
 * for it. Pure. */
#ifndef ARCHEIO_METRICS_READINESS_H
#define ARCHEIO_METRICS_READINESS_H

#include <stdbool.h>
#include <stddef.h>

struct metrics_readiness {
	bool serving;	       /* the workers accept connections */
	bool ranges_given;     /* --ranges named something */
	size_t prefixes;       /* in the current serve state */
	const char *xdp_iface; /* NULL: XDP was not asked for */
	bool xdp_attached;     /* the interface runs the program */
};

/* True when ready; otherwise false and reason holds one line saying why
 * (the first reason found). */
bool metrics_ready(const struct metrics_readiness *in, char *reason, size_t cap);

#endif
