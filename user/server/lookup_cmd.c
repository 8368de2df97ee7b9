#include "archeio/server/lookup_cmd.h"

#include "archeio/server/serve_state.h"
#include "archeio/xdp/xdp_status.h"

static void print_region(FILE *out, const char *text, const struct region_name *name)
{
	fprintf(out, "%s\t%s\t%s\n", text, name ? name->cloud : "-", name ? name->region : "-");
}

static bool addresses_valid(const struct config *config, FILE *err)
{
	if (config->args_count == 0) {
		fprintf(err, "archeio: lookup needs at least one IP address\n");
		return false;
	}
	for (size_t i = 0; i < config->args_count; i++) {
		struct ip_addr addr;
		if (!ip_parse(config->args[i], &addr)) {
			fprintf(err, "archeio: not an IP address: %s\n", config->args[i]);
			return false;
		}
	}
	return true;
}

/* Without --ranges, a running server's pinned maps answer (what XDP sees).
 * Without those either there is nothing to answer from: "unlisted" for every
 * address would be a wrong answer, so it is an error. */
static int lookup_pinned(const struct config *config, FILE *out, FILE *err)
{
	struct xdp_pinned *pinned = NULL;
	char msg[1024];
	int rc = xdp_pinned_open(config->bpffs_dir, &pinned, msg, sizeof(msg));
	if (rc != 0) {
		fprintf(err, "archeio: %s%s\n",
			rc > 0 ? "no ranges loaded: no --ranges given and " : "", msg);
		return 2;
	}
	for (size_t i = 0; i < config->args_count; i++) {
		struct ip_addr addr;
		struct region_name name;
		ip_parse(config->args[i], &addr);
		uint32_t id = xdp_pinned_lookup(pinned, &addr);
		bool found = id != REGION_NONE && xdp_pinned_region_name(pinned, id, &name);
		print_region(out, config->args[i], found ? &name : NULL);
	}
	xdp_pinned_close(pinned);
	return 0;
}

static void print_no_prefixes(const struct config *config, FILE *err)
{
	fprintf(err, "archeio: no ranges loaded: --ranges ");
	for (size_t i = 0; i < config->ranges_count; i++)
		fprintf(err, "%s%s", i ? ", " : "", config->ranges[i]);
	fprintf(err, " hold%s no prefixes\n", config->ranges_count == 1 ? "s" : "");
}

static int lookup_ranges(const struct config *config, FILE *out, FILE *err)
{
	char msg[1024];
	struct serve_state *state = serve_state_load(config, NULL, msg, sizeof(msg));
	if (!state) {
		fprintf(err, "archeio: %s\n", msg);
		return 2;
	}
	const struct ranges_warnings *w = &state->ranges.warnings;
	for (size_t i = 0; i < ranges_warnings_kept(w); i++)
		fprintf(err, "archeio: warning: %s\n", w->text[i]);
	if (w->total > ranges_warnings_kept(w))
		fprintf(err, "archeio: warning: and %zu more warnings like these\n",
			w->total - ranges_warnings_kept(w));
	if (state->ranges.count == 0) {
		print_no_prefixes(config, err);
		serve_state_release(state);
		return 2;
	}
	for (size_t i = 0; i < config->args_count; i++) {
		struct ip_addr addr;
		ip_parse(config->args[i], &addr);
		print_region(
		    out, config->args[i],
		    region_table_get(&state->regions, range_table_lookup(state->table, &addr)));
	}
	serve_state_release(state);
	return 0;
}

int lookup_cmd_run(const struct config *config, FILE *out, FILE *err)
{
	if (!addresses_valid(config, err))
		return 2;
	return config->ranges_count == 0 ? lookup_pinned(config, out, err)
					 : lookup_ranges(config, out, err);
}
