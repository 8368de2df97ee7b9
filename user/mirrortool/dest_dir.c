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

/* A blob on its way in: a temp file beside its final name, so the rename
 * that publishes it is atomic. */
struct dir_writer {
	struct dest_writer base;
	int fd;
	char temp[4096];
	char path[4096];
	char images[4096];
};

static bool dir_write(struct dest_writer *w, const char *data, size_t len, char *err, size_t errlen)
{
	struct dir_writer *dw = (struct dir_writer *)w;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(dw->fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", dw->temp,
				 strerror(n < 0 ? errno : EIO));
			return false;
		}
		off += (size_t)n;
	}
	return true;
}

static bool dir_reset(struct dest_writer *w, char *err, size_t errlen)
{
	struct dir_writer *dw = (struct dir_writer *)w;
	if (ftruncate(dw->fd, 0) == 0 && lseek(dw->fd, 0, SEEK_SET) == 0)
		return true;
	snprintf(err, errlen, "cannot truncate %s: %s", dw->temp, strerror(errno));
	return false;
}

static void dir_abort(struct dest_writer *w)
{
	struct dir_writer *dw = (struct dir_writer *)w;
	unlink(dw->temp);
	close(dw->fd);
	free(dw);
}

static bool dir_commit(struct dest_writer *w, int64_t size,
		       const unsigned char sha256[DIGEST_SHA256_LEN], char *err, size_t errlen)
{
	(void)size;
	(void)sha256;
	struct dir_writer *dw = (struct dir_writer *)w;
	/* Readable by the web server that serves the mirror. */
	if (fchmod(dw->fd, 0644) != 0 || fsync(dw->fd) != 0) {
		snprintf(err, errlen, "cannot finish %s: %s", dw->temp, strerror(errno));
		dir_abort(w);
		return false;
	}
	if (rename(dw->temp, dw->path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", dw->temp, dw->path,
			 strerror(errno));
		dir_abort(w);
		return false;
	}
	/* The rename itself is durable only once the directory is synced. */
	int dirfd = open(dw->images, O_RDONLY | O_DIRECTORY);
	if (dirfd >= 0) {
		fsync(dirfd);
		close(dirfd);
	}
	close(dw->fd);
	free(dw);
	return true;
}

static const struct dest_writer_ops dir_writer_ops = {dir_write, dir_reset, dir_commit, dir_abort};

static struct dest_writer *dir_open_writer(struct dest *d, const char *digest,
					   int64_t expected_size, char *err, size_t errlen)
{
	(void)expected_size;
	const struct dest_dir *dd = (const struct dest_dir *)d;
	struct dir_writer *dw = calloc(1, sizeof(*dw));
	if (!dw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dw->base.ops = &dir_writer_ops;
	snprintf(dw->images, sizeof(dw->images), "%s", dd->images);
	dir_describe(d, digest, dw->path, sizeof(dw->path));
	snprintf(dw->temp, sizeof(dw->temp), "%s/" DEST_TEMP_PREFIX "%ld-XXXXXX", dd->images,
		 (long)getpid());
	dw->fd = mkstemp(dw->temp);
	if (dw->fd < 0) {
		snprintf(err, errlen, "cannot create temp file in %s: %s", dd->images,
			 strerror(errno));
		free(dw);
		return NULL;
	}
	return &dw->base;
}

static void dir_free(struct dest *d)
{
	struct dest_dir *dd = (struct dest_dir *)d;
	free(dd->images);
	free(dd);
}

static const struct dest_ops dir_ops = {dir_describe, dir_has_blob, dir_open_writer, dir_free};

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
	if (!dry_run) {
		if (!dest_mkdir_p(dd->images, err, errlen)) {
			dir_free(&dd->base);
			return NULL;
		}
		dest_clean_stale_temps(dd->images);
	}
	return &dd->base;
}
