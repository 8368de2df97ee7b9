/* Counters of a mirror run and their display: on a terminal a line
 * rewritten in place (\r) with blobs and bytes done/total, the rate and the
 * time left; the summary line is the same text without the time left. Counters are guarded by the
 * lock, since every copy thread updates them. */
#ifndef ARCHEIO_MIRROR_PROGRESS_H
#define ARCHEIO_MIRROR_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct progress_counts {
	size_t blobs_total;
	size_t blobs_copied;
	size_t blobs_skipped; /* already present */
	size_t blobs_failed;
	size_t blobs_would_copy; /* --dry-run */
	size_t blobs_repaired;	 /* --verify: missing or damaged, copied again */
	uint64_t bytes_total;
	uint64_t bytes_done;	/* downloaded so far, failed attempts excluded */
	uint64_t bytes_present; /* of blobs found present: never downloaded */
	size_t images_skipped;	/* recorded by an earlier run */
	/* Failures besides blobs, so the summary counts every listed failure. */
	size_t images_failed;	/* a reference whose manifests could not be walked */
	size_t listings_failed; /* tags lists and the catalog */
	size_t records_failed;	/* state records that could not be written */
	size_t setup_failed;	/* the run's own set-up steps */
};

struct progress {
	pthread_mutex_t lock;
	struct progress_counts counts;
	uint64_t start_ns;
	FILE *out;
	bool live; /* out is a terminal: redraw in place */
};

/* Pure: formats counts after elapsed_s seconds into buf (one line, no \n). */
void progress_format(const struct progress_counts *c, double elapsed_s, char *buf, size_t len);
/* Pure: the live line, progress_format's text plus the estimate of time
 * left (eta.h) for the bytes still to download at the rate so far. */
void progress_format_live(const struct progress_counts *c, double elapsed_s, char *buf, size_t len);
/* Pure: "12.3 MiB" style sizes. */
void progress_format_bytes(uint64_t bytes, char *buf, size_t len);

void progress_init(struct progress *p, FILE *out, bool live);
void progress_destroy(struct progress *p);
void progress_add_bytes(struct progress *p, int64_t delta);
void progress_snapshot(struct progress *p, struct progress_counts *out);
/* Redraws the live line (no-op when not live). */
void progress_draw(struct progress *p);
/* The same, with suffix after the counts (e.g. per destination). */
void progress_draw_with(struct progress *p, const char *suffix);
/* Ends the live line and prints the summary line. */
void progress_finish(struct progress *p, const char *prefix);

#endif
