/* Parsing defaults, environment and argv from an option table (see options.h). */
#include "archeio/core/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/strlist.h"

/* getopt_long values of the rows: above every character getopt returns. */
#define FIRST_ROW_VAL 256

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool options_parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	if (!text || !*text || *text == '-' || *text == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

const char *option_name(const struct option_spec *spec)
{
	return spec->flag ? spec->flag : spec->env ? spec->env : "?";
}

static bool is_repeatable(const struct option_spec *spec)
{
	return spec->kind == OPTION_STRING_LIST || spec->kind == OPTION_CUSTOM_LIST;
}

static bool store_uint(void *field, size_t size, unsigned long v)
{
	switch (size) {
	case sizeof(uint8_t):
		*(uint8_t *)field = (uint8_t)v;
		return true;
	case sizeof(uint16_t):
		*(uint16_t *)field = (uint16_t)v;
		return true;
	case sizeof(uint32_t):
		*(uint32_t *)field = (uint32_t)v;
		return true;
	case sizeof(uint64_t):
		*(uint64_t *)field = (uint64_t)v;
		return true;
	}
	return false;
}

static bool set_uint(void *target, const struct option_spec *spec, const char *value,
		     const char *source, char *err, size_t errlen)
{
	unsigned long v;
	if (!options_parse_uint(value, spec->min, spec->max, &v)) {
		set_err(err, errlen, "%s: bad number %s (want %lu..%lu)", source, value, spec->min,
			spec->max);
		return false;
	}
	if (!store_uint(option_field(target, spec), spec->size, v)) {
		set_err(err, errlen, "internal: %s has a field of %zu bytes", source, spec->size);
		return false;
	}
	return true;
}

/* "debug|info|warn|error" */
static void join_choices(const struct option_choice *choices, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (const struct option_choice *c = choices; c->name && used < outlen; c++) {
		int n = snprintf(out + used, outlen - used, "%s%s", used ? "|" : "", c->name);
		used += n > 0 ? (size_t)n : 0;
	}
}

static bool set_choice(void *target, const struct option_spec *spec, const char *value,
		       const char *source, char *err, size_t errlen)
{
	for (const struct option_choice *c = spec->choices; c->name; c++) {
		if (strcmp(c->name, value) == 0) {
			*(int *)option_field(target, spec) = c->value;
			return true;
		}
	}
	char names[256];
	join_choices(spec->choices, names, sizeof(names));
	set_err(err, errlen, "%s: bad %s %s (%s)", source, spec->what, value, names);
	return false;
}

static bool set_string(void *target, const struct option_spec *spec, const char *value)
{
	char **slot = option_field(target, spec);
	char *copy = strdup(value);
	if (!copy)
		return false;
	free(*slot);
	*slot = copy;
	return true;
}

/* The count beside an OPTION_STRING_LIST's array. */
static size_t *list_count(void *target, const struct option_spec *spec)
{
	return (size_t *)((char *)target + spec->count_offset);
}

static bool append_string(void *target, const struct option_spec *spec, const char *value)
{
	return strlist_append(option_field(target, spec), list_count(target, spec), value);
}

/* The generic store of one value, for rows without a set callback. */
static bool store_value(void *target, const struct option_spec *spec, const char *value,
			const char *source, char *err, size_t errlen)
{
	switch (spec->kind) {
	case OPTION_SWITCH:
		*(bool *)option_field(target, spec) = true;
		return true;
	case OPTION_STRING:
		return set_string(target, spec, value);
	case OPTION_STRING_LIST:
		return append_string(target, spec, value);
	case OPTION_UINT:
		return set_uint(target, spec, value, source, err, errlen);
	case OPTION_CHOICE:
		return set_choice(target, spec, value, source, err, errlen);
	case OPTION_CUSTOM:
	case OPTION_CUSTOM_LIST:
		break;
	}
	set_err(err, errlen, "internal: %s has no set callback", source);
	return false;
}

/* The generic stores and most setters fail without a message only for want
 * of memory. err was emptied before the store. */
static bool or_out_of_memory(bool ok, char *err, size_t errlen)
{
	if (!ok && !err[0])
		set_err(err, errlen, "out of memory");
	return ok;
}

/* One value from a flag or the environment; source names it. */
static bool apply_value(void *target, const struct option_spec *spec, const char *value,
			const char *source, char *err, size_t errlen)
{
	err[0] = '\0';
	bool ok = (!spec->check || spec->check(value, source, err, errlen)) &&
		  (spec->set ? spec->set(target, spec, value, source, err, errlen)
			     : store_value(target, spec, value, source, err, errlen));
	return or_out_of_memory(ok, err, errlen);
}

static void clear_value(void *target, const struct option_spec *spec)
{
	if (spec->clear) {
		spec->clear(target, spec);
	} else if (spec->kind == OPTION_STRING) {
		char **slot = option_field(target, spec);
		free(*slot);
		*slot = NULL;
	} else if (spec->kind == OPTION_STRING_LIST) {
		strlist_free(option_field(target, spec), list_count(target, spec));
	}
}

/* Defaults are taken as the table writes them: a string is stored verbatim
 * (not normalised by the row's set), numbers and choices are parsed, and
 * only custom rows, which have no generic store, go through set. */
static bool apply_defaults(const struct option_spec *specs, size_t count, void *target, char *err,
			   size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		const struct option_spec *spec = &specs[i];
		const char *value = spec->default_value;
		if (!value)
			continue;
		bool custom = spec->kind == OPTION_CUSTOM || spec->kind == OPTION_CUSTOM_LIST;
		err[0] = '\0';
		bool ok = custom ? apply_value(target, spec, value, option_name(spec), err, errlen)
				 : store_value(target, spec, value, option_name(spec), err, errlen);
		if (!or_out_of_memory(ok, err, errlen))
			return false;
	}
	return true;
}

