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

/* Re-hashes the file at path: *matches when its bytes have digest. */
static bool hash_file(const char *path, const char *digest, bool *matches, char *err, size_t errlen)
{
	struct digest_ref ref;
	if (!digest_parse(digest, &ref)) {
		snprintf(err, errlen, "unsupported digest %s", digest);
		return false;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct digest_verifier *v = fd >= 0 ? digest_verifier_new(&ref) : NULL;
	if (!v) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0)
			close(fd);
		return false;
	}
	char buf[64 * 1024];
	ssize_t n;
	bool ok = true;
	while (ok && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0 && digest_verifier_update(v, buf, (size_t)n);
	}
	if (!ok)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	char actual[DIGEST_TEXT_MAX];
	*matches = ok && digest_verifier_finish(v, actual, NULL);
	digest_verifier_free(v);
	close(fd);
	return ok;
}

static bool dir_check(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		      enum dest_blob_state *state, char *err, size_t errlen)
{
	(void)easy;
	char path[4096];
	dir_describe(d, digest, path, sizeof(path));
	struct stat st;
	int rc = stat(path, &st);
	if (rc != 0 && errno != ENOENT && errno != ENOTDIR) {
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		return false;
	}
	bool present = rc == 0 && S_ISREG(st.st_mode);
	bool matches = true;
	if (!present)
		*state = DEST_BLOB_ABSENT;
	else if (size >= 0 && st.st_size != size)
		*state = DEST_BLOB_WRONG_SIZE;
	else if (deep && !hash_file(path, digest, &matches, err, errlen))
		return false;
	else
		*state = matches ? DEST_BLOB_INTACT : DEST_BLOB_CORRUPT;
	return true;
}

static void dir_free(struct dest *d)
{
	struct dest_dir *dd = (struct dest_dir *)d;
	free(dd->images);
	free(dd);
}

static const struct dest_ops dir_ops = {dir_describe, dir_has_blob, dir_open_writer, dir_free,
					dir_check};

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
