#include "dest_internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void dest_free(struct dest *d)
{
	if (d)
		d->ops->free(d);
}

void dest_describe(const struct dest *d, const char *digest, char *out, size_t len)
{
	d->ops->describe(d, digest, out, len);
}

bool dest_has_blob(struct dest *d, CURL *easy, const char *digest, bool *present, char *err,
		   size_t errlen)
{
	return d->ops->has_blob(d, easy, digest, present, err, errlen);
}

bool dest_check_blob(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		     enum dest_blob_state *state, char *err, size_t errlen)
{
	return d->ops->check(d, easy, digest, size, deep, state, err, errlen);
}

const char *dest_blob_state_name(enum dest_blob_state state)
{
	switch (state) {
	case DEST_BLOB_ABSENT:
		return "missing";
	case DEST_BLOB_WRONG_SIZE:
		return "wrong size";
	case DEST_BLOB_CORRUPT:
		return "corrupt";
	case DEST_BLOB_INTACT:
		break;
	}
	return "intact";
}

struct dest_writer *dest_writer_open(struct dest *d, const char *digest, int64_t expected_size,
				     char *err, size_t errlen)
{
	return d->ops->open_writer(d, digest, expected_size, err, errlen);
}

bool dest_writer_write(struct dest_writer *w, const char *data, size_t len, char *err,
		       size_t errlen)
{
	return w->ops->write(w, data, len, err, errlen);
}

bool dest_writer_reset(struct dest_writer *w, char *err, size_t errlen)
{
	return w->ops->reset(w, err, errlen);
}

bool dest_writer_commit(struct dest_writer *w, int64_t size,
			const unsigned char sha256[DIGEST_SHA256_LEN], char *err, size_t errlen)
{
	return w->ops->commit(w, size, sha256, err, errlen);
}

void dest_writer_abort(struct dest_writer *w)
{
	if (w)
		w->ops->abort(w);
}

bool dest_mkdir_p(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	bool ok = true;
	for (char *p = copy + 1; ok; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			*p = '\0';
			if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s", copy,
					 strerror(errno));
				ok = false;
			}
			if (end)
				break;
			*p = '/';
		}
	}
	free(copy);
	return ok;
}

void dest_clean_stale_temps(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t prefix_len = strlen(DEST_TEMP_PREFIX);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, DEST_TEMP_PREFIX, prefix_len) != 0)
			continue;
		char *end = NULL;
		long pid = strtol(e->d_name + prefix_len, &end, 10);
		if (pid <= 0 || !end || *end != '-')
			continue;
		if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}
