#include "archeio/core/log.h"
#include "archeio/core/json_escape.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

bool log_format_parse(const char *text, enum log_format *out)
{
	if (strcmp(text, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(text, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return false;
	return true;
}

static void format_time(char *buf, size_t len)
{
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", now.tv_nsec / 1000000);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			return true;
	return false;
}

/* Text values with spaces, quotes or control characters are quoted (and
 * escaped) so a record stays one parseable line. */
static void text_value(char *dst, size_t cap, const char *src)
{
	if (strpbrk(src, " \"=") == NULL && !has_control(src) && *src) {
		snprintf(dst, cap, "%s", src);
		return;
	}
	char esc[1024];
	json_escape(esc, sizeof(esc), src);
	size_t n = strlen(esc);
	if (cap < 3)
		return;
	if (n > cap - 3)
		n = cap - 3;
	dst[0] = '"';
	memcpy(dst + 1, esc, n);
	dst[n + 1] = '"';
	dst[n + 2] = '\0';
}

void log_fields(const struct logger *log, enum log_level level, const char *msg,
		const char *const *keys, const char *const *values, int count)
{
	if (!log_enabled(log, level))
		return;
	char line[4096], ts[40], esc[1024];
	size_t o = 0;
	format_time(ts, sizeof(ts));
	if (log->format == LOG_FORMAT_JSON) {
		json_escape(esc, sizeof(esc), msg);
		o += (size_t)snprintf(line, sizeof(line),
				      "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"", ts,
				      level_names[level], esc);
		for (int i = 0; i < count && o < sizeof(line); i++) {
			json_escape(esc, sizeof(esc), values[i] ? values[i] : "-");
			o += (size_t)snprintf(line + o, sizeof(line) - o, ",\"%s\":\"%s\"", keys[i],
					      esc);
		}
		if (o < sizeof(line))
			snprintf(line + o, sizeof(line) - o, "}");
	} else {
		o += (size_t)snprintf(line, sizeof(line), "%s %s %s", ts, level_names[level], msg);
		for (int i = 0; i < count && o < sizeof(line); i++) {
			text_value(esc, sizeof(esc), values[i] ? values[i] : "-");
			o += (size_t)snprintf(line + o, sizeof(line) - o, " %s=%s", keys[i], esc);
		}
	}
	/* One fprintf per line: stdio locks the stream, so lines from workers never interleave. */
	fprintf(log->out ? log->out : stderr, "%s\n", line);
	fflush(log->out ? log->out : stderr);
}

void log_msg(const struct logger *log, enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(log, level))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fields(log, level, msg, NULL, NULL, 0);
}
