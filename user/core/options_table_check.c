/* Sanity checks of an option table (see options.h): the mistakes a row can
 * make that the compiler does not catch, found by the unit tests rather
 * than by a user. */
#include "archeio/core/options.h"

#include <limits.h>
#include <string.h>

static unsigned long max_of_size(size_t size)
{
	return size >= sizeof(unsigned long) ? ULONG_MAX : (1ul << (size * CHAR_BIT)) - 1;
}

/* NULL when the row's field fits its kind, else what is wrong. */
static const char *kind_problem(const struct option_spec *spec)
{
	switch (spec->kind) {
	case OPTION_SWITCH:
		return spec->size != sizeof(bool) ? "switch field is not a bool" : NULL;
	case OPTION_STRING:
		return spec->size != sizeof(char *) ? "string field is not a char *" : NULL;
	case OPTION_STRING_LIST:
		return spec->size != sizeof(char **) || spec->count_offset == spec->offset
			   ? "string list needs a char ** field and a count_offset"
			   : NULL;
	case OPTION_UINT:
		return spec->min > spec->max		     ? "min above max"
		       : spec->max > max_of_size(spec->size) ? "max does not fit the field"
							     : NULL;
	case OPTION_CHOICE:
		return !spec->choices || !spec->choices[0].name || !spec->what ||
			       spec->size != sizeof(int)
			   ? "choice needs choices, what and an int-sized field"
			   : NULL;
	case OPTION_CUSTOM:
	case OPTION_CUSTOM_LIST:
		return spec->set ? NULL : "custom row without set";
	}
	return "unknown kind";
}

/* NULL when the row is complete, else what is wrong. */
static const char *row_problem(const struct option_spec *spec)
{
	if (!spec->flag && !spec->env)
		return "neither flag nor environment variable";
	if (!spec->help)
		return "no help text";
	if (spec->kind == OPTION_SWITCH && spec->env)
		return "switches take no environment variable";
	bool list = spec->kind == OPTION_STRING_LIST || spec->kind == OPTION_CUSTOM_LIST;
	if (list && spec->env && !spec->env_separator)
		return "a list from the environment needs env_separator";
	if (spec->flag && strcmp(spec->flag, "help") == 0)
		return "--help is built in";
	return kind_problem(spec);
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool options_table_valid(const struct option_spec *specs, size_t count, char *err, size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		const char *problem = row_problem(&specs[i]);
		for (size_t j = 0; j < i && !problem; j++)
			if (same(specs[i].flag, specs[j].flag) || same(specs[i].env, specs[j].env))
				problem = "flag or environment variable used twice";
		if (problem) {
			snprintf(err, errlen, "option %s: %s", option_name(&specs[i]), problem);
			return false;
		}
	}
	return true;
}
