/* The option tables of both binaries: well formed, and documented flag for
 * flag. README.md's "## Configuration" table must list exactly archeio's
 * flags, docs/mirroring.md's flag table exactly archeio-mirror's, each with
 * its default; the documents are read at run time (tests run from the
 * repository root, see tests/run-unit.sh). */
/* gcc's -fsanitize=address builds (make check-sanitize) warn that strstr may
 * read from "a region of size 0" here: a false positive from its object-size
 * tracking through fail_msg(), which does not return. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/options.h"
#include "archeio/mirrortool/cli.h"
#include "archeio/server/config.h"

#define MAX_DOCUMENTED 64

/* A flag named in the first cell of a documentation table row, and that row. */
struct documented {
	char name[48];
	const char *row;
	size_t row_len;
};

struct documented_flags {
	struct documented flags[MAX_DOCUMENTED];
	size_t count;
};

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (tests run from the repository root)", path);
	char *text = NULL;
	size_t len = 0;
	FILE *copy = open_memstream(&text, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, copy);
	fclose(f);
	fclose(copy);
	return text;
}

/* From the line `heading` to the next "## " heading (the whole text when
 * heading is NULL); *len gets its length. */
static const char *section(const char *text, const char *heading, size_t *len)
{
	const char *start = text;
	if (heading) {
		start = strstr(text, heading);
		if (!start)
			fail_msg("no section %s", heading);
	}
	const char *end = strstr(start + 1, "\n## ");
	*len = end ? (size_t)(end - start) : strlen(start);
	return start;
}

/* Every "`--name" in the first cell of rows starting "| `--" ("\|" inside a
 * cell is an escaped bar, not the cell's end). */
static void collect_flags(const char *text, size_t len, struct documented_flags *out)
{
	out->count = 0;
	for (const char *line = text; line < text + len;) {
		const char *eol = memchr(line, '\n', (size_t)(text + len - line));
		size_t line_len = eol ? (size_t)(eol - line) : (size_t)(text + len - line);
		size_t cell_end = 1;
		while (cell_end < line_len &&
		       !(line[cell_end] == '|' && line[cell_end - 1] != '\\'))
			cell_end++;
		for (size_t i = 0; strncmp(line, "| `--", 5) == 0 && i + 3 < cell_end; i++) {
			if (strncmp(line + i, "`--", 3) != 0)
				continue;
			assert_true(out->count < MAX_DOCUMENTED);
			struct documented *d = &out->flags[out->count++];
			size_t n = strspn(line + i + 3, "abcdefghijklmnopqrstuvwxyz0123456789-");
			assert_true(n > 0 && n < sizeof(d->name));
			memcpy(d->name, line + i + 3, n);
			d->name[n] = '\0';
			d->row = line;
			d->row_len = line_len;
		}
		line += line_len + 1;
	}
}

static const struct documented *find_documented(const struct documented_flags *docs,
						const char *name)
{
	for (size_t i = 0; i < docs->count; i++)
		if (strcmp(docs->flags[i].name, name) == 0)
			return &docs->flags[i];
	return NULL;
}

static bool in_table(const struct option_spec *table, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (table[i].flag && strcmp(table[i].flag, name) == 0)
			return true;
	return false;
}

static bool row_mentions(const struct documented *d, const char *quoted)
{
	char *row = strndup(d->row, d->row_len);
	bool found = strstr(row, quoted) != NULL;
	free(row);
	return found;
}

/* Both directions, defaults and environment variables; `undocumented` lists
 * flags of the table that the document may leave out. */
static void check_documented(const char *path, const char *heading, const struct option_spec *table,
			     size_t count, const char *const *undocumented)
{
	char *text = read_file(path);
	size_t len;
	const char *part = section(text, heading, &len);
	struct documented_flags docs;
	collect_flags(part, len, &docs);
	assert_true(docs.count > 0);
	for (size_t i = 0; i < docs.count; i++)
		if (!in_table(table, count, docs.flags[i].name))
			fail_msg("%s documents --%s, which no option table row has", path,
				 docs.flags[i].name);
	for (size_t i = 0; i < count; i++) {
		const struct option_spec *spec = &table[i];
		bool excused = false;
		for (const char *const *u = undocumented; *u; u++)
			excused = excused || (spec->flag && strcmp(*u, spec->flag) == 0);
		const struct documented *d = spec->flag ? find_documented(&docs, spec->flag) : NULL;
		if (spec->flag && !excused && !d)
			fail_msg("--%s is in the option table but not in %s", spec->flag, path);
		char quoted[256];
		snprintf(quoted, sizeof(quoted), "`%s`",
			 spec->default_value ? spec->default_value : "");
		if (d && spec->default_value && !row_mentions(d, quoted))
			fail_msg("%s: the row of --%s does not show its default %s", path,
				 spec->flag, quoted);
		if (spec->env && !memmem(part, len, spec->env, strlen(spec->env)))
			fail_msg("%s does not mention the environment variable %s", path,
				 spec->env);
	}
	free(text);
}

static void readme_lists_every_server_flag(void **state)
{
	(void)state;
	size_t count;
	const struct option_spec *table = config_option_table(&count);
	/* --json only switches the output of `lookup` and `xdp status`; the README
	 * shows it with those subcommands, not among the server's settings. */
	static const char *const undocumented[] = {"json", NULL};
	check_documented("README.md", "\n## Configuration", table, count, undocumented);
}

static void mirroring_doc_lists_every_mirror_flag(void **state)
{
	(void)state;
	size_t count;
	const struct option_spec *table = cli_option_table(&count);
	static const char *const undocumented[] = {NULL};
	check_documented("docs/mirroring.md", "\n## Flags", table, count, undocumented);
}

static void tables_are_well_formed(void **state)
{
	(void)state;
	char err[256] = "";
	size_t count;
	const struct option_spec *table = config_option_table(&count);
	if (!options_table_valid(table, count, err, sizeof(err)))
		fail_msg("archeio: %s", err);
	table = cli_option_table(&count);
	if (!options_table_valid(table, count, err, sizeof(err)))
		fail_msg("archeio-mirror: %s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(readme_lists_every_server_flag),
	    cmocka_unit_test(mirroring_doc_lists_every_mirror_flag),
	    cmocka_unit_test(tables_are_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
