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
	free(d->staging_dir);
	free(dd);
}

static const struct dest_ops dir_ops = {dir_describe, dir_has_blob, dir_commit, dir_free,
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
