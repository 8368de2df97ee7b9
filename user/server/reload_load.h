/* A SIGHUP reload's load, off the CPU's front row. */
#ifndef ARCHEIO_RELOAD_LOAD_H
#define ARCHEIO_RELOAD_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"

/* How much nicer than the main thread a reload's parse runs. */
#define RELOAD_NICE 10

/* What a reload's load cost, for the log (and bench/reload.sh). */
struct reload_stats {
	int nice;	/* the niceness it ran at */
	int64_t cpu_ns; /* the loading thread's CPU time */
};

/* serve_state_load(config, previous) on a thread of its own at nice
 * +RELOAD_NICE (at most 19), joined before returning: on a busy machine the
 * workers keep the CPU and a reload takes longer instead of their requests.
 * stats may be NULL. When no thread can be started it loads on the
 * caller's thread. */
struct serve_state *reload_load(const struct config *config, const struct serve_state *previous,
				struct reload_stats *stats, char *err, size_t errlen);

#endif
