/* Where blobs go: a directory (<dir>/containers/images/<digest>) or an
 * S3-compatible bucket (<prefix>/containers/images/<digest>). A blob is
 * first written to a temp file in the staging directory while its digest is
 * verified; dest_commit then makes it visible in one step (rename, or one
 * PUT with x-amz-checksum-sha256), so a reader never sees a partial blob. */
#ifndef ARCHEIO_MIRROR_DEST_H
#define ARCHEIO_MIRROR_DEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "http.h"

/* Prefix of temp files; the pid follows so a later run can tell temp files
 * of dead runs (removed) from those of a live one (left alone). */
#define DEST_TEMP_PREFIX ".tmp-archeio-"

struct s3_config {
	const char *bucket;
	const char *prefix;   /* "" or "a/b" */
	const char *endpoint; /* NULL: AWS virtual-hosted https://BUCKET.s3.REGION.amazonaws.com */
	const char *region;
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* may be NULL */
};

struct dest;

/* dry_run: nothing is created or removed. */
struct dest *dest_dir_open(const char *dir, bool dry_run, char *err, size_t errlen);
/* staging_dir: local directory for temp files (created if missing unless dry_run). */
struct dest *dest_s3_open(const struct s3_config *cfg, struct http_client *http,
			  const char *staging_dir, bool dry_run, char *err, size_t errlen);
void dest_free(struct dest *d);

const char *dest_staging_dir(const struct dest *d);
/* Human-readable location of a blob, for messages and --dry-run. */
void dest_describe(const struct dest *d, const char *digest, char *out, size_t len);
bool dest_has_blob(struct dest *d, CURL *easy, const char *digest, bool *present, char *err,
		   size_t errlen);
/* What --verify found of a blob in the destination. */
enum dest_blob_state {
	DEST_BLOB_ABSENT,
	DEST_BLOB_INTACT,
	DEST_BLOB_WRONG_SIZE, /* present, but not the manifest's size */
	DEST_BLOB_CORRUPT,    /* deep: the bytes (or S3's stored checksum) do not match */
};

/* For --verify: is digest present with size bytes (size < 0: any)? deep
 * also re-hashes a directory's file, or compares the sha256 checksum S3
 * stored with the object (HEAD with x-amz-checksum-mode: ENABLED; an
 * object without one counts as corrupt, since nothing vouches for it). */
bool dest_check_blob(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		     enum dest_blob_state *state, char *err, size_t errlen);
/* "missing", "wrong size", "corrupt", "intact". */
const char *dest_blob_state_name(enum dest_blob_state state);

/* Publishes the verified temp file (fd open, at temp_path) as digest.
 * sha256 is the raw sha256 of its bytes. The temp file is gone afterwards,
 * whatever the outcome. */
bool dest_commit(struct dest *d, CURL *easy, const char *digest, int fd, const char *temp_path,
		 int64_t size, const unsigned char sha256[DIGEST_SHA256_LEN], char *err,
		 size_t errlen);

/* mkdir -p with mode 0755. */
bool dest_mkdir_p(const char *path, char *err, size_t errlen);
/* Removes DEST_TEMP_PREFIX files of processes that no longer run. */
void dest_clean_stale_temps(const char *dir);

#endif
