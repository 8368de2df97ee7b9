/* Table-driven command-line options, shared by both binaries (modelled on
 * xdp-tools' lib/util/params.h). A binary describes each option once, as a
 * row: flag, environment variable, kind of value, bounds, default, help.
 * From the rows come the getopt_long array, the environment reading, the
 * bounds checks with their error messages and the --help text, so adding an
 * option is adding a row (and the struct field it fills).
 *
 * Values land in the caller's struct at the row's offset. Precedence, for
 * every row: default_value, then the environment, then flags. A repeatable
 * row (a list) takes a separated list from the environment; its first flag
 * replaces that list instead of adding to it. */
#ifndef ARCHEIO_CORE_OPTIONS_H
#define ARCHEIO_CORE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What the row's field is; the generic code stores values of these kinds
 * itself unless the row has a `set` callback. */
enum option_kind {
	OPTION_SWITCH,	    /* bool; the flag takes no value and sets it */
	OPTION_STRING,	    /* char *, replaced by every occurrence */
	OPTION_STRING_LIST, /* char ** with a size_t count at count_offset; repeatable */
	OPTION_UINT,	    /* unsigned integer of `size` bytes, min..max */
	OPTION_CHOICE,	    /* an enum (int-sized): one of `choices` */
	OPTION_CUSTOM,	    /* owned by the row's set/clear callbacks */
	OPTION_CUSTOM_LIST, /* as OPTION_CUSTOM, but repeatable: set appends */
};

struct option_spec;

/* Refuses a bad value with one line in err; source is "--flag" or the
 * environment variable's name, for the message. */
typedef bool (*option_check_fn)(const char *value, const char *source, char *err, size_t errlen);
/* Parses value into target (the row's field is at spec->offset); false with
 * one line in err. */
typedef bool (*option_set_fn)(void *target, const struct option_spec *spec, const char *value,
			      const char *source, char *err, size_t errlen);
/* Releases what set stored and leaves the field(s) empty. */
typedef void (*option_clear_fn)(void *target, const struct option_spec *spec);
typedef const char *(*option_getenv_fn)(const char *name);

struct option_choice {
	const char *name;
	int value;
};

struct option_spec {
	const char *flag;    /* long name without "--"; NULL: environment only */
	const char *env;     /* environment variable; NULL: none */
	const char *metavar; /* "URL", "N" in --help; choices are listed instead */
	enum option_kind kind;
	size_t offset; /* of the field in the target struct (OPTION_FIELD) */
	size_t size;
	size_t count_offset;		     /* OPTION_STRING_LIST: the size_t count */
	unsigned long min, max;		     /* OPTION_UINT */
	const struct option_choice *choices; /* OPTION_CHOICE; ends with {NULL} */
	const char *what;		     /* OPTION_CHOICE: "log level" in errors */
	char env_separator;		     /* repeatable rows: splits the environment */
	bool env_empty_is_value;	     /* "" from the environment is a value */
	option_check_fn check;		     /* optional, before the value is stored */
	option_set_fn set;		     /* replaces the generic store */
	option_clear_fn clear;		     /* needed by custom rows that allocate */
	const char *default_value;	     /* see options_parse */
	const char *help;		     /* one sentence; wrapped by --help */
	/* Non-NULL: the value is optional, given as --flag=VALUE; a bare
	 * --flag stands for this value (e.g. --verify, --verify=digest). */
	const char *implied_value;
};

/* The field of a row: OPTION_FIELD(struct config, upstream). */
#define OPTION_FIELD(type, member)                                                                 \
	.offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

static inline void *option_field(void *target, const struct option_spec *spec)
{
	return (char *)target + spec->offset;
}

enum options_result { OPTIONS_OK, OPTIONS_HELP, OPTIONS_ERROR };

/* Fills target (already zeroed or preset by the caller) from the rows'
 * defaults (strings stored as written, numbers and choices parsed, custom
 * rows through set), the environment (getenv_fn may be NULL: none) and argv (argv[0]
 * is the program or subcommand name). --help or -h gives OPTIONS_HELP. The
 * arguments that are not flags end up, in order, at argv[*first_arg..argc-1]
 * (getopt moves them there). On OPTIONS_ERROR err holds one line naming the
 * flag or variable and the bad value; what was stored stays for
 * options_free. */
enum options_result options_parse(const struct option_spec *specs, size_t count, void *target,
				  int argc, char **argv, option_getenv_fn getenv_fn, int *first_arg,
				  char *err, size_t errlen);
/* Frees every string, list and custom value the rows stored. */
void options_free(const struct option_spec *specs, size_t count, void *target);
/* One entry per row: "  --flag METAVAR   [ENV] help; repeatable; default X",
 * wrapped at 80 columns, and one for the built-in --help. */
void options_print_usage(const struct option_spec *specs, size_t count, FILE *out);
/* Checks a table for mistakes a compiler cannot see (duplicate flags, a
 * maximum that does not fit its field, a custom row without set, ...). */
bool options_table_valid(const struct option_spec *specs, size_t count, char *err, size_t errlen);

/* Decimal digits only (no sign, no spaces), min <= value <= max. */
bool options_parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out);
/* The --flag of a row, or its environment variable for environment-only rows. */
const char *option_name(const struct option_spec *spec);

#endif
