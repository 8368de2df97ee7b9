/* archeio: the registry redirector. Subcommands: serve (default), lookup,
 * xdp status, xdp detach, version (or --version). Exit status 2 for bad flags,
 * values or files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/version.h"
#include "archeio/server/config.h"
#include "archeio/server/lookup_cmd.h"
#include "archeio/server/server.h"
#include "archeio/xdp/xdp_detach.h"
#include "archeio/xdp/xdp_status.h"

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

/* `xdp status` and `xdp detach`: 0, or 1 with one line on stderr. */
static int run_xdp_command(const char *command, const struct config *config)
{
	char err[1024];
	int rc =
	    strcmp(command, "status") == 0
		? xdp_status_run(config->bpffs_dir, config->json, stdout, err, sizeof(err))
		: xdp_detach_run(config->bpffs_dir, config->xdp_iface, stdout, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "archeio: xdp %s: %s\n", command, err);
	return rc == 0 ? 0 : 1;
}

static int run_xdp(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "detach") != 0)) {
		fprintf(stderr, "archeio: unknown xdp command (want: archeio xdp status|detach)\n");
		return 2;
	}
	struct config config;
	char err[1024];
	enum config_result r =
	    config_parse(&config, argc - 1, argv + 1, env_lookup, err, sizeof(err));
	int status;
	if (r == CONFIG_HELP) {
		config_print_usage(stdout);
		status = 0;
	} else if (r != CONFIG_OK) {
		fprintf(stderr, "archeio: %s\n", err);
		status = 2;
	} else if (config.args_count > 0) {
		fprintf(stderr, "archeio: unexpected argument %s\n", config.args[0]);
		status = 2;
	} else {
		status = run_xdp_command(argv[1], &config);
	}
	config_free(&config);
	return status;
}

int main(int argc, char **argv)
{
	const char *command = "serve";
	int first = 0; /* argv index playing argv[0] for the subcommand's flags */
	if (argc > 1 && argv[1][0] != '-') {
		command = argv[1];
		first = 1;
	}
	struct logger log = {.level = LOG_INFO, .format = LOG_FORMAT_TEXT, .out = stderr};
	if (strcmp(command, "version") == 0 || (argc > 1 && strcmp(argv[1], "--version") == 0)) {
		printf("archeio %s\n", archeio_version());
		return 0;
	}
	if (strcmp(command, "help") == 0) {
		config_print_usage(stdout);
		return 0;
	}
	if (strcmp(command, "xdp") == 0)
		return run_xdp(argc - first, argv + first);
	if (strcmp(command, "serve") != 0 && strcmp(command, "lookup") != 0) {
		fprintf(stderr, "archeio: unknown command %s (try archeio --help)\n", command);
		return 2;
	}
	struct config config;
	char err[1024];
	enum config_result r =
	    config_parse(&config, argc - first, argv + first, env_lookup, err, sizeof(err));
	if (r == CONFIG_HELP) {
		config_print_usage(stdout);
		config_free(&config);
		return 0;
	}
	if (r == CONFIG_ERROR) {
		fprintf(stderr, "archeio: %s\n", err);
		config_free(&config);
		return 2;
	}
	log.level = config.log_level;
	log.format = config.log_format;
	int status;
	if (strcmp(command, "lookup") == 0) {
		status = lookup_cmd_run(&config, stdout, stderr);
	} else if (config.args_count > 0) {
		fprintf(stderr, "archeio: unexpected argument %s\n", config.args[0]);
		status = 2;
	} else {
		status = server_run(&config, &log);
	}
	config_free(&config);
	return status;
}
