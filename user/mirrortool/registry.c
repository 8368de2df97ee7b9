#include "registry.h"
#include "auth.h"
#include "auth_file.h"
#include "link.h"
#include "manifest.h"
#include "url.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKEN_BODY (64 * 1024)
#define MAX_LIST_BODY (8 * 1024 * 1024)

struct token_entry {
	char *repo;  /* "" for registry-wide requests */
	char *token; /* the whole Authorization value: "Bearer ..." or "Basic ..." */
};

struct registry {
	char *base;
	char *host; /* host[:port], the registry's name in messages */
	struct http_client *http;
	struct registry_credentials creds; /* all NULL: anonymous */
	pthread_mutex_t lock;		   /* guards tokens */
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
	/* cli_parse() takes only http(s) URLs with a host, so a failed split
	 * is out of memory (not a reason to name the registry by its URL). */
	char *path = NULL;
	if (!url_split(base_url, &r->host, &path)) {
		free(r->base);
		free(r);
		return NULL;
	}
	free(path);
	r->http = http;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

const char *registry_host(const struct registry *r)
{
	return r->host;
}

bool registry_set_credentials(struct registry *r, const struct registry_credentials *c)
{
	registry_credentials_free(&r->creds);
	const char *from[] = {c->username, c->password, c->identity_token};
	char **to[] = {&r->creds.username, &r->creds.password, &r->creds.identity_token};
	for (size_t i = 0; i < 3; i++)
		if (from[i] && !(*to[i] = strdup(from[i]))) {
			registry_credentials_free(&r->creds);
			return false;
		}
	return true;
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
	registry_credentials_free(&r->creds);
	free(r->host);
	free(r->base);
	free(r);
}

void registry_free_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

/* The Authorization value for repo: its own, else the registry-wide one
 * when that is Basic (the same credentials serve every repository, so
 * each need not be refused once first). */
static char *token_lookup(struct registry *r, const char *repo)
{
	const char *own = NULL, *wide = NULL;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->token_count; i++) {
		if (strcmp(r->tokens[i].repo, repo) == 0)
			own = r->tokens[i].token;
		else if (!*r->tokens[i].repo && strncmp(r->tokens[i].token, "Basic ", 6) == 0)
			wide = r->tokens[i].token;
	}
	char *copy = own ? strdup(own) : wide ? strdup(wide) : NULL;
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

/* "Basic base64(user:password)" (heap), or NULL without a username. */
static char *basic_authorization(const struct registry_credentials *c)
{
	if (!c->username || !c->password)
		return NULL;
	size_t plain_len = strlen(c->username) + 1 + strlen(c->password);
	char *plain = malloc(plain_len + 1);
	char *value = malloc(sizeof("Basic ") + (plain_len + 2) / 3 * 4);
	if (plain && value) {
		snprintf(plain, plain_len + 1, "%s:%s", c->username, c->password);
		strcpy(value, "Basic ");
		EVP_EncodeBlock((unsigned char *)value + 6, (const unsigned char *)plain,
				(int)plain_len);
	} else {
		free(value);
		value = NULL;
	}
	if (plain)
		memset(plain, 0, plain_len);
	free(plain);
	return value;
}

/* The form of an OAuth2 refresh-token grant, as docker sends an
 * identitytoken to a token endpoint. */
static char *refresh_form(const struct auth_challenge *c, const char *scope, const char *token)
{
	const char *values[] = {token, c->service ? c->service : "", scope ? scope : ""};
	char *encoded[3] = {NULL, NULL, NULL};
	size_t len = 128;
	bool ok = true;
	for (size_t i = 0; i < 3 && ok; i++) {
		ok = (encoded[i] = url_encode(values[i], false)) != NULL;
		len += ok ? strlen(encoded[i]) : 0;
	}
	char *form = ok ? malloc(len) : NULL;
	if (form)
		snprintf(form, len,
			 "grant_type=refresh_token&client_id=archeio-mirror&refresh_token=%s"
			 "&service=%s&scope=%s",
			 encoded[0], encoded[1], encoded[2]);
	for (size_t i = 0; i < 3; i++)
		free(encoded[i]);
	return form;
}

/* Asks the challenge's token endpoint for a token: a GET (with Basic
 * credentials when there are some), or a POST of the identity token. */
static bool request_token(struct registry *r, CURL *easy, const struct auth_challenge *c,
			  const char *scope, struct http_response *resp)
{
	char *url = r->creds.identity_token ? strdup(c->realm) : auth_token_url(c, scope);
	char *form =
	    r->creds.identity_token ? refresh_form(c, scope, r->creds.identity_token) : NULL;
	char *basic = basic_authorization(&r->creds);
	char *line = basic ? malloc(strlen(basic) + sizeof("Authorization: ")) : NULL;
	struct curl_slist *headers = NULL;
	if (line) {
		sprintf(line, "Authorization: %s", basic);
		headers = curl_slist_append(NULL, line);
		memset(line, 0, strlen(line));
	}
	bool ready = url && (!r->creds.identity_token || form) && (!basic || headers);
	struct http_request req = {.method = form ? "POST" : "GET",
				   .url = url,
				   .headers = headers,
				   .post_form = form,
				   .rate_limited = true,
				   .follow_redirects = true,
				   .max_body = MAX_TOKEN_BODY};
	memset(resp, 0, sizeof(*resp));
	bool ok = ready && http_perform(r->http, easy, &req, resp);
	if (!ready)
		snprintf(resp->error, sizeof(resp->error), "out of memory");
	curl_slist_free_all(headers);
	free(line);
	if (basic)
		memset(basic, 0, strlen(basic));
	free(basic);
	if (form)
		memset(form, 0, strlen(form));
	free(form);
	free(url);
	return ok;
}

/* Stores "Basic ..." for a registry that asks for Basic auth. */
static bool use_basic(struct registry *r, const char *repo, char *err, size_t errlen)
{
	char *basic = basic_authorization(&r->creds);
	if (!basic) {
		snprintf(err, errlen,
			 "registry %s asks for a username and password: give them in --auth-file "
			 "(or REGISTRY_AUTH_FILE)",
			 r->host);
		return false;
	}
	token_store(r, repo, basic);
	memset(basic, 0, strlen(basic));
	free(basic);
	return true;
}

/* Fetches a token for the bearer challenge c and stores "Bearer ...". */
static bool use_bearer(struct registry *r, CURL *easy, const char *repo, struct auth_challenge *c,
		       const char *challenged_url, char *err, size_t errlen)
{
	char default_scope[512];
	snprintf(default_scope, sizeof(default_scope), "repository:%s:pull", repo);
	const char *scope = c->scope ? c->scope : *repo ? default_scope : NULL;
	if (!auth_challenge_resolve_realm(c, challenged_url)) {
		snprintf(err, errlen, "registry %s: bearer challenge without a usable realm",
			 r->host);
		return false;
	}
	struct http_response resp;
	bool ok = request_token(r, easy, c, scope, &resp) && resp.status == 200;
	char *token = ok ? auth_token_from_json(resp.body, resp.body_len) : NULL;
	char *value = token ? malloc(strlen(token) + sizeof("Bearer ")) : NULL;
	if (resp.status == 401 || resp.status == 403)
		snprintf(err, errlen, "registry %s: token endpoint %s refused the %s (HTTP %ld)",
			 r->host, c->realm,
			 r->creds.username || r->creds.identity_token ? "credentials"
								      : "anonymous request",
			 resp.status);
	else if (!ok)
		describe_failure(&resp, "token request", err, errlen);
	else if (!token)
		snprintf(err, errlen, "token endpoint %s answered without a token", c->realm);
	if (value) {
		sprintf(value, "Bearer %s", token);
		token_store(r, repo, value);
	}
	bool stored = value != NULL;
	free(value);
	free(token);
	http_response_free(&resp);
	return stored;
}

/* Answers a 401's challenge: Basic credentials, or a fresh bearer token.
 * True when an Authorization value was stored for repo. */
static bool authorize(struct registry *r, CURL *easy, const char *repo, const char *challenged_url,
		      const char *challenge, char *err, size_t errlen)
{
	struct auth_challenge c;
	if (!auth_challenge_parse(challenge, &c, err, errlen))
		return false;
	bool ok;
	if (auth_challenge_is_bearer(&c))
		ok = use_bearer(r, easy, repo, &c, challenged_url, err, errlen);
	else if (c.scheme && strcasecmp(c.scheme, "Basic") == 0)
		ok = use_basic(r, repo, err, errlen);
	else {
		snprintf(err, errlen,
			 "registry %s asks for %s auth; only Basic and bearer tokens "
			 "are supported",
			 r->host, c.scheme);
		ok = false;
	}
	auth_challenge_free(&c);
	return ok;
}

/* A 401 right after fresh credentials or a fresh token: retrying cannot
 * help, so the run says plainly which registry refused what. */
static void refused_after_fresh(const struct registry *r, const char *repo, char *err,
				size_t errlen)
{
	const char *what = *repo ? repo : "the registry";
	if (r->creds.username || r->creds.identity_token)
		snprintf(err, errlen,
			 "registry %s refused the credentials from the auth file for %s (HTTP 401 "
			 "after fresh credentials)",
			 r->host, what);
	else
		snprintf(err, errlen,
			 "registry %s refused anonymous access to %s (HTTP 401 after a fresh "
			 "token); give credentials with --auth-file",
			 r->host, what);
}

/* GET (or HEAD) url with the cached token for repo; on a 401 bearer
 * challenge fetches a token and tries once more. resp is the final answer,
 * emptied first: every caller frees it, also when no request was made. */
static bool authed_get(struct registry *r, CURL *easy, const char *repo, const char *url,
		       const char *accept, const struct http_sink *sink, size_t max_body,
		       struct http_response *resp, char *err, size_t errlen)
{
	memset(resp, 0, sizeof(*resp));
	for (int round = 0;; round++) { /* the second round always returns */
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
				sprintf(auth, "Authorization: %s", token);
				ok = (h = curl_slist_append(headers, auth)) != NULL;
				headers = ok ? h : headers;
				memset(auth, 0, strlen(auth));
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
		if (resp->status == 401 && round == 1) {
			refused_after_fresh(r, repo, err, errlen);
			return false;
		}
		if (resp->status != 401 || !resp->www_authenticate)
			return true;
		char *challenge = strdup(resp->www_authenticate);
		http_response_free(resp);
		bool fetched = challenge && authorize(r, easy, repo, url, challenge, err, errlen);
		free(challenge);
		if (!fetched)
			return false;
	}
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
	/* A next page that cannot be followed is an error, never the end of
	 * the list: a mirror run would miss every tag after it. */
	char *target = NULL;
	*next = NULL;
	if (ok && resp.link) {
		errno = 0;
		target = link_next_target(resp.link);
		if (!target && errno == ENOMEM) {
			snprintf(err, errlen, "out of memory");
			ok = false;
		} else if (target && !(*next = url_resolve(url, target))) {
			snprintf(err, errlen, "%s: cannot follow the next page's link <%s>", url,
				 target);
			ok = false;
		}
	}
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
