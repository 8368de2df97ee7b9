/* Log lines: levels, text and JSON formats, escaping, fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/log.h"

static char *capture(enum log_level level, enum log_format format,
		     void (*emit)(const struct logger *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct logger log = {.level = level, .format = format, .out = out};
	emit(&log);
	fclose(out);
	return buf;
}

static void emit_plain(const struct logger *log)
{
	log_msg(log, LOG_INFO, "ranges loaded: %d prefixes", 42);
	log_msg(log, LOG_DEBUG, "not shown at info");
}

static void emit_fields(const struct logger *log)
{
	const char *keys[] = {"client", "path", "target"};
	const char *values[] = {"192.0.2.1", "/v2/a b\"c", NULL};
	log_fields(log, LOG_INFO, "request", keys, values, 3);
}

static void text_lines(void **state)
{
	(void)state;
	char *out = capture(LOG_INFO, LOG_FORMAT_TEXT, emit_plain);
	assert_non_null(strstr(out, " info ranges loaded: 42 prefixes\n"));
	assert_null(strstr(out, "not shown"));
	free(out);
	out = capture(LOG_INFO, LOG_FORMAT_TEXT, emit_fields);
	assert_non_null(
	    strstr(out, " info request client=192.0.2.1 path=\"/v2/a b\\\"c\" target=-\n"));
	free(out);
}

static void json_lines(void **state)
{
	(void)state;
	char *out = capture(LOG_DEBUG, LOG_FORMAT_JSON, emit_fields);
	assert_non_null(strstr(out,
			       "\"level\":\"info\",\"msg\":\"request\",\"client\":\"192.0.2.1\","
			       "\"path\":\"/v2/a b\\\"c\",\"target\":\"-\"}\n"));
	assert_int_equal(out[0], '{');
	free(out);
	out = capture(LOG_DEBUG, LOG_FORMAT_JSON, emit_plain);
	assert_non_null(strstr(out, "\"level\":\"debug\",\"msg\":\"not shown at info\"}"));
	free(out);
}

static void parse_names(void **state)
{
	(void)state;
	enum log_level level;
	enum log_format format;
	assert_true(log_level_parse("warn", &level));
	assert_int_equal(level, LOG_WARN);
	assert_false(log_level_parse("WARN", &level));
	assert_false(log_level_parse("verbose", &level));
	assert_true(log_format_parse("json", &format));
	assert_int_equal(format, LOG_FORMAT_JSON);
	assert_false(log_format_parse("yaml", &format));
}

static void emit_control_and_empty(const struct logger *log)
{
	const char *keys[] = {"path", "agent"};
	const char *values[] = {"/v2/a\nb\x01", ""};
	log_fields(log, LOG_WARN, "odd", keys, values, 2);
	log_fields(log, LOG_DEBUG, "below the level", keys, values, 2);
}

/* Control characters never break a line; an empty text value is quoted. */
static void control_characters_are_escaped(void **state)
{
	(void)state;
	char *out = capture(LOG_INFO, LOG_FORMAT_JSON, emit_control_and_empty);
	assert_non_null(
	    strstr(out, "\"msg\":\"odd\",\"path\":\"/v2/a\\u000ab\\u0001\",\"agent\":\"\"}\n"));
	assert_null(strstr(out, "below the level"));
	size_t lines = 0;
	for (const char *c = out; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, 1); /* one record, one line */
	free(out);
	out = capture(LOG_INFO, LOG_FORMAT_TEXT, emit_control_and_empty);
	assert_non_null(strstr(out, " warn odd path=\"/v2/a\\u000ab\\u0001\" agent=\"\"\n"));
	assert_null(strstr(out, "below the level"));
	free(out);
}

static void emit_record(const struct logger *log)
{
	const struct log_field fields[] = {
	    LOG_TEXT("client", "192.0.2.1"), LOG_NUMBER("status", 400),
	    LOG_NUMBER("offset", -12),	     LOG_NUMBER("bytes", 9007199254740993LL),
	    LOG_TEXT("target", NULL),	     LOG_TEXT("agent", "curl/8 (x; \"y\")"),
	};
	log_record(log, LOG_INFO, "request", fields, sizeof(fields) / sizeof(fields[0]));
	log_record(log, LOG_DEBUG, "below the level", fields, 1);
}

/* Numbers are JSON numbers, not strings; text writes them bare as before. */
static void numbers_are_numbers(void **state)
{
	(void)state;
	char *out = capture(LOG_INFO, LOG_FORMAT_JSON, emit_record);
	assert_non_null(strstr(out, "\"msg\":\"request\",\"client\":\"192.0.2.1\",\"status\":400,"
				    "\"offset\":-12,\"bytes\":9007199254740993,"
				    "\"target\":\"-\",\"agent\":\"curl/8 (x; \\\"y\\\")\"}\n"));
	assert_null(strstr(out, "below the level"));
	free(out);
	out = capture(LOG_INFO, LOG_FORMAT_TEXT, emit_record);
	assert_non_null(strstr(out, " info request client=192.0.2.1 status=400 offset=-12 "
				    "bytes=9007199254740993 target=- "
				    "agent=\"curl/8 (x; \\\"y\\\")\"\n"));
	free(out);
}

static void text_format_name(void **state)
{
	(void)state;
	enum log_format format = LOG_FORMAT_JSON;
	assert_true(log_format_parse("text", &format));
	assert_int_equal(format, LOG_FORMAT_TEXT);
	enum log_level level;
	assert_true(log_level_parse("debug", &level));
	assert_int_equal(level, LOG_DEBUG);
	assert_true(log_level_parse("error", &level));
	assert_int_equal(level, LOG_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(text_lines),	cmocka_unit_test(json_lines),
	    cmocka_unit_test(parse_names),	cmocka_unit_test(control_characters_are_escaped),
	    cmocka_unit_test(text_format_name), cmocka_unit_test(numbers_are_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
