#include "dest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dest_dir {
	struct dest base;
	char *images; /* <dir>/containers/images */
};

static void dir_describe(const struct dest *d, const char *digest, char *out, size_t len)
{
	const struct dest_dir *dd = (const struct dest_dir *)d;
	snprintf(out, len, "%s/%s", dd->images, digest);
}

static bool dir_has_blob(struct dest *d, CURL *easy, const char *digest, bool *present, char *err,
			 size_t errlen)
{
	(void)easy;
	char path[4096];
	dir_describe(d, digest, path, sizeof(path));
	struct stat st;
	if (stat(path, &st) == 0) {
		*present = S_ISREG(st.st_mode);
		return true;
	}
	if (errno == ENOENT || errno == ENOTDIR) {
		*present = false;
		return true;
	}
	snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
	return false;
}

static bool dir_commit(struct dest *d, CURL *easy, const char *digest, int fd,
		       const char *temp_path, int64_t size,
		       const unsigned char sha256[DIGEST_SHA256_LEN], char *err, size_t errlen)
{
	(void)easy;
	(void)size;
	(void)sha256;
	const struct dest_dir *dd = (const struct dest_dir *)d;
	char path[4096];
	dir_describe(d, digest, path, sizeof(path));
	/* Readable by the web server that serves the mirror. */
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot finish %s: %s", temp_path, strerror(errno));
		unlink(temp_path);
		return false;
	}
	if (rename(temp_path, path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", temp_path, path,
			 strerror(errno));
		unlink(temp_path);
		return false;
	}
	/* The rename itself is durable only once the directory is synced. */
	int dirfd = open(dd->images, O_RDONLY | O_DIRECTORY);
	if (dirfd >= 0) {
		fsync(dirfd);
		close(dirfd);
	}
	return true;
}

static void dir_free(struct dest *d)
{
	struct dest_dir *dd = (struct dest_dir *)d;
	free(dd->images);
	free(d->staging_dir);
	free(dd);
}

static const struct dest_ops dir_ops = {dir_describe, dir_has_blob, dir_commit, dir_free};

struct dest *dest_dir_open(const char *dir, bool dry_run, char *err, size_t errlen)
{
	struct dest_dir *dd = calloc(1, sizeof(*dd));
	size_t len = strlen(dir) + sizeof("/containers/images");
	if (dd)
		dd->images = malloc(len);
	if (!dd || !dd->images) {
		free(dd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(dd->images, len, "%s/containers/images", dir);
	dd->base.ops = &dir_ops;
	/* Temp files live beside their final name, so rename is atomic. */
	dd->base.staging_dir = strdup(dd->images);
	if (!dd->base.staging_dir) {
		dir_free(&dd->base);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!dry_run) {
		if (!dest_mkdir_p(dd->images, err, errlen)) {
			dir_free(&dd->base);
			return NULL;
		}
		dest_clean_stale_temps(dd->images);
	}
	return &dd->base;
}
