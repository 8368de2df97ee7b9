/* The range set and format dispatch; the final sort is in ranges_sort.c. */
#include "archeio/geo/ranges.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "json_tape.h"
#include "ranges_internal.h"

#define QUOTE_MAX 64

void range_set_init(struct range_set *set)
{
	set->entries = NULL;
	set->count = 0;
	set->cap = 0;
	set->warnings.total = 0;
	set->files = NULL;
	set->file_count = 0;
}

size_t ranges_warnings_kept(const struct ranges_warnings *w)
{
	return w->total < RANGES_WARNINGS_KEPT ? w->total : RANGES_WARNINGS_KEPT;
}

void range_set_free(struct range_set *set)
{
	free(set->entries);
	for (size_t i = 0; i < set->file_count; i++)
		free(set->files[i].path);
	free(set->files);
	range_set_init(set);
}

int range_set_add(struct range_set *set, const struct ip_prefix *prefix, uint32_t region_id)
{
	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		if (cap > SIZE_MAX / sizeof(struct range_entry))
			return -1;
		struct range_entry *entries = realloc(set->entries, cap * sizeof(*entries));
		if (entries == NULL)
			return -1;
		set->entries = entries;
		set->cap = cap;
	}
	struct range_entry *entry = &set->entries[set->count++];
	memset(entry, 0, sizeof(*entry));
	entry->prefix = *prefix;
	entry->region_id = region_id;
	return 0;
}

void ranges_error(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void ranges_warn(struct ranges_warnings *w, const char *fmt, ...)
{
	if (w->total < RANGES_WARNINGS_KEPT) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->text[w->total], sizeof(w->text[w->total]), fmt, ap);
		va_end(ap);
	}
	w->total++;
}

bool ranges_warning_kept_next(const struct ranges_warnings *w)
{
	return w->total < RANGES_WARNINGS_KEPT;
}

void ranges_quote(char *dst, size_t cap, const char *src, size_t len)
{
	if (cap == 0)
		return;
	size_t o = 0;
	size_t shown = len > QUOTE_MAX ? QUOTE_MAX : len;
	for (size_t i = 0; i < shown && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	if (shown < len && o + 4 < cap) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

bool ranges_valid_cloud(const char *s, size_t len)
{
	if (len == 0 || len >= REGION_CLOUD_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool ranges_valid_region(const char *s, size_t len)
{
	if (len == 0 || len >= REGION_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

size_t ranges_skip_bom(const char *buf, size_t len)
{
	return (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) ? 3 : 0;
}

bool ranges_looks_like_json(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		return c == '{' || c == '[';
	}
	return false;
}

static int parse_json_buffer(struct range_set *set, struct region_table *regions, const char *name,
			     const char *buf, size_t len, struct ranges_stamp *stamp, char *err,
			     size_t errlen)
{
	struct json_tape tape;
	struct jt_error error;
	if (json_tape_parse(&tape, buf, len, &error) != 0) {
		/* Out of memory is not a fault of the file: saying "invalid JSON"
		 * would send the operator to a file that is fine. */
		if (strcmp(error.text, "out of memory") == 0)
			ranges_error(err, errlen, "%s: out of memory reading JSON", name);
		else
			ranges_error(err, errlen, "%s:%d: invalid JSON at column %d: %s", name,
				     error.line, error.column, error.text);
		return -1;
	}
	enum ranges_format format = ranges_json_format(&tape);
	int rc = -1;
	if (format == RANGES_FORMAT_UNKNOWN)
		ranges_error(err, errlen,
			     "%s: JSON but not a known ranges format (want AWS ip-ranges.json, "
			     "GCP cloud.json or Azure service tags)",
			     name);
	else
		rc = ranges_parse_json(
		    set, regions, &(struct ranges_source){.name = name, .buf = buf, .len = len},
		    &tape, format, err, errlen);
	if (rc == 0 && stamp) {
		stamp->format = format;
		ranges_json_stamp(&tape, format, stamp);
	}
	json_tape_free(&tape);
	return rc;
}

int ranges_parse_buffer_stamped(struct range_set *set, struct region_table *regions,
				const char *name, const char *buf, size_t len,
				struct ranges_stamp *stamp, char *err, size_t errlen)
{
	size_t before = set->count;
	size_t warnings_before = set->warnings.total;
	size_t off = ranges_skip_bom(buf, len);
	int rc;
	if (stamp)
		*stamp = (struct ranges_stamp){.format = RANGES_FORMAT_TEXT, .change_number = -1};
	if (ranges_looks_like_json(buf + off, len - off))
		rc =
		    parse_json_buffer(set, regions, name, buf + off, len - off, stamp, err, errlen);
	else
		rc = ranges_parse_text(set, regions, name, buf + off, len - off, err, errlen);
	if (rc != 0) {
		set->count = before;
		set->warnings.total = warnings_before;
	}
	return rc;
}

int ranges_parse_buffer(struct range_set *set, struct region_table *regions, const char *name,
			const char *buf, size_t len, char *err, size_t errlen)
{
	return ranges_parse_buffer_stamped(set, regions, name, buf, len, NULL, err, errlen);
}

bool ranges_data_time(const struct range_set *set, int64_t *when, bool *published)
{
	int64_t newest_published = 0, newest_modified = 0;
	for (size_t i = 0; i < set->file_count; i++) {
		const struct ranges_file *f = &set->files[i];
		if (f->published > newest_published)
			newest_published = f->published;
		if (i == 0 || f->modified > newest_modified)
			newest_modified = f->modified;
	}
	if (set->file_count == 0)
		return false;
	/* A stamp the provider wrote says when the data was made; a file's
	 * mtime only when it was copied, so stamps win whenever there is one. */
	*published = newest_published > 0;
	*when = *published ? newest_published : newest_modified;
	return true;
}

size_t ranges_count_by_cloud(const struct range_set *set, const struct region_table *regions,
			     struct ranges_cloud_count *counts, size_t max)
{
	size_t used = 0;
	for (size_t i = 0; i < set->count; i++) {
		const struct range_entry *entry = &set->entries[i];
		const struct region_name *name = region_table_get(regions, entry->region_id);
		const char *cloud = name ? name->cloud : "?";
		size_t k = 0;
		while (k < used && strcmp(counts[k].cloud, cloud) != 0)
			k++;
		if (k == used) {
			if (used == max)
				continue;
			memset(&counts[k], 0, sizeof(counts[k]));
			snprintf(counts[k].cloud, sizeof(counts[k].cloud), "%s", cloud);
			used++;
		}
		if (entry->prefix.addr.family == AF_INET6)
			counts[k].v6++;
		else
			counts[k].v4++;
	}
	return used;
}