/* A separated list from the environment: items trimmed of spaces, empty
 * items skipped ("a, ,b," is a and b). */
static bool apply_env_list(void *target, const struct option_spec *spec, const char *list,
			   char *err, size_t errlen)
{
	char *copy = strdup(list);
	if (!copy) {
		set_err(err, errlen, "out of memory");
		return false;
	}
	bool ok = true;
	char seps[2] = {spec->env_separator, '\0'};
	char *save = NULL;
	for (char *item = strtok_r(copy, seps, &save); item && ok;
	     item = strtok_r(NULL, seps, &save)) {
		while (*item == ' ')
			item++;
		char *end = item + strlen(item);
		while (end > item && end[-1] == ' ')
			*--end = '\0';
		if (*item)
			ok = apply_value(target, spec, item, spec->env, err, errlen);
	}
	free(copy);
	return ok;
}

static bool apply_environment(const struct option_spec *specs, size_t count, void *target,
			      option_getenv_fn getenv_fn, char *err, size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		const struct option_spec *spec = &specs[i];
		const char *value = spec->env ? getenv_fn(spec->env) : NULL;
		/* An empty variable counts as unset unless the row says otherwise. */
		if (!value || (!*value && !spec->env_empty_is_value))
			continue;
		bool ok = is_repeatable(spec)
			      ? apply_env_list(target, spec, value, err, errlen)
			      : apply_value(target, spec, value, spec->env, err, errlen);
		if (!ok)
			return false;
	}
	return true;
}

/* The getopt_long array of the rows with a flag, plus --help; free() it. */
static struct option *long_options_of(const struct option_spec *specs, size_t count)
{
	struct option *longopts = calloc(count + 2, sizeof(*longopts));
	if (!longopts)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < count; i++) {
		if (!specs[i].flag)
			continue;
		longopts[n++] = (struct option){
		    .name = specs[i].flag,
		    .has_arg = specs[i].kind == OPTION_SWITCH ? no_argument
			       : specs[i].implied_value	      ? optional_argument
							      : required_argument,
		    .val = FIRST_ROW_VAL + (int)i,
		};
	}
	longopts[n] = (struct option){.name = "help", .has_arg = no_argument, .val = 'h'};
	return longopts;
}

/* One flag from getopt_long. seen[i]: row i had a flag already, so a list
 * adds to it rather than replacing the environment's values. */
static enum options_result apply_flag(const struct option_spec *specs, size_t count, void *target,
				      int opt, char **argv, bool *seen, char *err, size_t errlen)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (opt == 'h')
		return OPTIONS_HELP;
	if (opt == ':') {
		set_err(err, errlen, "flag %s needs a value", arg);
		return OPTIONS_ERROR;
	}
	size_t row = (size_t)(opt - FIRST_ROW_VAL);
	if (opt < FIRST_ROW_VAL || row >= count) {
		set_err(err, errlen, "unknown flag %s", arg);
		return OPTIONS_ERROR;
	}
	const struct option_spec *spec = &specs[row];
	if (is_repeatable(spec) && !seen[row])
		clear_value(target, spec);
	seen[row] = true;
	char source[64];
	snprintf(source, sizeof(source), "--%s", spec->flag);
	const char *value = optarg ? optarg : spec->implied_value;
	return apply_value(target, spec, value, source, err, errlen) ? OPTIONS_OK : OPTIONS_ERROR;
}

static enum options_result apply_flags(const struct option_spec *specs, size_t count, void *target,
				       int argc, char **argv, int *first_arg, char *err,
				       size_t errlen)
{
	struct option *longopts = long_options_of(specs, count);
	bool *seen = calloc(count + 1, sizeof(*seen));
	enum options_result result = OPTIONS_OK;
	if (!longopts || !seen) {
		set_err(err, errlen, "out of memory");
		result = OPTIONS_ERROR;
	}
	/* getopt keeps its position in globals: optind 0 restarts it, so every
	 * parse starts afresh; ':' first reports a missing value as ':'. */
	optind = 0;
	opterr = 0;
	int opt;
	while (result == OPTIONS_OK && (opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
		result = apply_flag(specs, count, target, opt, argv, seen, err, errlen);
	*first_arg = optind;
	free(longopts);
	free(seen);
	return result;
}

enum options_result options_parse(const struct option_spec *specs, size_t count, void *target,
				  int argc, char **argv, option_getenv_fn getenv_fn, int *first_arg,
				  char *err, size_t errlen)
{
	*first_arg = argc;
	if (!apply_defaults(specs, count, target, err, errlen))
		return OPTIONS_ERROR;
	if (getenv_fn && !apply_environment(specs, count, target, getenv_fn, err, errlen))
		return OPTIONS_ERROR;
	return apply_flags(specs, count, target, argc, argv, first_arg, err, errlen);
}

void options_free(const struct option_spec *specs, size_t count, void *target)
{
	for (size_t i = 0; i < count; i++)
		clear_value(target, &specs[i]);
}
