/* The --help entries of an option table (see options.h). */
#include "archeio/core/options.h"

#include <string.h>

#define HELP_COLUMN 28
#define LINE_WIDTH 80

/* Appends to a fixed buffer, truncating quietly: help text is bounded by
 * the tables, and a cut line is better than no usage. */
static void append(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);
	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s", text);
}

/* "--flag METAVAR", "--flag a|b|c", "--switch", or "[ENV]" for rows with no flag. */
static void describe_flag(const struct option_spec *spec, char *out, size_t len)
{
	out[0] = '\0';
	if (!spec->flag) {
		snprintf(out, len, "[%s]", spec->env);
		return;
	}
	snprintf(out, len, "--%s", spec->flag);
	if (spec->kind == OPTION_SWITCH)
		return;
	append(out, len, spec->implied_value ? "[=" : " ");
	if (spec->kind != OPTION_CHOICE) {
		append(out, len, spec->metavar ? spec->metavar : "VALUE");
	} else {
		for (const struct option_choice *c = spec->choices; c->name; c++) {
			if (c != spec->choices)
				append(out, len, "|");
			append(out, len, c->name);
		}
	}
	if (spec->implied_value)
		append(out, len, "]");
}

/* "[ENV, ','-separated] help; repeatable; MIN..MAX; default X" */
static void describe_value(const struct option_spec *spec, char *out, size_t len)
{
	out[0] = '\0';
	bool list = spec->kind == OPTION_STRING_LIST || spec->kind == OPTION_CUSTOM_LIST;
	if (spec->env && spec->flag) {
		char env[128];
		if (list && spec->env_separator)
			snprintf(env, sizeof(env), "[%s, '%c'-separated] ", spec->env,
				 spec->env_separator);
		else
			snprintf(env, sizeof(env), "[%s] ", spec->env);
		append(out, len, env);
	}
	append(out, len, spec->help ? spec->help : "");
	if (list && spec->flag)
		append(out, len, "; repeatable");
	if (spec->kind == OPTION_UINT) {
		char bounds[64];
		snprintf(bounds, sizeof(bounds), "; %lu..%lu", spec->min, spec->max);
		append(out, len, bounds);
	}
	if (spec->default_value && *spec->default_value) {
		append(out, len, "; default ");
		append(out, len, spec->default_value);
	}
}

/* Prints text from column HELP_COLUMN on, breaking lines between words. */
static void print_wrapped(const char *text, size_t column, FILE *out)
{
	const char *p = text;
	while (*p) {
		size_t word = strcspn(p, " ");
		if (column > HELP_COLUMN && column + 1 + word > LINE_WIDTH) {
			fprintf(out, "\n%*s", HELP_COLUMN, "");
			column = HELP_COLUMN;
		} else if (column > HELP_COLUMN) {
			fputc(' ', out);
			column++;
		}
		fwrite(p, 1, word, out);
		column += word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

void options_print_usage(const struct option_spec *specs, size_t count, FILE *out)
{
	for (size_t i = 0; i < count; i++) {
		char flag[128], value[1024];
		describe_flag(&specs[i], flag, sizeof(flag));
		describe_value(&specs[i], value, sizeof(value));
		int width = fprintf(out, "  %s", flag);
		/* A flag too long for its column gets the text on the next line. */
		if (width + 1 >= HELP_COLUMN)
			fprintf(out, "\n%*s", HELP_COLUMN, "");
		else
			fprintf(out, "%*s", HELP_COLUMN - width, "");
		print_wrapped(value, HELP_COLUMN, out);
	}
	fprintf(out, "  --help%*sthis text\n", HELP_COLUMN - 8, "");
}
