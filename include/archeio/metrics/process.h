/* The usual process_* metrics of a Linux process, from /proc. Parsing is
 * pure (a /proc/self/stat line in, numbers out); reading is
 * metrics_process_read(). */
#ifndef ARCHEIO_METRICS_PROCESS_H
#define ARCHEIO_METRICS_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

struct metrics_process {
	bool ok;		 /* false: /proc could not be read; nothing is reported */
	uint64_t start_time_us;	 /* Unix time, microseconds */
	uint64_t cpu_us;	 /* user + system */
	uint64_t resident_bytes; /* RSS */
	uint64_t virtual_bytes;
	uint64_t open_fds;
	uint64_t max_fds; /* RLIMIT_NOFILE, soft */
};

/* A /proc/<pid>/stat line: utime, stime, starttime (fields 14, 15, 22, in
 * clock ticks; starttime since boot), vsize (23, bytes), rss (24, pages).
 * The command (field 2) may hold spaces and parentheses: fields are counted
 * after its last ')'. False when the line is not one. */
bool metrics_process_parse_stat(const char *line, long ticks_per_second, long page_size,
				uint64_t boot_time_s, struct metrics_process *out);
/* Fills *out for this process; out->ok false when /proc is missing. */
void metrics_process_read(struct metrics_process *out);

#endif
