/* The publication stamps provider files carry: AWS "createDate", GCP
 * "creationTime" (both UTC times, in two spellings) and Azure's
 * "changeNumber" (a version number). A missing or malformed stamp is not an
 * error: the file's ranges are what matters; its age then comes from its
 * modification time. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_tape.h"
#include "ranges_internal.h"

/* n decimal digits at s; false when one is not a digit. */
static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Only digits after the '.' of a fraction, up to the end. */
static bool fraction_ok(const char *s)
{
	if (*s == '\0')
		return true;
	if (*s++ != '.' || *s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool ranges_parse_utc(const char *text, char date_sep, char between, char time_sep,
		      int64_t *seconds)
{
	/* YYYY-MM-DD?hh:mm:ss: separators at fixed places. */
	static const int at[] = {4, 7, 10, 13, 16};
	const char seps[] = {date_sep, date_sep, between, time_sep, time_sep};
	int year, mon, day, hour, min, sec;
	if (strnlen(text, 19) < 19)
		return false;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		if (text[at[i]] != seps[i])
			return false;
	if (!digits(text, 4, &year) || !digits(text + 5, 2, &mon) || !digits(text + 8, 2, &day) ||
	    !digits(text + 11, 2, &hour) || !digits(text + 14, 2, &min) ||
	    !digits(text + 17, 2, &sec) || !fraction_ok(text + 19))
		return false;
	struct tm tm = {.tm_year = year - 1900,
			.tm_mon = mon - 1,
			.tm_mday = day,
			.tm_hour = hour,
			.tm_min = min,
			.tm_sec = sec};
	time_t t = timegm(&tm);
	/* timegm() normalises (Feb 30 -> Mar 2): an impossible date comes back
	 * different. */
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != year - 1900 ||
	    back.tm_mon != mon - 1 || back.tm_mday != day || back.tm_hour != hour ||
	    back.tm_min != min || back.tm_sec != sec)
		return false;
	*seconds = (int64_t)t;
	return true;
}

/* A tape string as a C string for ranges_parse_utc(): on the stack, or on
 * the heap for a long one (a fraction may have any number of digits). */
static bool parse_stamp_time(const struct json_tape *tape, uint32_t index, char date_sep,
			     char between, char time_sep, int64_t *seconds)
{
	const char *s;
	size_t len;
	if (!json_tape_string(tape, index, &s, &len))
		return false;
	char small[64];
	char *text = len < sizeof(small) ? small : malloc(len + 1);
	if (text == NULL)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	bool ok = ranges_parse_utc(text, date_sep, between, time_sep, seconds);
	if (text != small)
		free(text);
	return ok;
}

void ranges_json_stamp(const struct json_tape *tape, enum ranges_format format,
		       struct ranges_stamp *stamp)
{
	int64_t t;
	long long number;
	switch (format) {
	case RANGES_FORMAT_AWS:
		if (parse_stamp_time(tape, json_tape_get(tape, 0, "createDate"), '-', '-', '-', &t))
			stamp->published = t;
		break;
	case RANGES_FORMAT_GCP:
		if (parse_stamp_time(tape, json_tape_get(tape, 0, "creationTime"), '-', 'T', ':',
				     &t))
			stamp->published = t;
		break;
	case RANGES_FORMAT_AZURE:
		if (json_tape_integer(tape, json_tape_get(tape, 0, "changeNumber"), &number) &&
		    number >= 0)
			stamp->change_number = number;
		break;
	default:
		break;
	}
}
