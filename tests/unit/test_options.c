/* The generic option table: precedence of default, environment and flag;
 * each kind of row; lists; errors naming flag or variable and value; the
 * --help text; the table checks. On a toy table, so that no binary's
 * options are needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/options.h"

enum colour { COLOUR_RED = 3, COLOUR_GREEN = 7 };

struct toy {
	bool verbose;
	char *name;
	char **paths;
	size_t path_count;
	uint16_t port;
	uint8_t level;
	uint64_t big;
	enum colour colour;
	char *note;
	struct {
		int values[8];
		size_t count;
	} numbers;
};

static bool check_no_x(const char *value, const char *source, char *err, size_t errlen)
{
	if (!strchr(value, 'x'))
		return true;
	snprintf(err, errlen, "%s: no x allowed in %s", source, value);
	return false;
}

/* A custom list: single digits, appended. */
static bool add_digit(void *target, const struct option_spec *spec, const char *value,
		      const char *source, char *err, size_t errlen)
{
	int *values = option_field(target, spec);
	size_t *count = &((struct toy *)target)->numbers.count;
	if (strlen(value) != 1 || value[0] < '0' || value[0] > '9' || *count == 8) {
		snprintf(err, errlen, "%s: not a digit: %s", source, value);
		return false;
	}
	values[(*count)++] = value[0] - '0';
	return true;
}

static void clear_digits(void *target, const struct option_spec *spec)
{
	(void)spec;
	((struct toy *)target)->numbers.count = 0;
}

static const struct option_choice colours[] = {
    {"red", COLOUR_RED},
    {"green", COLOUR_GREEN},
    {NULL, 0},
};

#define FIELD(member) OPTION_FIELD(struct toy, member)

static const struct option_spec toy_table[] = {
    {.flag = "verbose", .kind = OPTION_SWITCH, FIELD(verbose), .help = "say more"},
    {.flag = "name",
     .env = "TOY_NAME",
     .metavar = "NAME",
     .kind = OPTION_STRING,
     FIELD(name),
     .default_value = "anon/",
     .env_empty_is_value = true,
     .help = "who"},
    {.flag = "path",
     .env = "TOY_PATHS",
     .env_separator = ':',
     .metavar = "PATH",
     .kind = OPTION_STRING_LIST,
     FIELD(paths),
     .count_offset = offsetof(struct toy, path_count),
     .help = "where"},
    {.flag = "port",
     .env = "TOY_PORT",
     .metavar = "N",
     .kind = OPTION_UINT,
     FIELD(port),
     .min = 1,
     .max = 65535,
     .default_value = "80",
     .help = "which port"},
    {.env = "TOY_LEVEL", .kind = OPTION_UINT, FIELD(level), .max = 9, .help = "how loud"},
    {.flag = "big",
     .metavar = "N",
     .kind = OPTION_UINT,
     FIELD(big),
     .max = 4000000000ul,
     .help = "a long number"},
    {.flag = "colour",
     .env = "TOY_COLOUR",
     .kind = OPTION_CHOICE,
     FIELD(colour),
     .choices = colours,
     .what = "colour",
     .default_value = "red",
     .help = "which colour"},
    {.flag = "note",
     .metavar = "TEXT",
     .kind = OPTION_STRING,
     FIELD(note),
     .check = check_no_x,
     .help = "a remark that goes on and on, long enough to need more than one line of the "
	     "help text"},
    {.flag = "digit",
     .env = "TOY_DIGITS",
     .env_separator = ',',
     .metavar = "D",
     .kind = OPTION_CUSTOM_LIST,
     FIELD(numbers.values),
     .set = add_digit,
     .clear = clear_digits,
     .help = "single digits"},
};

#define TOY_COUNT (sizeof(toy_table) / sizeof(toy_table[0]))

/* The fake environment of the current test (test-only state). */
static const char *const *fake_env;

static const char *env_lookup(const char *name)
{
	for (const char *const *e = fake_env; e && *e; e += 2)
		if (strcmp(e[0], name) == 0)
			return e[1];
	return NULL;
}

static enum options_result parse_toy(struct toy *toy, const char *const *env, int argc,
				     const char **argv, int *first_arg, char *err, size_t errlen)
{
	memset(toy, 0, sizeof(*toy));
	fake_env = env;
	return options_parse(toy_table, TOY_COUNT, toy, argc, (char **)argv, env_lookup, first_arg,
			     err, errlen);
}

