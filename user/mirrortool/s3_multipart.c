#include "s3_multipart.h"
#include "archeio/mirrortool/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t s3_part_size_for(int64_t size, uint64_t configured)
{
	if (size < 0)
		return configured;
	if ((uint64_t)size > MIRROR_S3_MAX_OBJECT_SIZE)
		return 0;
	uint64_t needed = ((uint64_t)size + MIRROR_S3_MAX_PARTS - 1) / MIRROR_S3_MAX_PARTS;
	if (needed <= configured)
		return configured;
	const uint64_t mib = 1ULL << 20;
	return (needed + mib - 1) / mib * mib;
}

char *s3_parse_upload_id(const char *xml, size_t len)
{
	static const char open_tag[] = "<UploadId>", close_tag[] = "</UploadId>";
	char *text = strndup(xml, len);
	char *start = text ? strstr(text, open_tag) : NULL;
	char *end = start ? strstr(start, close_tag) : NULL;
	char *id = NULL;
	if (end) {
		start += sizeof(open_tag) - 1;
		size_t n = (size_t)(end - start);
		bool plain = n > 0 && strcspn(start, "<&\" \t\r\n") >= n;
		id = plain ? strndup(start, n) : NULL;
	}
	free(text);
	return id;
}

/* ETags are quoted hex; anything XML would misread is escaped anyway. */
static size_t append_escaped(char *out, const char *s)
{
	size_t o = 0;
	for (; *s; s++) {
		const char *rep = *s == '&'   ? "&amp;"
				  : *s == '<' ? "&lt;"
				  : *s == '>' ? "&gt;"
					      : NULL;
		size_t n = rep ? strlen(rep) : 1;
		if (out)
			memcpy(out + o, rep ? rep : s, n);
		o += n;
	}
	return o;
}

char *s3_complete_body(const struct s3_part *parts, size_t count)
{
	static const char head[] = "<CompleteMultipartUpload>";
	static const char tail[] = "</CompleteMultipartUpload>";
	size_t cap = sizeof(head) + sizeof(tail);
	for (size_t i = 0; i < count; i++)
		cap += 160 + append_escaped(NULL, parts[i].etag) + strlen(parts[i].checksum);
	char *body = malloc(cap);
	if (!body)
		return NULL;
	size_t o = (size_t)snprintf(body, cap, "%s", head);
	for (size_t i = 0; i < count; i++) {
		o += (size_t)snprintf(body + o, cap - o, "<Part><PartNumber>%zu</PartNumber><ETag>",
				      i + 1);
		o += append_escaped(body + o, parts[i].etag);
		o += (size_t)snprintf(body + o, cap - o,
				      "</ETag><ChecksumSHA256>%s</ChecksumSHA256></Part>",
				      parts[i].checksum);
	}
	snprintf(body + o, cap - o, "%s", tail);
	return body;
}
