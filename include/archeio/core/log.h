/* One-line logs, text or JSON, to a FILE (stderr by default). A logger is a
 * value passed to whoever logs; pure modules never log, they return errors. */
#ifndef ARCHEIO_LOG_H
#define ARCHEIO_LOG_H

#include <stdbool.h>
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

/* A message with no fields. */
void log_msg(const struct logger *log, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A message with key/value string fields (keys[i] -> values[i]); NULL values
 * are written as "-". Text: `msg key=value ...`; JSON: one object. */
void log_fields(const struct logger *log, enum log_level level, const char *msg,
		const char *const *keys, const char *const *values, int count);

#endif
