#include "archeio/server/serve_state.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archeio/contract/route.h"
#include "archeio/server/config.h"

/* Mirror rules refuse a base URL that would not leave room here for the
 * longest digest the router accepts, so a blob URL always fits. */
_Static_assert(MIRROR_BASE_URL_MAX + sizeof("/containers/images/") - 1 + ROUTE_DIGEST_MAX <=
		   sizeof(((struct blob_choice *)0)->mirror_url),
	       "a mirror base URL of MIRROR_BASE_URL_MAX must fit a blob URL");

static void state_free(struct serve_state *state)
{
	free(state->rule_of_region);
	free(state->mirror_id_of_region);
	mirror_ids_free(&state->mirror_ids);
	range_table_free(state->table);
	range_set_free(&state->ranges);
	region_table_free(&state->regions);
	mirror_rules_free(&state->rules);
	mirror_rules_free(&state->upstreams);
	free(state);
}

/* mirror_rules_select() for every region of the state, once, with the
 * chosen mirror's id (the mirror cache's key). */
static int resolve_region_rules(struct serve_state *state)
{
	uint32_t count = state->regions.count;
	state->rule_of_region = calloc(count, sizeof(*state->rule_of_region));
	state->mirror_id_of_region = calloc(count, sizeof(*state->mirror_id_of_region));
	if (!state->rule_of_region || !state->mirror_id_of_region)
		return -1;
	for (uint32_t id = 0; id < count; id++) {
		const struct region_name *name =
		    id == REGION_NONE ? NULL : region_table_get(&state->regions, id);
		const struct mirror_rule *rule = mirror_rules_select(
		    &state->rules, name ? name->cloud : NULL, name ? name->region : NULL);
		state->rule_of_region[id] = rule;
		if (rule && rule->base_url) {
			state->mirror_id_of_region[id] =
			    mirror_ids_intern(&state->mirror_ids, rule->base_url);
			if (state->mirror_id_of_region[id] == MIRROR_ID_NONE)
				return -1;
		}
	}
	return 0;
}

struct serve_state *serve_state_load(const struct config *config,
				     const struct serve_state *previous, char *err, size_t errlen)
{
	struct serve_state *state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&state->refs, 1);
	state->loaded_at = (int64_t)time(NULL);
	range_set_init(&state->ranges);
	mirror_rules_init(&state->rules);
	mirror_rules_init(&state->upstreams);
	region_table_init(&state->regions);
	mirror_ids_init(&state->mirror_ids);
	/* Both start from the previous state's, so ids name the same region or
	 * mirror after a reload (XDP tags and the workers' mirror caches). */
	if (previous && (region_table_copy(&state->regions, &previous->regions) != 0 ||
			 mirror_ids_copy(&state->mirror_ids, &previous->mirror_ids) != 0)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < config->ranges_count; i++)
		if (ranges_load_path(&state->ranges, &state->regions, config->ranges[i], err,
				     errlen) != 0)
			goto fail;
	if (ranges_finish(&state->ranges) != 0) {
		snprintf(err, errlen, "out of memory sorting ranges");
		goto fail;
	}
	if (config->mirrors_file) {
		if (mirror_rules_load_file(&state->rules, config->mirrors_file, err, errlen) != 0)
			goto fail;
	} else if (mirror_rules_default(&state->rules, config->default_mirror, err, errlen) != 0) {
		goto fail;
	}
	if (resolve_region_rules(state) != 0) {
		snprintf(err, errlen, "out of memory resolving mirror rules");
		goto fail;
	}
	if (config->upstream_rules_file &&
	    upstream_rules_load_file(&state->upstreams, config->upstream_rules_file, err, errlen) !=
		0)
		goto fail;
	if (!(state->table = range_table_build(&state->ranges))) {
		snprintf(err, errlen, "out of memory building the range table");
		goto fail;
	}
	/* Parsing the provider JSON peaks at tens of MB that glibc keeps in its
	 * arenas after free(); hand it back so RSS reflects what is live. */
	malloc_trim(0);
	return state;
fail:
	state_free(state);
	return NULL;
}

void serve_state_release(struct serve_state *state)
{
	if (state && atomic_fetch_sub_explicit(&state->refs, 1, memory_order_acq_rel) == 1)
		state_free(state);
}

void serve_state_choose_blob(const struct serve_state *state, uint32_t region_id,
			     const char *digest, struct blob_choice *out)
{
	const struct region_name *name = region_table_get(&state->regions, region_id);
	out->cloud = name ? name->cloud : NULL;
	out->region = name ? name->region : NULL;
	out->use_mirror = false;
	out->mirror_url[0] = '\0';
	uint32_t rule_index = name && region_id < state->regions.count ? region_id : REGION_NONE;
	const struct mirror_rule *rule = state->rule_of_region[rule_index];
	out->mirror_id = state->mirror_id_of_region[rule_index];
	if (!rule || !rule->base_url)
		return;
	static const char middle[] = "/containers/images/";
	size_t base_len = strlen(rule->base_url), digest_len = strlen(digest);
	/* Cannot happen with rules as parsed (see the assertion above); kept so
	 * that a URL which does not fit is never half-used. */
	if (base_len + sizeof(middle) - 1 + digest_len >= sizeof(out->mirror_url))
		return;
	char *p = out->mirror_url;
	memcpy(p, rule->base_url, base_len);
	memcpy(p + base_len, middle, sizeof(middle) - 1);
	memcpy(p + base_len + sizeof(middle) - 1, digest, digest_len + 1);
	out->use_mirror = true;
}

const char *serve_state_choose_upstream(const struct serve_state *state, uint32_t region_id)
{
	const struct region_name *name = region_table_get(&state->regions, region_id);
	const struct mirror_rule *rule = mirror_rules_select(
	    &state->upstreams, name ? name->cloud : NULL, name ? name->region : NULL);
	return rule ? rule->base_url : NULL;
}

static void state_ref(void *state)
{
	atomic_fetch_add_explicit(&((struct serve_state *)state)->refs, 1, memory_order_relaxed);
}

static void state_release(void *state)
{
	serve_state_release(state);
}

void state_holder_init(struct state_holder *holder, struct serve_state *initial)
{
	snapshot_holder_init(&holder->snap, initial, state_ref, state_release);
}

void state_holder_publish(struct state_holder *holder, struct serve_state *next)
{
	snapshot_holder_publish(&holder->snap, next);
}

struct serve_state *state_holder_acquire(struct state_holder *holder, unsigned *generation)
{
	return snapshot_holder_acquire(&holder->snap, generation);
}

void state_holder_destroy(struct state_holder *holder)
{
	snapshot_holder_destroy(&holder->snap);
}
