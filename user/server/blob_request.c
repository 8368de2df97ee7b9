#include "blob_request.h"

#include <stdlib.h>
#include <string.h>

#include "archeio/server/serve_state.h"
#include "request_log.h"
#include "request_metrics.h"
#include "route_response.h"

/* How a blob request is answered once the mirror's answer is known. */
struct blob_answer {
	const struct request_handler *handler;
	struct request_reply reply;
	const struct request_log_text *text; /* NULL: the access log is off */
	const char *cloud;
	const char *region;
	uint32_t region_id; /* for the metrics */
	bool head;
	bool keep_alive;
};

/* What a blob request needs when its mirror check answers later. */
struct pending_blob {
	struct blob_answer answer;
	struct serve_state *state; /* held so cloud and region stay valid */
	char *upstream;		   /* points into urls */
	char *mirror;		   /* points into urls */
	struct request_log_text text;
	char urls[]; /* upstream URL, NUL, mirror URL, NUL */
};

static void answer_blob(const struct blob_answer *a, const char *mirror, const char *upstream,
			bool present)
{
	struct response resp = {
	    .status = 307,
	    .location = present ? mirror : upstream,
	    .api_version = true,
	    .keep_alive = a->keep_alive,
	    .head = a->head,
	};
	request_metrics_blob(a->handler, 307, true, a->region_id, present);
	request_log_reply(a->handler, &a->reply, &resp, a->text, a->cloud, a->region);
}

static void on_mirror_checked(void *arg, bool present)
{
	struct pending_blob *p = arg;
	answer_blob(&p->answer, p->mirror, p->upstream, present);
	serve_state_release(p->state);
	free(p);
}

/* Sized to the two URLs: a pending check should not pin 10 KiB. NULL when
 * memory ran out. */
static struct pending_blob *pending_new(const char *upstream, const char *mirror)
{
	size_t upstream_len = strlen(upstream), mirror_len = strlen(mirror);
	struct pending_blob *p = malloc(sizeof(*p) + upstream_len + mirror_len + 2);
	if (!p)
		return NULL;
	p->upstream = p->urls;
	p->mirror = p->urls + upstream_len + 1;
	memcpy(p->upstream, upstream, upstream_len + 1);
	memcpy(p->mirror, mirror, mirror_len + 1);
	return p;
}

static void ask_mirror(struct serve_state *state, const struct blob_answer *a, const char *upstream,
		       const char *mirror, const struct mirror_cache_key *key)
{
	const struct request_handler *handler = a->handler;
	struct pending_blob *p = pending_new(upstream, mirror);
	if (!p) {
		struct response resp = {.status = 503, .message = "out of memory", .head = a->head};
		request_metrics_blob(handler, 503, false, a->region_id, false);
		request_log_reply(handler, &a->reply, &resp, a->text, a->cloud, a->region);
		return;
	}
	atomic_fetch_add_explicit(&state->refs, 1, memory_order_relaxed);
	p->answer = *a;
	p->state = state;
	if (a->text) {
		p->text = *a->text;
		p->answer.text = &p->text;
	}
	/* May answer before returning (cached): p is gone then. */
	handler->mirror.check(handler->mirror.ctx, key, p->mirror, on_mirror_checked, p);
}

void blob_request_handle(const struct request_handler *handler, struct serve_state *state,
			 const struct routed_request *routed, struct request_log_text *text,
			 const struct request_reply *reply)
{
	if (!client_place_addr(handler, routed)) {
		request_metrics_blob(handler, 400, false, REGION_NONE, false);
		client_place_refuse(handler, routed, text, reply);
		return;
	}
	uint32_t region_id = client_place_region(handler, state, routed);
	const struct client_place *place = routed->place;
	struct blob_choice choice;
	const char *digest = routed->route->digest;
	serve_state_choose_blob(state, region_id, digest, &choice);
	if (text)
		ip_format(&place->addr, text->client, sizeof(text->client));
	/* The router let only valid digests through, so the key is always made;
	 * if it were not, the upstream is the answer that needs no cache. */
	struct mirror_cache_key key;
	if (!choice.use_mirror ||
	    !mirror_cache_key_digest(&key, choice.mirror_id, digest, strlen(digest))) {
		struct response resp;
		response_from_route(routed->route, routed->head, routed->keep_alive, &resp);
		request_metrics_blob(handler, resp.status, resp.status == 307, region_id, false);
		request_log_reply(handler, reply, &resp, text, choice.cloud, choice.region);
		return;
	}
	struct blob_answer answer = {
	    .handler = handler,
	    .reply = *reply,
	    .text = text,
	    .cloud = choice.cloud,
	    .region = choice.region,
	    .region_id = region_id,
	    .head = routed->head,
	    .keep_alive = routed->keep_alive,
	};
	/* A cached answer (almost every request) needs no pending record. */
	int cached =
	    handler->mirror.cached ? handler->mirror.cached(handler->mirror.ctx, &key) : -1;
	if (cached >= 0)
		answer_blob(&answer, choice.mirror_url, routed->route->location, cached == 1);
	else
		ask_mirror(state, &answer, routed->route->location, choice.mirror_url, &key);
}
