#include "limits_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/strlist.h"
#include "archeio/server/config.h"

bool limits_values_merge(const struct config *config, const struct limits_file *file,
			 struct limits_values *out)
{
	memset(out, 0, sizeof(*out));
	out->value[LIMITS_RATE_LIMIT] = config->rate_limit;
	out->value[LIMITS_RATE_BURST] = config->rate_burst;
	out->value[LIMITS_V6_PREFIX] = config->rate_limit_v6_prefix;
	out->value[LIMITS_SYN_LIMIT] = config->xdp_syn_limit;
	out->value[LIMITS_SYN_BURST] = config->xdp_syn_burst;
	char *const *exempt = config->rate_limit_exempt;
	size_t exempt_count = config->rate_limit_exempt_count;
	if (file) {
		for (int k = 0; k < LIMITS_KEY_COUNT; k++)
			if (file->has[k] && k != LIMITS_EXEMPT)
				out->value[k] = file->value[k];
		if (file->has[LIMITS_EXEMPT]) {
			exempt = file->exempt;
			exempt_count = file->exempt_count;
		}
	}
	for (size_t i = 0; i < exempt_count; i++) {
		if (!strlist_append(&out->exempt, &out->exempt_count, exempt[i])) {
			limits_values_free(out);
			return false;
		}
	}
	return true;
}

void limits_values_free(struct limits_values *v)
{
	strlist_free(&v->exempt, &v->exempt_count);
}

static bool listed(char *const *list, size_t count, const char *entry)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i], entry) == 0)
			return true;
	return false;
}

/* Appends to out at *o, never past cap (snprintf truncates). */
static void put(char *out, size_t cap, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *out, size_t cap, size_t *o, const char *fmt, ...)
{
	if (*o >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *o, cap - *o, fmt, ap);
	va_end(ap);
	*o = n < 0 ? cap : *o + (size_t)n;
}

/* The exempt entries one list has and the other not, each with its sign. */
static void describe_exempt(const struct limits_values *from, const struct limits_values *to,
			    char sign, char *out, size_t cap, size_t *o)
{
	for (size_t i = 0; i < to->exempt_count; i++)
		if (!listed(from->exempt, from->exempt_count, to->exempt[i]))
			put(out, cap, o, " %c%s", sign, to->exempt[i]);
}

void limits_values_describe_changes(const struct limits_values *old,
				    const struct limits_values *new, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (int k = 0; k < LIMITS_KEY_COUNT; k++)
		if (k != LIMITS_EXEMPT && old->value[k] != new->value[k])
			put(out, cap, &o, "%s%s %u -> %u", o ? ", " : "", limits_key_name(k),
			    (unsigned)old->value[k], (unsigned)new->value[k]);
	size_t before = o;
	put(out, cap, &o, "%s%s", o ? ", " : "", limits_key_name(LIMITS_EXEMPT));
	size_t named = o;
	describe_exempt(old, new, '+', out, cap, &o);
	describe_exempt(new, old, '-', out, cap, &o);
	if (o == named && before < cap) /* no exempt change: take the key name back */
		out[before] = '\0';
}

/* The buckets: the previous snapshot's when it has some of the same key
 * shape, else a new table. */
static int make_buckets(struct limits_state *s, const struct limits_state *previous, size_t entries)
{
	const uint32_t *v = s->values.value;
	if (previous && previous->rate_on &&
	    previous->buckets.table->v6_prefix == v[LIMITS_V6_PREFIX]) {
		rate_limiter_share(&s->buckets, v[LIMITS_RATE_LIMIT], v[LIMITS_RATE_BURST],
				   &previous->buckets);
		return 0;
	}
	return rate_limiter_init(&s->buckets, v[LIMITS_RATE_LIMIT], v[LIMITS_RATE_BURST], entries,
				 v[LIMITS_V6_PREFIX]);
}

struct limits_state *limits_state_make(struct limits_values *values,
				       const struct limits_state *previous, size_t entries,
				       uint64_t (*now_ns)(void), char *err, size_t errlen)
{
	struct limits_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		limits_values_free(values);
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->values = *values;
	memset(values, 0, sizeof(*values));
	if (!rate_exempt_parse(&s->exempt, s->values.exempt, s->values.exempt_count, err, errlen)) {
		limits_state_release(s);
		return NULL;
	}
	s->rate_on = s->values.value[LIMITS_RATE_LIMIT] > 0;
	if (s->rate_on && make_buckets(s, previous, entries) != 0) {
		snprintf(err, errlen, "out of memory for %zu rate-limit buckets", entries);
		s->rate_on = false;
		limits_state_release(s);
		return NULL;
	}
	s->limits =
	    (struct request_limits){.buckets = &s->buckets, .exempt = &s->exempt, .now_ns = now_ns};
	return s;
}

void limits_state_release(struct limits_state *state)
{
	if (!state || atomic_fetch_sub_explicit(&state->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (state->rate_on)
		rate_limiter_free(&state->buckets);
	rate_exempt_free(&state->exempt);
	limits_values_free(&state->values);
	free(state);
}

const struct request_limits *limits_state_request_limits(const struct limits_state *state)
{
	return state && state->rate_on ? &state->limits : NULL;
}

static void ref_state(void *s)
{
	struct limits_state *state = s;
	atomic_fetch_add_explicit(&state->refs, 1, memory_order_relaxed);
}

static void release_state(void *s)
{
	limits_state_release(s);
}

void limits_holder_init(struct limits_holder *holder, struct limits_state *initial)
{
	snapshot_holder_init(&holder->snap, initial, ref_state, release_state);
}

void limits_holder_publish(struct limits_holder *holder, struct limits_state *next)
{
	snapshot_holder_publish(&holder->snap, next);
}

struct limits_state *limits_holder_acquire(struct limits_holder *holder, unsigned *generation)
{
	return snapshot_holder_acquire(&holder->snap, generation);
}

void limits_holder_destroy(struct limits_holder *holder)
{
	snapshot_holder_destroy(&holder->snap);
}
