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

/* One record as it is written: appends stop at the end of the buffer (a
 * record that long is cut, never spilled). */
struct log_line {
	char text[4096];
	size_t len;
};

static void line_append(struct log_line *line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line_append(struct log_line *line, const char *fmt, ...)
{
	size_t room = sizeof(line->text) - line->len;
	if (room <= 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line->text + line->len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		line->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void record_begin(struct log_line *line, const struct logger *log, enum log_level level,
			 const char *msg)
{
	char ts[40], esc[1024];
	format_time(ts, sizeof(ts));
	line->len = 0;
	if (log->format == LOG_FORMAT_JSON) {
		json_escape(esc, sizeof(esc), msg);
		line_append(line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"", ts,
			    level_names[level], esc);
	} else {
		line_append(line, "%s %s %s", ts, level_names[level], msg);
	}
}

static void record_field(struct log_line *line, enum log_format format,
			 const struct log_field *field)
{
	bool json = format == LOG_FORMAT_JSON;
	if (field->kind == LOG_FIELD_NUMBER) {
		line_append(line, json ? ",\"%s\":%lld" : " %s=%lld", field->key, field->number);
		return;
	}
	char esc[1024];
	const char *text = field->text ? field->text : "-";
	if (json) {
		json_escape(esc, sizeof(esc), text);
		line_append(line, ",\"%s\":\"%s\"", field->key, esc);
	} else {
		text_value(esc, sizeof(esc), text);
		line_append(line, " %s=%s", field->key, esc);
	}
}

static void record_end(struct log_line *line, const struct logger *log)
{
	if (log->format == LOG_FORMAT_JSON)
		line_append(line, "}");
	FILE *out = log->out ? log->out : stderr;
	/* One fprintf per line: stdio locks the stream, so lines from workers never interleave. */
	fprintf(out, "%s\n", line->text);
	fflush(out);
}

void log_record(const struct logger *log, enum log_level level, const char *msg,
		const struct log_field *fields, size_t count)
{
	if (!log_enabled(log, level))
		return;
	struct log_line line;
	record_begin(&line, log, level, msg);
	for (size_t i = 0; i < count; i++)
		record_field(&line, log->format, &fields[i]);
	record_end(&line, log);
}

void log_fields(const struct logger *log, enum log_level level, const char *msg,
		const char *const *keys, const char *const *values, int count)
{
	if (!log_enabled(log, level))
		return;
	struct log_line line;
	record_begin(&line, log, level, msg);
	for (int i = 0; i < count; i++)
		record_field(&line, log->format, &LOG_TEXT(keys[i], values[i]));
	record_end(&line, log);
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
