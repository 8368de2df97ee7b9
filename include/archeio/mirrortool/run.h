/* One archeio-mirror run from parsed options: discover, copy with bounded
 * concurrency, record complete images, report. */
#ifndef ARCHEIO_MIRROR_RUN_H
#define ARCHEIO_MIRROR_RUN_H

#include <stdio.h>

#include "archeio/mirrortool/cli.h"

enum {
	MIRROR_EXIT_OK = 0,
	MIRROR_EXIT_FAILED = 1, /* something was not copied; the failures are listed */
	MIRROR_EXIT_USAGE = 2,	/* bad flags or configuration */
	/* 64 + a mask of the destinations that failed: bit 0 the first --to,
	 * ..., bit 4 the fifth, bit 5 the sixth or any later one. */
	MIRROR_EXIT_DEST_FAILED = 64,
	MIRROR_EXIT_DEST_BITS = 6,
	/* Interrupted by a signal: 128 + its number (130 SIGINT, 143 SIGTERM). */
};

/* out: --dry-run listing; log: progress, summary and failures. */
int mirror_run(const struct mirror_options *o, FILE *out, FILE *log);

#endif
