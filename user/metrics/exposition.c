/* Prometheus text exposition format 0.0.4 (see exposition.h). */
#include "archeio/metrics/exposition.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define LABELS_MAX 8

static bool name_char(char c, bool first, bool colon_ok)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon_ok && c == ':') || (!first && c >= '0' && c <= '9');
}

static bool valid(const char *name, bool colon_ok)
{
	if (!name || !*name)
		return false;
	for (size_t i = 0; name[i]; i++)
		if (!name_char(name[i], i == 0, colon_ok))
			return false;
	return true;
}

bool metrics_name_valid(const char *name)
{
	return valid(name, true);
}

bool metrics_label_name_valid(const char *name)
{
	return valid(name, false) && strncmp(name, "__", 2) != 0;
}

static void put(struct metrics_text *t, const char *s, size_t n)
{
	if (!t->failed && !buf_append(t->out, s, n, 0))
		t->failed = true;
}

static void put_str(struct metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* HELP text escapes backslash and newline; label values also the quote. */
static void put_escaped(struct metrics_text *t, const char *s, bool quote)
{
	const char *special = quote ? "\\\"\n" : "\\\n";
	while (s && *s) {
		size_t run = strcspn(s, special);
		put(t, s, run);
		s += run;
		if (!*s)
			return;
		put_str(t, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\");
		s++;
	}
}

void metrics_family(struct metrics_text *t, const char *name, enum metrics_type type,
		    const char *help)
{
	static const char *const types[] = {
	    [METRICS_COUNTER] = "counter",
	    [METRICS_GAUGE] = "gauge",
	    [METRICS_HISTOGRAM] = "histogram",
	};
	if (!metrics_name_valid(name)) {
		t->failed = true;
		return;
	}
	put_str(t, "# HELP ");
	put_str(t, name);
	put_str(t, " ");
	put_escaped(t, help, false);
	put_str(t, "\n# TYPE ");
	put_str(t, name);
	put_str(t, " ");
	put_str(t, types[type]);
	put_str(t, "\n");
}

/* name{a="x",b="y"} and the space before the value. */
static void put_series(struct metrics_text *t, const char *name, const struct metrics_label *labels,
		       size_t label_count)
{
	if (!metrics_name_valid(name) || label_count > LABELS_MAX) {
		t->failed = true;
		return;
	}
	put_str(t, name);
	for (size_t i = 0; i < label_count; i++) {
		if (!metrics_label_name_valid(labels[i].name)) {
			t->failed = true;
			return;
		}
		put_str(t, i == 0 ? "{" : ",");
		put_str(t, labels[i].name);
		put_str(t, "=\"");
		put_escaped(t, labels[i].value, true);
		put_str(t, "\"");
	}
	put_str(t, label_count ? "} " : " ");
}

void metrics_sample(struct metrics_text *t, const char *name, const struct metrics_label *labels,
		    size_t label_count, uint64_t value)
{
	char number[24];
	put_series(t, name, labels, label_count);
	snprintf(number, sizeof(number), "%" PRIu64 "\n", value);
	put_str(t, number);
}

void metrics_sample_signed(struct metrics_text *t, const char *name,
			   const struct metrics_label *labels, size_t label_count, int64_t value)
{
	char number[24];
	put_series(t, name, labels, label_count);
	snprintf(number, sizeof(number), "%" PRId64 "\n", value);
	put_str(t, number);
}

/* Seconds with up to six decimals, trailing zeros dropped: exact, unlike a
 * double printed with %g. */
static void format_micros(uint64_t micros, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%" PRIu64 ".%06" PRIu64, micros / 1000000, micros % 1000000);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
}

void metrics_sample_micros(struct metrics_text *t, const char *name,
			   const struct metrics_label *labels, size_t label_count, uint64_t micros)
{
	char number[32];
	put_series(t, name, labels, label_count);
	format_micros(micros, number, sizeof(number));
	put_str(t, number);
	put_str(t, "\n");
}

/* name + suffix, or fails the text when it does not fit. */
static const char *suffixed(struct metrics_text *t, char *out, size_t cap, const char *name,
			    const char *suffix)
{
	if ((size_t)snprintf(out, cap, "%s%s", name, suffix) >= cap)
		t->failed = true;
	return out;
}

void metrics_histogram_samples(struct metrics_text *t, const char *name,
			       const struct metrics_label *labels, size_t label_count,
			       const struct metrics_histogram *h)
{
	char sample[128], le[32];
	struct metrics_label all[LABELS_MAX + 1];
	if (label_count >= LABELS_MAX) {
		t->failed = true;
		return;
	}
	if (label_count)
		memcpy(all, labels, label_count * sizeof(*labels));
	all[label_count] = (struct metrics_label){"le", le};
	uint64_t cumulative = 0;
	suffixed(t, sample, sizeof(sample), name, "_bucket");
	for (size_t i = 0; i <= h->bound_count; i++) {
		cumulative += h->buckets[i];
		if (i < h->bound_count)
			format_micros(h->bounds_us[i], le, sizeof(le));
		else
			snprintf(le, sizeof(le), "+Inf");
		metrics_sample(t, sample, all, label_count + 1, cumulative);
	}
	metrics_sample_micros(t, suffixed(t, sample, sizeof(sample), name, "_sum"), labels,
			      label_count, h->sum_us);
	metrics_sample(t, suffixed(t, sample, sizeof(sample), name, "_count"), labels, label_count,
		       cumulative);
}
