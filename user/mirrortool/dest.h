/* Where blobs go: a directory (<dir>/containers/images/<digest>) or an
 * S3-compatible bucket (<prefix>/containers/images/<digest>). A blob reaches
 * a destination through a writer that receives its bytes while they stream
 * from the source (one source read feeds every destination's writer) and
 * publishes them only in dest_writer_commit, called once the whole blob's
 * digest was verified: a rename for directories, a PUT with
 * x-amz-checksum-sha256 or CompleteMultipartUpload for S3. A reader never
 * sees a partial blob, and an aborted writer leaves nothing behind (no temp
 * file, no multipart upload). */
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
	uint64_t part_size;	   /* larger blobs go up as multipart uploads */
	unsigned part_concurrency; /* parts of one blob in flight */
};

struct dest;
struct dest_writer;

/* dry_run: nothing is created or removed. */
struct dest *dest_dir_open(const char *dir, bool dry_run, char *err, size_t errlen);
struct dest *dest_s3_open(const struct s3_config *cfg, struct http_client *http, char *err,
			  size_t errlen);
void dest_free(struct dest *d);

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

/* The check operation of --verify: is digest present with size bytes
 * (size < 0: any)? deep also re-hashes a directory's file, or compares the
 * sha256 checksum S3 stored with the object (HEAD with x-amz-checksum-mode:
 * ENABLED); an S3 object whose checksum is absent or per-part (a multipart
 * upload's "...-N"), or whose digest is not sha256, is read back and
 * re-hashed instead. */
bool dest_check_blob(struct dest *d, CURL *easy, const char *digest, int64_t size, bool deep,
		     enum dest_blob_state *state, char *err, size_t errlen);
/* "missing", "wrong size", "corrupt", "intact". */
const char *dest_blob_state_name(enum dest_blob_state state);

/* Starts receiving digest's bytes; expected_size < 0: unknown. */
struct dest_writer *dest_writer_open(struct dest *d, const char *digest, int64_t expected_size,
				     char *err, size_t errlen);
bool dest_writer_write(struct dest_writer *w, const char *data, size_t len, char *err,
		       size_t errlen);
/* Forgets what was written (the source download restarts). */
bool dest_writer_reset(struct dest_writer *w, char *err, size_t errlen);
/* Publishes the size bytes written, whose raw sha256 is sha256; frees w
 * whatever the outcome. */
bool dest_writer_commit(struct dest_writer *w, int64_t size,
			const unsigned char sha256[DIGEST_SHA256_LEN], char *err, size_t errlen);
/* Drops what was written (S3: AbortMultipartUpload); frees w. */
void dest_writer_abort(struct dest_writer *w);

/* mkdir -p with mode 0755. */
bool dest_mkdir_p(const char *path, char *err, size_t errlen);
/* Removes DEST_TEMP_PREFIX files of processes that no longer run. */
void dest_clean_stale_temps(const char *dir);

#endif