#define ARGC(...) ((int)(sizeof((const char *[]){"toy", __VA_ARGS__}) / sizeof(const char *)))
#define PARSE(toy, env, err, ...)                                                                  \
	parse_toy(toy, env, ARGC(__VA_ARGS__), (const char *[]){"toy", __VA_ARGS__, NULL},         \
		  &first_arg, err, sizeof(err))

static void defaults_then_environment_then_flags(void **state)
{
	(void)state;
	struct toy toy;
	char err[256];
	int first_arg;
	const char *argv[] = {"toy", NULL};
	assert_int_equal(parse_toy(&toy, NULL, 1, argv, &first_arg, err, sizeof(err)), OPTIONS_OK);
	assert_string_equal(toy.name, "anon/"); /* a default is stored as written */
	assert_int_equal(toy.port, 80);
	assert_int_equal(toy.colour, COLOUR_RED);
	assert_false(toy.verbose);
	assert_null(toy.note);
	assert_int_equal(first_arg, 1);
	options_free(toy_table, TOY_COUNT, &toy);

	const char *env[] = {"TOY_PORT", "81", "TOY_COLOUR", "green", "TOY_LEVEL", "9", NULL};
	assert_int_equal(PARSE(&toy, env, err, "--verbose"), OPTIONS_OK);
	assert_int_equal(toy.port, 81);
	assert_int_equal(toy.colour, COLOUR_GREEN);
	assert_int_equal(toy.level, 9);
	assert_true(toy.verbose);
	options_free(toy_table, TOY_COUNT, &toy);

	assert_int_equal(
	    PARSE(&toy, env, err, "--port", "82", "--colour=red", "--big", "4000000000"),
	    OPTIONS_OK);
	assert_int_equal(toy.port, 82);
	assert_int_equal(toy.colour, COLOUR_RED);
	assert_true(toy.big == 4000000000ull);
	options_free(toy_table, TOY_COUNT, &toy);
}

static void empty_variables_are_unset_unless_the_row_says(void **state)
{
	(void)state;
	struct toy toy;
	char err[256];
	int first_arg;
	const char *env[] = {"TOY_PORT", "", "TOY_NAME", "", "TOY_PATHS", "", NULL};
	assert_int_equal(PARSE(&toy, env, err, "--verbose"), OPTIONS_OK);
	assert_int_equal(toy.port, 80);
	assert_string_equal(toy.name, "");
	assert_int_equal(toy.path_count, 0);
	options_free(toy_table, TOY_COUNT, &toy);
}

static void lists_from_environment_are_replaced_by_flags(void **state)
{
	(void)state;
	struct toy toy;
	char err[256];
	int first_arg;
	const char *env[] = {"TOY_PATHS", " a :: b: ", "TOY_DIGITS", "1, 2,,3", NULL};
	assert_int_equal(PARSE(&toy, env, err, "--verbose"), OPTIONS_OK);
	assert_int_equal(toy.path_count, 2);
	assert_string_equal(toy.paths[0], "a");
	assert_string_equal(toy.paths[1], "b");
	assert_int_equal(toy.numbers.count, 3);
	assert_int_equal(toy.numbers.values[2], 3);
	options_free(toy_table, TOY_COUNT, &toy);
	assert_null(toy.paths);
	assert_int_equal(toy.path_count, 0);

	assert_int_equal(PARSE(&toy, env, err, "--path", "x", "--digit", "7", "--path", "y:z"),
			 OPTIONS_OK);
	assert_int_equal(toy.path_count, 2);
	assert_string_equal(toy.paths[0], "x");
	assert_string_equal(toy.paths[1], "y:z"); /* a flag's value is never split */
	assert_int_equal(toy.numbers.count, 1);
	assert_int_equal(toy.numbers.values[0], 7);
	options_free(toy_table, TOY_COUNT, &toy);
}

