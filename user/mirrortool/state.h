/* The record of copied manifests: one file per manifest digest under
 * <state dir>/manifests/, written (atomically) only after every blob of that
 * manifest is in the destination. The next run skips a recorded image
 * without walking it. A disabled state (no directory) records nothing. */
#ifndef ARCHEIO_MIRROR_STATE_H
#define ARCHEIO_MIRROR_STATE_H

#include <stdbool.h>
#include <stddef.h>

struct mirror_state {
	char *dir; /* <state dir>/manifests, NULL when disabled */
};

/* dir NULL: disabled. create: make the directory (not in --dry-run). */
bool mirror_state_open(struct mirror_state *s, const char *dir, bool create, char *err,
		       size_t errlen);
void mirror_state_close(struct mirror_state *s);
bool mirror_state_has(const struct mirror_state *s, const char *digest);
/* note is stored as the file's text (e.g. "repo@ref"), for people. */
bool mirror_state_record(const struct mirror_state *s, const char *digest, const char *note,
			 char *err, size_t errlen);

#endif
