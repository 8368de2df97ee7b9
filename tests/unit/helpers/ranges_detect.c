/* Format detection for the ranges tests, from the parser's own pieces. */
#include "ranges_detect.h"

#include "geo/json_tape.h"

static enum ranges_format detect_json(const char *buf, size_t len)
{
	struct json_tape tape;
	struct jt_error error;
	if (json_tape_parse(&tape, buf, len, &error) != 0)
		return RANGES_FORMAT_UNKNOWN;
	enum ranges_format format = ranges_json_format(&tape);
	json_tape_free(&tape);
	return format;
}

/* Text when the whole buffer parses as the operator format. */
static enum ranges_format detect_text(const char *buf, size_t len)
{
	struct range_set scratch;
	struct region_table regions;
	range_set_init(&scratch);
	region_table_init(&regions);
	int rc = ranges_parse_text(&scratch, &regions, "", buf, len, NULL, 0);
	range_set_free(&scratch);
	region_table_free(&regions);
	return rc == 0 ? RANGES_FORMAT_TEXT : RANGES_FORMAT_UNKNOWN;
}

enum ranges_format ranges_detect_format(const char *buf, size_t len)
{
	size_t off = ranges_skip_bom(buf, len);
	if (ranges_looks_like_json(buf + off, len - off))
		return detect_json(buf + off, len - off);
	return detect_text(buf + off, len - off);
}

const char *ranges_format_name(enum ranges_format format)
{
	switch (format) {
	case RANGES_FORMAT_AWS:
		return "aws";
	case RANGES_FORMAT_GCP:
		return "gcp";
	case RANGES_FORMAT_AZURE:
		return "azure";
	case RANGES_FORMAT_TEXT:
		return "text";
	case RANGES_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}
