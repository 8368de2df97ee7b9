/* archeio's default mirror rules: registry.k8s.io's region-to-bucket table,
 * so that a drop-in replacement for the Go archeio routes blobs as it does
 * without any configuration. The table is data/registry-k8s-io.mirrors; make
 * turns it into string literals (archeio_default_mirrors.inc), so the binary
 * needs no file at run time and the documented file is the one in force. */
#include "archeio/mirrorcheck/mirror_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char builtin_text[] =
#include "archeio_default_mirrors.inc"
    ;

/* The name errors would carry; the table is tested, so only a broken build
 * could produce one. */
#define BUILTIN_NAME "built-in mirror rules (data/registry-k8s-io.mirrors)"

/* Room for the longest base a rule may have, its "* " and its newline. */
#define DEFAULT_MIRROR_MAX (MIRROR_BASE_URL_MAX + 64)

const char *mirror_rules_builtin_text(size_t *len)
{
	*len = sizeof(builtin_text) - 1;
	return builtin_text;
}

static struct mirror_rule *star_rule(struct mirror_rules *rules)
{
	for (size_t i = 0; i < rules->count; i++)
		if (strcmp(rules->rules[i].cloud, "*") == 0)
			return &rules->rules[i];
	return NULL;
}

int mirror_rules_default(struct mirror_rules *rules, const char *default_mirror, char *err,
			 size_t errlen)
{
	const char *problem = url_check_reason(default_mirror, URL_BASE);
	if (problem != NULL) {
		snprintf(err, errlen, "default mirror: %s: '%s'", problem,
			 default_mirror == NULL ? "(null)" : default_mirror);
		return -1;
	}
	size_t len = strlen(default_mirror);
	while (len > 0 && default_mirror[len - 1] == '/')
		len--;
	if (len > MIRROR_BASE_URL_MAX) {
		snprintf(err, errlen, "default mirror: URL too long (%zu characters, at most %d)",
			 len, MIRROR_BASE_URL_MAX);
		return -1;
	}
	/* The '*' target is parsed as a rule of its own, so it is checked and
	 * trimmed exactly as a line of a rules file would be. */
	char star_line[DEFAULT_MIRROR_MAX + 8];
	int n = snprintf(star_line, sizeof(star_line), "* %s\n", default_mirror);
	struct mirror_rules table, star;
	mirror_rules_init(&table);
	mirror_rules_init(&star);
	if (mirror_rules_parse(&table, BUILTIN_NAME, builtin_text, sizeof(builtin_text) - 1, err,
			       errlen) != 0 ||
	    mirror_rules_parse(&star, "default mirror", star_line, (size_t)n, err, errlen) != 0) {
		mirror_rules_free(&table);
		return -1;
	}
	struct mirror_rule *target = star_rule(&table);
	if (target == NULL) {
		snprintf(err, errlen, "%s: no '*' rule for the default mirror", BUILTIN_NAME);
		mirror_rules_free(&table);
		mirror_rules_free(&star);
		return -1;
	}
	free(target->base_url);
	target->base_url = star.rules[0].base_url;
	star.rules[0].base_url = NULL;
	mirror_rules_free(&star);
	mirror_rules_free(rules);
	*rules = table;
	return 0;
}