static void arguments_that_are_not_flags_are_left_in_order(void **state)
{
	(void)state;
	struct toy toy;
	char err[256];
	int first_arg;
	const char *argv[] = {"toy", "one", "--verbose", "two", "--port", "90", "three", NULL};
	assert_int_equal(parse_toy(&toy, NULL, 7, argv, &first_arg, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(first_arg, 4);
	assert_string_equal(argv[4], "one");
	assert_string_equal(argv[5], "two");
	assert_string_equal(argv[6], "three");
	assert_int_equal(toy.port, 90);
	options_free(toy_table, TOY_COUNT, &toy);
}

static void help_is_built_in(void **state)
{
	(void)state;
	struct toy toy;
	char err[256];
	int first_arg;
	assert_int_equal(PARSE(&toy, NULL, err, "--port", "1", "--help"), OPTIONS_HELP);
	options_free(toy_table, TOY_COUNT, &toy);
	assert_int_equal(PARSE(&toy, NULL, err, "-h"), OPTIONS_HELP);
	options_free(toy_table, TOY_COUNT, &toy);
}

static void expect_error(const char *const *env, const char *flag, const char *value,
			 const char *message)
{
	struct toy toy;
	char err[256] = "";
	int first_arg;
	const char *argv[] = {"toy", flag, value, NULL};
	int argc = !flag ? 1 : !value ? 2 : 3;
	assert_int_equal(parse_toy(&toy, env, argc, argv, &first_arg, err, sizeof(err)),
			 OPTIONS_ERROR);
	assert_string_equal(err, message);
	options_free(toy_table, TOY_COUNT, &toy);
}

static void bad_values_name_their_source(void **state)
{
	(void)state;
	expect_error(NULL, "--port", "0", "--port: bad number 0 (want 1..65535)");
	expect_error(NULL, "--port", "65536", "--port: bad number 65536 (want 1..65535)");
	expect_error(NULL, "--port", "+5", "--port: bad number +5 (want 1..65535)");
	expect_error(NULL, "--port", "-5", "--port: bad number -5 (want 1..65535)");
	expect_error(NULL, "--port", "", "--port: bad number  (want 1..65535)");
	expect_error(NULL, "--port", "5x", "--port: bad number 5x (want 1..65535)");
	expect_error(NULL, "--big", "99999999999999999999999",
		     "--big: bad number 99999999999999999999999 (want 0..4000000000)");
	expect_error(NULL, "--colour", "blue", "--colour: bad colour blue (red|green)");
	expect_error(NULL, "--note", "xyz", "--note: no x allowed in xyz");
	expect_error(NULL, "--digit", "12", "--digit: not a digit: 12");
	expect_error(NULL, "--no-such", NULL, "unknown flag --no-such");
	expect_error(NULL, "--port", NULL, "flag --port needs a value");
	const char *level[] = {"TOY_LEVEL", "10", NULL};
	expect_error(level, NULL, NULL, "TOY_LEVEL: bad number 10 (want 0..9)");
	const char *colour[] = {"TOY_COLOUR", "pink", NULL};
	expect_error(colour, NULL, NULL, "TOY_COLOUR: bad colour pink (red|green)");
	const char *digits[] = {"TOY_DIGITS", "1,22", NULL};
	expect_error(digits, NULL, NULL, "TOY_DIGITS: not a digit: 22");
}

static char *usage_of(const struct option_spec *table, size_t count)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	options_print_usage(table, count, out);
	fclose(out);
	return text;
}

static void usage_comes_from_the_table(void **state)
{
	(void)state;
	char *text = usage_of(toy_table, TOY_COUNT);
	static const char *const expected[] = {
	    "  --verbose                 say more\n",
	    "  --name NAME               [TOY_NAME] who; default anon/\n",
	    "  --path PATH               [TOY_PATHS, ':'-separated] where; repeatable\n",
	    "  --port N                  [TOY_PORT] which port; 1..65535; default 80\n",
	    "  [TOY_LEVEL]               how loud; 0..9\n",
	    "  --colour red|green        [TOY_COLOUR] which colour; default red\n",
	    "  --note TEXT               a remark that goes on and on, long enough to need\n"
	    "                            more than one line of the help text\n",
	    "  --help                    this text\n",
	};
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (!strstr(text, expected[i]))
			fail_msg("usage lacks \"%s\":\n%s", expected[i], text);
	for (const char *line = text; *line; line += strcspn(line, "\n") + 1)
		assert_true(strcspn(line, "\n") <= 80);
	free(text);
}

static void long_flags_get_their_own_line(void **state)
{
	(void)state;
	static const struct option_spec table[] = {
	    {.flag = "a-flag-name-far-too-long",
	     .metavar = "N",
	     .kind = OPTION_UINT,
	     FIELD(port),
	     .max = 9,
	     .help = "text"},
	};
	char *text = usage_of(table, 1);
	assert_non_null(strstr(text, "  --a-flag-name-far-too-long N\n"
				     "                            text; 0..9\n"));
	free(text);
}

static void expect_invalid(const struct option_spec *table, size_t count, const char *message)
{
	char err[256] = "";
	assert_false(options_table_valid(table, count, err, sizeof(err)));
	assert_string_equal(err, message);
}

static void table_mistakes_are_found(void **state)
{
	(void)state;
	char err[256];
	assert_true(options_table_valid(toy_table, TOY_COUNT, err, sizeof(err)));
	const struct option_spec twice[] = {
	    {.flag = "a", .kind = OPTION_SWITCH, FIELD(verbose), .help = "x"},
	    {.flag = "a", .kind = OPTION_SWITCH, FIELD(verbose), .help = "y"},
	};
	expect_invalid(twice, 2, "option a: flag or environment variable used twice");
	const struct option_spec too_big[] = {
	    {.flag = "p", .kind = OPTION_UINT, FIELD(port), .max = 65536, .help = "x"},
	};
	expect_invalid(too_big, 1, "option p: max does not fit the field");
	const struct option_spec no_set[] = {
	    {.flag = "c", .kind = OPTION_CUSTOM, FIELD(numbers), .help = "x"},
	};
	expect_invalid(no_set, 1, "option c: custom row without set");
	const struct option_spec help[] = {
	    {.flag = "help", .kind = OPTION_SWITCH, FIELD(verbose), .help = "x"},
	};
	expect_invalid(help, 1, "option help: --help is built in");
	const struct option_spec list_env[] = {
	    {.flag = "l",
	     .env = "L",
	     .kind = OPTION_STRING_LIST,
	     FIELD(paths),
	     .count_offset = offsetof(struct toy, path_count),
	     .help = "x"},
	};
	expect_invalid(list_env, 1, "option l: a list from the environment needs env_separator");
	const struct option_spec not_int[] = {
	    {.flag = "k",
	     .kind = OPTION_CHOICE,
	     FIELD(level),
	     .choices = colours,
	     .what = "k",
	     .help = "x"},
	};
	expect_invalid(not_int, 1, "option k: choice needs choices, what and an int-sized field");
}

/* Rows the table check refuses still fail cleanly if they reach the parser:
 * a number field of a size the store does not know, a custom row without
 * its callback. */
static void broken_rows_fail_with_an_internal_error(void **state)
{
	(void)state;
	struct odd {
		char three[3];
		int custom;
	} odd;
	const struct option_spec table[] = {
	    {.flag = "t",
	     .kind = OPTION_UINT,
	     .offset = offsetof(struct odd, three),
	     .size = 3,
	     .max = 10,
	     .help = "x"},
	    {.flag = "c",
	     .kind = OPTION_CUSTOM,
	     .offset = offsetof(struct odd, custom),
	     .size = sizeof(int),
	     .help = "x"},
	};
	char err[256] = "";
	int first_arg = 0;
	memset(&odd, 0, sizeof(odd));
	assert_int_equal(options_parse(table, 2, &odd, 3, (char *[]){"toy", "--t", "5", NULL}, NULL,
				       &first_arg, err, sizeof(err)),
			 OPTIONS_ERROR);
	assert_string_equal(err, "internal: --t has a field of 3 bytes");
	assert_int_equal(options_parse(table, 2, &odd, 3, (char *[]){"toy", "--c", "5", NULL}, NULL,
				       &first_arg, err, sizeof(err)),
			 OPTIONS_ERROR);
	assert_string_equal(err, "internal: --c has no set callback");
}

static void uint_parsing(void **state)
{
	(void)state;
	unsigned long v = 0;
	assert_true(options_parse_uint("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(options_parse_uint("10", 0, 10, &v));
	assert_false(options_parse_uint("11", 0, 10, &v));
	assert_false(options_parse_uint(NULL, 0, 10, &v));
	assert_false(options_parse_uint("", 0, 10, &v));
	assert_false(options_parse_uint("-0", 0, 10, &v));
	assert_false(options_parse_uint("1 ", 0, 10, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_then_environment_then_flags),
	    cmocka_unit_test(empty_variables_are_unset_unless_the_row_says),
	    cmocka_unit_test(lists_from_environment_are_replaced_by_flags),
	    cmocka_unit_test(arguments_that_are_not_flags_are_left_in_order),
	    cmocka_unit_test(help_is_built_in),
	    cmocka_unit_test(bad_values_name_their_source),
	    cmocka_unit_test(usage_comes_from_the_table),
	    cmocka_unit_test(long_flags_get_their_own_line),
	    cmocka_unit_test(table_mistakes_are_found),
	    cmocka_unit_test(broken_rows_fail_with_an_internal_error),
	    cmocka_unit_test(uint_parsing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
