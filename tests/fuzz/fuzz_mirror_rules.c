/* The mirror rules file. Properties: a file that parses gives rules whose
 * base URLs are absolute http(s) bases (or "upstream"), whose names hold no
 * byte that could split a log line, and a client of exactly a rule's cloud
 * and region gets that rule, never another cloud's. */
#include <stdint.h>

#include "archeio/core/url_check.h"
#include "archeio/mirrorcheck/mirror_rules.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	struct mirror_rules rules;
	mirror_rules_init(&rules);
	char err[512];
	if (mirror_rules_parse(&rules, "fuzz", (const char *)data, size, err, sizeof(err)) != 0) {
		FUZZ_CHECK(strlen(err) > 0);
		mirror_rules_free(&rules);
		return 0;
	}
	for (size_t i = 0; i < rules.count; i++) {
		const struct mirror_rule *rule = &rules.rules[i];
		FUZZ_CHECK(!rule->base_url || url_is_base_http(rule->base_url));
		FUZZ_CHECK(fuzz_header_safe(rule->cloud) && fuzz_header_safe(rule->region));
		FUZZ_CHECK(rule->cloud[0] != '\0');
		if (strcmp(rule->cloud, "*") == 0)
			continue;
		/* A client in exactly this rule's cloud (and region) gets this rule:
		 * the most specific one, never another cloud's. */
		const struct mirror_rule *chosen =
		    mirror_rules_select(&rules, rule->cloud, rule->region[0] ? rule->region : NULL);
		FUZZ_CHECK(chosen != NULL);
		FUZZ_CHECK(strcmp(chosen->cloud, rule->cloud) == 0);
		FUZZ_CHECK(strcmp(chosen->region, rule->region) == 0);
	}
	mirror_rules_free(&rules);
	return 0;
}
