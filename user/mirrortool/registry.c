#include "registry.h"
#include "auth.h"
#include "link.h"
#include "manifest.h"
#include "url.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN_BODY (64 * 1024)
#define MAX_LIST_BODY (8 * 1024 * 1024)

struct token_entry {
	char *repo; /* "" for registry-wide requests */
	char *token;
};

struct registry {
	char *base;
	struct http_client *http;
	pthread_mutex_t lock; /* guards tokens */
	struct token_entry *tokens;
	size_t token_count;
};

struct registry *registry_new(const char *base_url, struct http_client *http)
{
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->base = strdup(base_url);
	if (!r->base) {
		free(r);
		return NULL;
	}
	r->http = http;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->token_count; i++) {
		free(r->tokens[i].repo);
		free(r->tokens[i].token);
	}
	free(r->tokens);
	pthread_mutex_destroy(&r->lock);
	free(r->base);
	free(r);
}

void registry_free_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

static char *token_lookup(struct registry *r, const char *repo)
{
	char *copy = NULL;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->token_count; i++)
		if (strcmp(r->tokens[i].repo, repo) == 0) {
			copy = strdup(r->tokens[i].token);
			break;
		}
	pthread_mutex_unlock(&r->lock);
	return copy;
}

static void token_store(struct registry *r, const char *repo, const char *token)
{
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->token_count; i++)
		if (strcmp(r->tokens[i].repo, repo) == 0) {
			char *copy = strdup(token);
			if (copy) {
				free(r->tokens[i].token);
				r->tokens[i].token = copy;
			}
			pthread_mutex_unlock(&r->lock);
			return;
		}
	struct token_entry *grown = realloc(r->tokens, (r->token_count + 1) * sizeof(*grown));
	if (grown) {
		r->tokens = grown;
		grown[r->token_count].repo = strdup(repo);
		grown[r->token_count].token = strdup(token);
		if (grown[r->token_count].repo && grown[r->token_count].token)
			r->token_count++;
		else {
			free(grown[r->token_count].repo);
			free(grown[r->token_count].token);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

static void describe_failure(const struct http_response *resp, const char *what, char *err,
			     size_t errlen)
{
	if (resp->status == 0)
		snprintf(err, errlen, "%s: %s (after %u attempts)", what, resp->error,
			 resp->attempts);
	else if (resp->error[0])
		snprintf(err, errlen, "%s: HTTP %ld: %s", what, resp->status, resp->error);
	else
		snprintf(err, errlen, "%s: HTTP %ld%s%.200s", what, resp->status,
			 resp->body_len ? ": " : "", resp->body_len ? resp->body : "");
	/* Error bodies may hold newlines; a failure is reported on one line. */
	for (char *p = err; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* Fetches a token for the challenge; true when one was stored. */
static bool fetch_token(struct registry *r, CURL *easy, const char *repo,
			const char *challenged_url, const char *challenge, char *err, size_t errlen)
{
	struct auth_challenge c;
	if (!auth_challenge_parse(challenge, &c, err, errlen))
		return false;
	if (!auth_challenge_is_bearer(&c)) {
		snprintf(err, errlen,
			 "registry asks for %s auth; only anonymous bearer-token pulls are "
			 "supported",
			 c.scheme);
		auth_challenge_free(&c);
		return false;
	}
	char default_scope[512];
	snprintf(default_scope, sizeof(default_scope), "repository:%s:pull", repo);
	char *url = auth_challenge_resolve_realm(&c, challenged_url)
			? auth_token_url(&c, *repo ? default_scope : NULL)
			: NULL;
	auth_challenge_free(&c);
	if (!url) {
		snprintf(err, errlen, "bearer challenge without a usable realm: %.200s", challenge);
		return false;
	}
	struct http_request req = {.method = "GET",
				   .url = url,
				   .rate_limited = true,
				   .follow_redirects = true,
				   .max_body = MAX_TOKEN_BODY};
	struct http_response resp;
	bool ok = http_perform(r->http, easy, &req, &resp) && resp.status == 200;
	char *token = ok ? auth_token_from_json(resp.body, resp.body_len) : NULL;
	if (!ok)
		describe_failure(&resp, "token request", err, errlen);
	else if (!token)
		snprintf(err, errlen, "token endpoint %s answered without a token", url);
	else
		token_store(r, repo, token);
	bool stored = ok && token;
	free(token);
	free(url);
	http_response_free(&resp);
	return stored;
}

/* GET (or HEAD) url with the cached token for repo; on a 401 bearer
 * challenge fetches a token and tries once more. resp is the final answer. */
static bool authed_get(struct registry *r, CURL *easy, const char *repo, const char *url,
		       const char *accept, const struct http_sink *sink, size_t max_body,
		       struct http_response *resp, char *err, size_t errlen)
{
	for (int round = 0; round < 2; round++) {
		struct curl_slist *headers = NULL, *h;
		char line[4096];
		char *token = token_lookup(r, repo);
		bool ok = true;
		if (accept) {
			snprintf(line, sizeof(line), "Accept: %s", accept);
			ok = (h = curl_slist_append(headers, line)) != NULL;
			headers = ok ? h : headers;
		}
		if (ok && token) {
			char *auth = malloc(strlen(token) + 32);
			ok = auth != NULL;
			if (ok) {
				sprintf(auth, "Authorization: Bearer %s", token);
				ok = (h = curl_slist_append(headers, auth)) != NULL;
				headers = ok ? h : headers;
				free(auth);
			}
		}
		free(token);
		if (!ok) {
			curl_slist_free_all(headers);
			snprintf(err, errlen, "out of memory");
			return false;
		}
		struct http_request req = {.method = "GET",
					   .url = url,
					   .headers = headers,
					   .sink = sink,
					   .rate_limited = true,
					   .follow_redirects = true,
					   .max_body = max_body};
		bool got = http_perform(r->http, easy, &req, resp);
		curl_slist_free_all(headers);
		if (!got) {
			describe_failure(resp, url, err, errlen);
			return false;
		}
		if (resp->status != 401 || round == 1 || !resp->www_authenticate)
			return true;
		char *challenge = strdup(resp->www_authenticate);
		http_response_free(resp);
		bool fetched = challenge && fetch_token(r, easy, repo, url, challenge, err, errlen);
		free(challenge);
		if (!fetched)
			return false;
	}
	return true;
}

bool registry_ping(struct registry *r, CURL *easy, char *err, size_t errlen)
{
	char url[2048];
	snprintf(url, sizeof(url), "%s/v2/", r->base);
	struct http_response resp;
	bool ok = authed_get(r, easy, "", url, NULL, NULL, 64 * 1024, &resp, err, errlen);
	if (ok && resp.status != 200) {
		describe_failure(&resp, url, err, errlen);
		ok = false;
	}
	http_response_free(&resp);
	return ok;
}

static bool append_strings(json_t *array, char ***list, size_t *count)
{
	size_t n = json_array_size(array);
	char **grown = realloc(*list, (*count + n + 1) * sizeof(**list));
	if (!grown)
		return false;
	*list = grown;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(array, i));
		if (!s)
			continue;
		grown[*count] = strdup(s);
		if (!grown[*count])
			return false;
		(*count)++;
	}
	return true;
}

/* A list being gathered page by page. */
struct paged {
	const char *repo; /* whose token is used; "" for _catalog */
	const char *key;  /* the answer's list member: "tags" or "repositories" */
	char **items;
	size_t count;
};

/* Adds the strings of one page's JSON answer to the list. */
static bool append_page(struct paged *list, const struct http_response *resp, const char *url,
			char *err, size_t errlen)
{
	json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
	json_t *array = json_object_get(root, list->key);
	bool ok = false;
	if (!json_is_object(root))
		snprintf(err, errlen, "%s: answer is not a JSON object", url);
	else if (array && !json_is_array(array) && !json_is_null(array))
		/* A repository without tags answers "tags": null. */
		snprintf(err, errlen, "%s: \"%s\" is not a list", url, list->key);
	else if (json_is_array(array) && !append_strings(array, &list->items, &list->count))
		snprintf(err, errlen, "out of memory");
	else
		ok = true;
	json_decref(root);
	return ok;
}

/* GETs one page into the list; *next is the absolute URL of the following
 * page (Link rel="next"), NULL after the last one or on failure. */
static bool fetch_page(struct registry *r, CURL *easy, struct paged *list, const char *url,
		       char **next, char *err, size_t errlen)
{
	struct http_response resp;
	bool ok = authed_get(r, easy, list->repo, url, "application/json", NULL, MAX_LIST_BODY,
			     &resp, err, errlen);
	if (ok && resp.status != 200) {
		describe_failure(&resp, url, err, errlen);
		ok = false;
	}
	ok = ok && append_page(list, &resp, url, err, errlen);
	char *target = ok && resp.link ? link_next_target(resp.link) : NULL;
	*next = target ? url_resolve(url, target) : NULL;
	free(target);
	http_response_free(&resp);
	return ok;
}

/* GETs a paginated list (tags or repositories), following Link rel="next". */
static bool paged_list(struct registry *r, CURL *easy, const char *repo, const char *first_url,
		       const char *key, char ***out, size_t *count, char *err, size_t errlen)
{
	struct paged list = {.repo = repo, .key = key};
	char *url = strdup(first_url);
	bool ok = url != NULL;
	for (unsigned page = 0; ok && url && page < REGISTRY_MAX_PAGES; page++) {
		char *next = NULL;
		ok = fetch_page(r, easy, &list, url, &next, err, errlen);
		free(url);
		url = next;
	}
	if (ok && url) {
		snprintf(err, errlen, "%s: more than %d pages", first_url, REGISTRY_MAX_PAGES);
		ok = false;
	}
	free(url);
	if (!ok) {
		registry_free_list(list.items, list.count);
		list.items = NULL;
		list.count = 0;
	}
	*out = list.items;
	*count = list.count;
	return ok;
}

bool registry_tags(struct registry *r, CURL *easy, const char *repo, char ***tags, size_t *count,
		   char *err, size_t errlen)
{
	char url[2048];
	snprintf(url, sizeof(url), "%s/v2/%s/tags/list", r->base, repo);
	return paged_list(r, easy, repo, url, "tags", tags, count, err, errlen);
}

bool registry_catalog(struct registry *r, CURL *easy, char ***repos, size_t *count, char *err,
		      size_t errlen)
{
	char url[2048];
	snprintf(url, sizeof(url), "%s/v2/_catalog", r->base);
	return paged_list(r, easy, "", url, "repositories", repos, count, err, errlen);
}

void fetched_manifest_free(struct fetched_manifest *m)
{
	free(m->body);
	free(m->content_type);
	memset(m, 0, sizeof(*m));
}

static bool check_manifest_digest(const char *ref, const struct fetched_manifest *m, char *err,
				  size_t errlen)
{
	struct digest_ref expected;
	if (!strchr(ref, ':'))
		return true;
	if (!digest_parse(ref, &expected)) {
		snprintf(err, errlen, "bad digest reference %s", ref);
		return false;
	}
	struct digest_verifier *v = digest_verifier_new(&expected);
	char actual[DIGEST_TEXT_MAX];
	bool ok = v && digest_verifier_update(v, m->body, m->len) &&
		  digest_verifier_finish(v, actual, NULL);
	digest_verifier_free(v);
	if (!ok)
		snprintf(err, errlen, "manifest %s: content does not match its digest", ref);
	return ok;
}

bool registry_manifest(struct registry *r, CURL *easy, const char *repo, const char *ref,
		       struct fetched_manifest *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char url[2048];
	snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->base, repo, ref);
	struct http_response resp;
	if (!authed_get(r, easy, repo, url, MANIFEST_ACCEPT, NULL, REGISTRY_MAX_MANIFEST, &resp,
			err, errlen)) {
		http_response_free(&resp);
		return false;
	}
	if (resp.status != 200) {
		describe_failure(&resp, url, err, errlen);
		http_response_free(&resp);
		return false;
	}
	out->body = resp.body ? resp.body : strdup("");
	out->len = resp.body_len;
	out->content_type = resp.content_type;
	resp.body = NULL;
	resp.content_type = NULL;
	digest_sha256_text(out->body ? out->body : "", out->len, out->digest);
	/* The registry's own claim, when sha256, must agree with the bytes. */
	const char *claimed = resp.docker_content_digest;
	bool ok = out->body && check_manifest_digest(ref, out, err, errlen);
	if (ok && claimed && strncmp(claimed, "sha256:", 7) == 0 && strcmp(claimed, out->digest)) {
		snprintf(err, errlen, "manifest %s@%s: Docker-Content-Digest %s but content is %s",
			 repo, ref, claimed, out->digest);
		ok = false;
	}
	if (ok && strchr(ref, ':'))
		snprintf(out->digest, sizeof(out->digest), "%s", ref);
	http_response_free(&resp);
	if (!ok)
		fetched_manifest_free(out);
	return ok;
}

bool registry_blob(struct registry *r, CURL *easy, const char *repo, const char *digest,
		   const struct http_sink *sink, char *err, size_t errlen)
{
	char url[2048];
	snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", r->base, repo, digest);
	struct http_response resp;
	bool ok = authed_get(r, easy, repo, url, NULL, sink, 0, &resp, err, errlen);
	if (ok && resp.status != 200) {
		describe_failure(&resp, url, err, errlen);
		ok = false;
	}
	http_response_free(&resp);
	return ok;
}
