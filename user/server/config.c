/* `archeio`'s configuration: its option table (config_table.c) parsed by
 * core/options, plus what only holds for the whole result (arguments,
 * files that must exist). */
#include "archeio/server/config.h"

#include <string.h>
#include <unistd.h>

#include "archeio/core/options.h"
#include "archeio/core/strlist.h"
#include "config_values.h"

void config_print_usage(FILE *out)
{
	fputs("usage: archeio [serve] [flags]          run the redirector (default)\n"
	      "       archeio lookup [flags] IP...      print IP<TAB>cloud<TAB>region per address\n"
	      "       archeio xdp status [--bpffs DIR] [--json]\n"
	      "                                         XDP attachment, map sizes, counters\n"
	      "       archeio --help\n"
	      "\n"
	      "Flags (environment variable in brackets; flags win):\n",
	      out);
	size_t count;
	const struct option_spec *table = config_option_table(&count);
	options_print_usage(table, count, out);
	fputs("\n"
	      "Signals: SIGHUP rereads ranges and mirror rules (a bad file keeps the old state);\n"
	      "SIGTERM/SIGINT stop accepting, finish in-flight requests (5 s), exit 0.\n"
	      "Exit status: 0 ok, 1 runtime failure, 2 bad flag, value or file.\n",
	      out);
}

/* Ranges and mirror rules are checked once all sources are read: a flag may
 * replace an environment value that names a missing file. */
static bool files_readable(const struct config *config, char *err, size_t errlen)
{
	for (size_t i = 0; i < config->ranges_count; i++)
		if (!config_check_readable("ranges", config->ranges[i], true, err, errlen))
			return false;
	return !config->mirrors_file ||
	       config_check_readable("mirrors file", config->mirrors_file, false, err, errlen);
}

enum config_result config_parse(struct config *config, int argc, char **argv,
				config_getenv_fn getenv_fn, char *err, size_t errlen)
{
	memset(config, 0, sizeof(*config));
	/* The one default that is not a constant, so not in the table. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	config->workers = cpus > 0 ? (unsigned)cpus : 1;
	size_t count;
	const struct option_spec *table = config_option_table(&count);
	int first_arg;
	enum options_result parsed =
	    options_parse(table, count, config, argc, argv, getenv_fn, &first_arg, err, errlen);
	if (parsed != OPTIONS_OK)
		return parsed == OPTIONS_HELP ? CONFIG_HELP : CONFIG_ERROR;
	for (int i = first_arg; i < argc; i++) {
		if (!strlist_append(&config->args, &config->args_count, argv[i])) {
			snprintf(err, errlen, "out of memory");
			return CONFIG_ERROR;
		}
	}
	return files_readable(config, err, errlen) ? CONFIG_OK : CONFIG_ERROR;
}

void config_free(struct config *config)
{
	size_t count;
	const struct option_spec *table = config_option_table(&count);
	options_free(table, count, config);
	strlist_free(&config->args, &config->args_count);
	memset(config, 0, sizeof(*config));
}
