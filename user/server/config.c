/* `archeio`'s configuration: its option table (config_table.c) parsed by
 * core/options, plus what only holds for the whole result (arguments,
 * files that must exist). */
#include "archeio/server/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archeio/core/options.h"
#include "archeio/core/strlist.h"
#include "config_values.h"
#include "rate_exempt.h"

void config_print_usage(FILE *out)
{
	fputs("usage: archeio [serve] [flags]          run the redirector (default)\n"
	      "       archeio lookup [flags] IP...      print IP<TAB>cloud<TAB>region per address\n"
	      "       archeio xdp status [--bpffs DIR] [--json]\n"
	      "                                         XDP attachment, map sizes, counters\n"
	      "       archeio xdp detach [--bpffs DIR] [--xdp-iface IFACE]\n"
	      "                                         remove a program and pins that\n"
	      "                                         --xdp-keep (or a crash) left\n"
	      "       archeio --help\n"
	      "       archeio --version                 print the version\n"
	      "\n"
	      "Flags (environment variable in brackets; flags win):\n",
	      out);
	size_t count;
	const struct option_spec *table = config_option_table(&count);
	options_print_usage(table, count, out);
	fputs("\n"
	      "Signals: SIGHUP rereads ranges, mirror rules, upstream rules, certificates and\n"
	      "--limits-file (a bad file keeps the old state); SIGTERM/SIGINT stop accepting,\n"
	      "finish in-flight requests (5 s), exit 0.\n"
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
	if (config->limits_file &&
	    !config_check_readable("limits file", config->limits_file, false, err, errlen))
		return false;
	if (config->upstream_rules_file &&
	    !config_check_readable("upstream rules file", config->upstream_rules_file, false, err,
				   errlen))
		return false;
	return !config->mirrors_file ||
	       config_check_readable("mirrors file", config->mirrors_file, false, err, errlen);
}

/* TLS files are read (and their pairing checked) when the server loads them;
 * here: pairs complete, within bounds, files there. */
static bool tls_valid(const struct config *config, char *err, size_t errlen)
{
	if (config->tls_cert_count != config->tls_key_count) {
		snprintf(err, errlen,
			 "--tls-cert and --tls-key come in pairs: %zu certificate(s), %zu key(s)",
			 config->tls_cert_count, config->tls_key_count);
		return false;
	}
	if (config->tls_cert_count > CONFIG_MAX_TLS_PAIRS) {
		snprintf(err, errlen, "--tls-cert: at most %d certificates", CONFIG_MAX_TLS_PAIRS);
		return false;
	}
	for (size_t i = 0; i < config->tls_cert_count; i++)
		if (!config_check_readable("--tls-cert", config->tls_certs[i], false, err,
					   errlen) ||
		    !config_check_readable("--tls-key", config->tls_keys[i], false, err, errlen))
			return false;
	if (config->tls_ktls && config->tls_cert_count == 0) {
		snprintf(err, errlen, "--tls-ktls needs --tls-cert and --tls-key");
		return false;
	}
	return true;
}

static bool plain_listens_valid(const struct config *config, char *err, size_t errlen)
{
	if (config->plain_listen_count > CONFIG_MAX_PLAIN_LISTENS) {
		snprintf(err, errlen, "--plain-listen: at most %d", CONFIG_MAX_PLAIN_LISTENS);
		return false;
	}
	for (size_t i = 0; i < config->plain_listen_count; i++) {
		char *host = NULL;
		uint16_t port;
		errno = 0;
		bool ok = config_parse_listen(config->plain_listens[i], &host, &port);
		free(host);
		if (!ok && errno == ENOMEM) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
		if (!ok) {
			snprintf(err, errlen, "--plain-listen: bad address \"%s\"",
				 config->plain_listens[i]);
			return false;
		}
	}
	return true;
}

static bool run_as_valid(const struct config *config, char *err, size_t errlen)
{
	if (config->run_group && !config->run_user) {
		snprintf(err, errlen, "--group needs --user");
		return false;
	}
	return true;
}

/* Parsed again when the server starts; here so a typo fails at once. A SYN
 * limit without XDP would silently limit nothing. */
static bool limits_valid(const struct config *config, char *err, size_t errlen)
{
	if (config->xdp_syn_limit && !config->xdp_iface) {
		snprintf(err, errlen, "--xdp-syn-limit needs --xdp-iface");
		return false;
	}
	struct rate_exempt exempt;
	if (!rate_exempt_parse(&exempt, config->rate_limit_exempt, config->rate_limit_exempt_count,
			       err, errlen))
		return false;
	rate_exempt_free(&exempt);
	return true;
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
	return files_readable(config, err, errlen) && tls_valid(config, err, errlen) &&
		       plain_listens_valid(config, err, errlen) &&
		       run_as_valid(config, err, errlen) && limits_valid(config, err, errlen)
		   ? CONFIG_OK
		   : CONFIG_ERROR;
}

void config_free(struct config *config)
{
	size_t count;
	const struct option_spec *table = config_option_table(&count);
	options_free(table, count, config);
	strlist_free(&config->args, &config->args_count);
	memset(config, 0, sizeof(*config));
}
