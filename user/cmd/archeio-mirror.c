/* archeio-mirror: copies image blobs from an OCI registry into mirror
 * storage (a directory or an S3-compatible bucket). See docs/mirroring.md. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/version.h"
#include "archeio/mirrortool/cli.h"
#include "archeio/mirrortool/run.h"

#define MAX_REPOS_FILE (16 * 1024 * 1024)

static char *read_text_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "--repos-file: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(MAX_REPOS_FILE + 1);
	size_t n = text ? fread(text, 1, MAX_REPOS_FILE + 1, f) : 0;
	bool failed = !text || ferror(f) || n > MAX_REPOS_FILE;
	fclose(f);
	if (failed) {
		snprintf(err, errlen, "--repos-file: cannot read %s (or larger than %d bytes)",
			 path, MAX_REPOS_FILE);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		snprintf(err, errlen, "--repos-file: %s is not a text file", path);
		free(text);
		return NULL;
	}
	return text;
}

int main(int argc, char **argv)
{
	struct mirror_options o;
	char err[1024];
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("archeio-mirror %s\n", archeio_version());
		return MIRROR_EXIT_OK;
	}
	enum cli_result parsed = cli_parse(argc, argv, &o, err, sizeof(err));
	if (parsed == CLI_HELP) {
		cli_print_usage(stdout);
		cli_options_free(&o);
		return MIRROR_EXIT_OK;
	}
	bool ok = parsed == CLI_OK;
	if (ok && o.repos_file) {
		char *text = read_text_file(o.repos_file, err, sizeof(err));
		ok = text && cli_add_repos_text(&o, text, o.repos_file, err, sizeof(err));
		free(text);
	}
	ok = ok && cli_validate(&o, err, sizeof(err));
	if (!ok) {
		fprintf(stderr, "archeio-mirror: %s\n", err);
		cli_options_free(&o);
		return MIRROR_EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "archeio-mirror: cannot initialise libcurl\n");
		cli_options_free(&o);
		return MIRROR_EXIT_FAILED;
	}
	int rc = mirror_run(&o, stdout, stderr);
	curl_global_cleanup();
	cli_options_free(&o);
	return rc;
}
