/* One-line logs, text or JSON, to a FILE (stderr by default). A logger is a
 * value passed to whoever logs; pure modules never log, they return errors. */
#ifndef ARCHEIO_LOG_H
#define ARCHEIO_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

struct logger {
	enum log_level level;
	enum log_format format;
	FILE *out;
};

bool log_level_parse(const char *text, enum log_level *out);
bool log_format_parse(const char *text, enum log_format *out);
static inline bool log_enabled(const struct logger *log, enum log_level level)
{
	return level >= log->level;
}

/* One key/value of a record. Text is quoted where needed (text format) or a
 * JSON string, NULL written as "-"; a number is written bare in both formats,
 * so JSON readers get a number ("status":400). */
enum log_field_kind { LOG_FIELD_TEXT, LOG_FIELD_NUMBER };
struct log_field {
	const char *key;
	enum log_field_kind kind;
	const char *text;
	long long number;
};
#define LOG_TEXT(k, v) ((struct log_field){.key = (k), .kind = LOG_FIELD_TEXT, .text = (v)})
#define LOG_NUMBER(k, n)                                                                           \
	((struct log_field){.key = (k), .kind = LOG_FIELD_NUMBER, .number = (long long)(n)})

/* A message with fields, in order. Text: `msg key=value ...`; JSON: one
 * object with time, level, msg and the fields. */
void log_record(const struct logger *log, enum log_level level, const char *msg,
		const struct log_field *fields, size_t count);

/* A message with no fields. */
void log_msg(const struct logger *log, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* log_record() with text fields only (keys[i] -> values[i]). */
void log_fields(const struct logger *log, enum log_level level, const char *msg,
		const char *const *keys, const char *const *values, int count);

#endif
