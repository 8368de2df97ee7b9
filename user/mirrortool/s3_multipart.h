/* The pure parts of S3 multipart uploads: choosing a part size within S3's
 * limits, reading the UploadId of CreateMultipartUpload's answer, and
 * writing CompleteMultipartUpload's body. No I/O here (unit-tested). */
#ifndef ARCHEIO_MIRROR_S3_MULTIPART_H
#define ARCHEIO_MIRROR_S3_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct s3_part {
	char *etag;	   /* as the part's PUT answered it, quotes included */
	char checksum[48]; /* base64 sha256 of the part, as sent */
};

/* The part size for a blob of size bytes (< 0: unknown): configured, or
 * larger (whole MiB) when the blob would need more than 10,000 parts. 0 when
 * the blob is larger than S3's 5 TiB object limit. */
uint64_t s3_part_size_for(int64_t size, uint64_t configured);
/* Copies <UploadId>...</UploadId> of xml into a heap string; NULL when
 * missing, empty or not plain text. */
char *s3_parse_upload_id(const char *xml, size_t len);
/* <CompleteMultipartUpload> with every part's number, ETag and
 * ChecksumSHA256; heap, NULL on allocation failure. */
char *s3_complete_body(const struct s3_part *parts, size_t count);

#endif
