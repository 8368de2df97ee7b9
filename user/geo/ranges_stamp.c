/* The publication stamps provider files carry: AWS "createDate", GCP
 * "creationTime" (both UTC times, in two spellings) and Azure's
 * "changeNumber" (a version number). A missing or malformed stamp is not an
 * error: the file's ranges are what matters; its age then comes from its
 * modification time. */
#include <string.h>
#include <time.h>

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

void ranges_json_stamp(const json_t *root, enum ranges_format format, struct ranges_stamp *stamp)
{
	const char *text;
	int64_t t;
	switch (format) {
	case RANGES_FORMAT_AWS:
		text = json_string_value(json_object_get(root, "createDate"));
		if (text && ranges_parse_utc(text, '-', '-', '-', &t))
			stamp->published = t;
		break;
	case RANGES_FORMAT_GCP:
		text = json_string_value(json_object_get(root, "creationTime"));
		if (text && ranges_parse_utc(text, '-', 'T', ':', &t))
			stamp->published = t;
		break;
	case RANGES_FORMAT_AZURE: {
		const json_t *number = json_object_get(root, "changeNumber");
		if (json_is_integer(number) && json_integer_value(number) >= 0)
			stamp->change_number = (long long)json_integer_value(number);
		break;
	}
	default:
		break;
	}
}
