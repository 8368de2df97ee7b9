#include "copy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct temp_sink {
	int fd;
	struct digest_verifier *verifier;
	struct progress *progress;
	int64_t written;
	int64_t limit; /* stop a source that sends more than the manifest said */
	bool over_limit;
	int write_errno;
};

static bool sink_write(void *arg, const char *data, size_t len)
{
	struct temp_sink *s = arg;
	if (s->limit >= 0 && s->written + (int64_t)len > s->limit) {
		s->over_limit = true;
		return false;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(s->fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->write_errno = n < 0 ? errno : EIO;
			return false;
		}
		off += (size_t)n;
	}
	s->written += (int64_t)len;
	progress_add_bytes(s->progress, (int64_t)len);
	return digest_verifier_update(s->verifier, data, len);
}

static bool sink_reset(void *arg)
{
	struct temp_sink *s = arg;
	progress_add_bytes(s->progress, -s->written);
	s->written = 0;
	s->over_limit = false;
	return ftruncate(s->fd, 0) == 0 && lseek(s->fd, 0, SEEK_SET) == 0 &&
	       digest_verifier_reset(s->verifier);
}

static bool download(struct registry *r, const struct http_sink *sink, struct temp_sink *ts,
		     CURL *easy, const char *repo, const struct digest_ref *ref,
		     int64_t expected_size, unsigned char sha256[DIGEST_SHA256_LEN], char *err,
		     size_t errlen)
{
	if (!registry_blob(r, easy, repo, ref->text, sink, err, errlen)) {
		if (ts->over_limit)
			snprintf(err, errlen,
				 "source sent more than the %lld bytes the manifest "
				 "declares",
				 (long long)expected_size);
		else if (ts->write_errno)
			snprintf(err, errlen, "cannot write temp file: %s",
				 strerror(ts->write_errno));
		return false;
	}
	char actual[DIGEST_TEXT_MAX];
	if (!digest_verifier_finish(ts->verifier, actual, sha256)) {
		snprintf(err, errlen, "digest mismatch: content is %s (%lld bytes), not stored",
			 actual, (long long)ts->written);
		return false;
	}
	if (expected_size >= 0 && ts->written != expected_size) {
		snprintf(err, errlen, "size mismatch: got %lld bytes, manifest says %lld",
			 (long long)ts->written, (long long)expected_size);
		return false;
	}
	return true;
}

bool copy_blob(struct registry *r, struct dest *d, CURL *easy, struct progress *progress,
	       const char *repo, const char *digest, int64_t expected_size, char *err,
	       size_t errlen)
{
	struct digest_ref ref;
	if (!digest_parse(digest, &ref)) {
		snprintf(err, errlen, "unsupported digest %s", digest);
		return false;
	}
	char temp[4096];
	snprintf(temp, sizeof(temp), "%s/" DEST_TEMP_PREFIX "%ld-XXXXXX", dest_staging_dir(d),
		 (long)getpid());
	int fd = mkstemp(temp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create temp file in %s: %s", dest_staging_dir(d),
			 strerror(errno));
		return false;
	}
	struct temp_sink ts = {.fd = fd,
			       .verifier = digest_verifier_new(&ref),
			       .progress = progress,
			       .limit = expected_size};
	struct http_sink sink = {sink_write, sink_reset, &ts};
	bool ok = ts.verifier != NULL;
	if (!ok)
		snprintf(err, errlen, "out of memory");
	unsigned char sha256[DIGEST_SHA256_LEN];
	ok = ok && download(r, &sink, &ts, easy, repo, &ref, expected_size, sha256, err, errlen);
	if (ok) {
		/* dest_commit consumes the temp file, whatever the outcome. */
		ok = dest_commit(d, easy, digest, fd, temp, ts.written, sha256, err, errlen);
		if (!ok)
			progress_add_bytes(progress, -ts.written);
	} else {
		progress_add_bytes(progress, -ts.written);
		unlink(temp);
	}
	digest_verifier_free(ts.verifier);
	close(fd);
	return ok;
}
