#include "server_limits.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archeio/core/log.h"
#include "archeio/server/config.h"
#include "archeio/xdp/xdp_path.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The flags with the file's values on top: a new snapshot, or NULL with err. */
static struct limits_state *load(const struct server_limits *s, const struct limits_state *previous,
				 char *err, size_t errlen)
{
	const struct config *c = s->config;
	struct limits_file file;
	if (c->limits_file &&
	    limits_file_load(&file, c->limits_file, c->xdp_iface != NULL, err, errlen) != 0)
		return NULL;
	struct limits_values values;
	bool merged = limits_values_merge(c, c->limits_file ? &file : NULL, &values);
	if (c->limits_file)
		limits_file_free(&file);
	if (!merged) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return limits_state_make(&values, previous, c->rate_limit_entries, monotonic_ns, err,
				 errlen);
}

static void log_limits(const struct server_limits *s, const struct limits_state *state)
{
	const uint32_t *v = state->values.value;
	if (state->rate_on)
		log_msg(s->log, LOG_INFO,
			"rate limit: %u requests/s per client, burst %u, IPv6 per /%u, %zu buckets "
			"shared by the workers, %zu exempt ranges, %zu exempt clouds/regions",
			(unsigned)v[LIMITS_RATE_LIMIT], (unsigned)v[LIMITS_RATE_BURST],
			state->buckets.table->v6_prefix, state->buckets.table->mask + 1,
			state->exempt.prefix_count, state->exempt.place_count);
	else if (s->config->limits_file)
		log_msg(s->log, LOG_INFO, "rate limit: off (rate-limit 0)");
}

int server_limits_open(struct server_limits *s, const struct config *config,
		       const struct logger *log)
{
	char err[1024];
	memset(s, 0, sizeof(*s));
	s->config = config;
	s->log = log;
	struct limits_state *state = load(s, NULL, err, sizeof(err));
	if (!state) {
		log_msg(log, LOG_ERROR, "%s", err);
		return -1;
	}
	limits_holder_init(&s->holder, state);
	s->open = true;
	log_limits(s, state);
	return 0;
}

struct limits_state *server_limits_current(struct server_limits *s)
{
	return limits_holder_acquire(&s->holder, NULL);
}

int server_limits_syn_exempt(const struct limits_state *state, const struct config *config,
			     struct ip_prefix **out, size_t *count)
{
	const struct rate_exempt *exempt = &state->exempt;
	const struct trusted_proxies *proxies = &config->proxies;
	*count = exempt->prefix_count + proxies->count;
	*out = NULL;
	if (!*count)
		return 0;
	if (!(*out = calloc(*count, sizeof(**out))))
		return -1;
	if (exempt->prefix_count)
		memcpy(*out, exempt->prefixes, exempt->prefix_count * sizeof(**out));
	if (proxies->count)
		memcpy(*out + exempt->prefix_count, proxies->prefixes,
		       proxies->count * sizeof(**out));
	return 0;
}

/* The SYN limit and its exempt tries as state has them: the exempt set
 * first, so that a limit turned on never meets the old exemptions. */
static int apply_xdp(const struct server_limits *s, struct xdp_path *xdp,
		     const struct limits_state *state, char *err, size_t errlen)
{
	struct ip_prefix *exempt;
	size_t count;
	if (server_limits_syn_exempt(state, s->config, &exempt, &count) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const uint32_t *v = state->values.value;
	int rc = xdp_path_set_syn_exempt(xdp, exempt, count, err, errlen);
	if (rc == 0)
		rc = xdp_path_set_syn_limit(xdp, v[LIMITS_SYN_LIMIT], v[LIMITS_SYN_BURST], err,
					    errlen);
	free(exempt);
	return rc;
}

/* Applies next (XDP, then the workers' snapshot); on an XDP failure puts the
 * kernel maps back as current has them and keeps current. */
static int apply(struct server_limits *s, struct xdp_path *xdp, const struct limits_state *current,
		 struct limits_state *next, char *err, size_t errlen)
{
	if (xdp && apply_xdp(s, xdp, next, err, errlen) != 0) {
		char again[512];
		if (apply_xdp(s, xdp, current, again, sizeof(again)) != 0)
			log_msg(s->log, LOG_ERROR, "XDP: cannot restore the SYN limit: %s", again);
		limits_state_release(next);
		return -1;
	}
	limits_holder_publish(&s->holder, next);
	return 0;
}

void server_limits_reload(struct server_limits *s, struct xdp_path *xdp)
{
	char err[1024];
	if (!s->open || !s->config->limits_file)
		return;
	struct limits_state *current = server_limits_current(s);
	struct limits_state *next = load(s, current, err, sizeof(err));
	if (!next || apply(s, xdp, current, next, err, sizeof(err)) != 0) {
		s->reloads_failed++;
		log_msg(s->log, LOG_ERROR, "limits reload failed, keeping the last good limits: %s",
			err);
		limits_state_release(current);
		return;
	}
	s->reloads_ok++;
	char changes[1024];
	/* next is published: the holder keeps it alive while it is described. */
	limits_values_describe_changes(&current->values, &next->values, changes, sizeof(changes));
	log_msg(s->log, LOG_INFO, "limits reloaded from %s: %s", s->config->limits_file,
		changes[0] ? changes : "unchanged");
	if (changes[0])
		log_limits(s, next);
	limits_state_release(current);
}

void server_limits_close(struct server_limits *s)
{
	if (!s->open)
		return;
	limits_holder_destroy(&s->holder);
	s->open = false;
}
