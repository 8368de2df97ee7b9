/* Mirror HEAD checks on libcurl's multi interface, with curl's sockets and
 * timer driven by libevent events (curl's "multi-event" pattern), so a check
 * never blocks the event loop. The mirror_cache in front coalesces concurrent
 * checks of one URL and remembers answers. */
#include "archeio/mirrorcheck/mirror_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

/* Mirror origins probed per interval at most (rules name a few dozen). */
#define PROBE_ORIGINS_MAX 64

/* One HEAD request in flight. */
struct transfer {
	struct mirror_checker *checker;
	struct transfer *prev;
	struct transfer *next;
	CURL *easy;
	/* Set when the cache could not track the URL: this transfer answers its
	 * one caller directly instead of the cache's waiters. */
	mirror_check_fn uncached_fn;
	void *uncached_arg;
	char error[CURL_ERROR_SIZE]; /* curl's words for a failure, for the log */
	struct mirror_cache_key key; /* a text key's bytes follow url */
	char url[];
};

struct mirror_checker {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct mirror_cache *cache;
	struct transfer *transfers;
	uint32_t in_flight;
	uint32_t max_in_flight;
	long timeout_ms;
	char *ca_file;
	bool closing;
	struct event *probe_timer;
	struct timeval probe_interval;
	const struct logger *log;     /* NULL: checks are not logged */
	struct mirror_health *health; /* shared, or own_health */
	struct mirror_health *own_health;
	struct mirror_check_stats *stats; /* NULL: not counted */
};

/* A probe's own record: its URL and key outlive the cache entry they were
 * taken from (a text key's bytes follow url). */
struct probe {
	struct mirror_checker *checker;
	struct mirror_cache_key key;
	char url[];
};

/* Room after a record's URL for a copy of key's text. */
static size_t key_text_size(const struct mirror_cache_key *key)
{
	return key->kind == MIRROR_CACHE_KEY_TEXT ? key->len : 0;
}

/* Copies url and key into a record's url[] and key (text after the URL). */
static void keep_key_and_url(struct mirror_cache_key *kept, char *kept_url,
			     const struct mirror_cache_key *key, const char *url, size_t url_len)
{
	memcpy(kept_url, url, url_len + 1);
	*kept = *key;
	if (key->kind == MIRROR_CACHE_KEY_TEXT) {
		memcpy(kept_url + url_len + 1, key->text, key->len);
		kept->text = kept_url + url_len + 1;
	}
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const uint32_t mirror_check_latency_bounds_ms[MIRROR_CHECK_LATENCY_BOUNDS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

const char *mirror_check_result_name(enum mirror_check_result result)
{
	static const char *const names[MIRROR_CHECK_RESULT_COUNT] = {
	    [MIRROR_CHECK_PRESENT] = "present",
	    [MIRROR_CHECK_ABSENT] = "absent",
	    [MIRROR_CHECK_ERROR] = "error",
	    [MIRROR_CHECK_TIMEOUT] = "timeout",
	};
	return (unsigned)result < MIRROR_CHECK_RESULT_COUNT ? names[result] : "error";
}

/* The counters of url's origin: found by name among those seen (a check's
 * end, not every request, comes here), else given the next slot, else the
 * shared last one. Only the checker's thread writes, so appending needs no
 * lock: the name is written before the count that publishes it. */
static struct mirror_check_origin_stats *origin_stats(struct mirror_check_stats *stats,
						      const char *url)
{
	size_t len = mirror_url_origin_len(url);
	if (len > 0 && url[len - 1] == '/')
		len--;
	size_t n = atomic_load_explicit(&stats->origin_count, memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		const char *name = stats->origins[i].origin;
		if (strncmp(name, url, len) == 0 && name[len] == '\0')
			return &stats->origins[i];
	}
	if (len == 0 || len >= MIRROR_CHECK_ORIGIN_MAX || n >= MIRROR_CHECK_STATS_ORIGINS)
		return &stats->origins[MIRROR_CHECK_STATS_ORIGINS];
	memcpy(stats->origins[n].origin, url, len);
	stats->origins[n].origin[len] = '\0';
	atomic_store_explicit(&stats->origin_count, n + 1, memory_order_release);
	return &stats->origins[n];
}

static void count_result(struct mirror_checker *checker, const char *url,
			 enum mirror_check_result result)
{
	if (checker->stats)
		counter_inc(&origin_stats(checker->stats, url)->results[result]);
}

/* A check that never reached the mirror says nothing about it: counted
 * apart from the results of the mirror's checks. */
static void count_not_made(struct mirror_checker *checker)
{
	if (checker->stats)
		counter_inc(&checker->stats->not_made);
}

static void count_latency(struct mirror_checker *checker, int64_t total_us)
{
	struct mirror_check_stats *stats = checker->stats;
	if (!stats)
		return;
	uint64_t us = total_us > 0 ? (uint64_t)total_us : 0;
	size_t bucket = 0;
	while (bucket < MIRROR_CHECK_LATENCY_BOUNDS &&
	       us > (uint64_t)mirror_check_latency_bounds_ms[bucket] * 1000)
		bucket++;
	counter_inc(&stats->latency[bucket]);
	counter_add(&stats->latency_sum_us, us);
}

static void count_lookup(struct mirror_checker *checker, enum mirror_cache_state state)
{
	struct mirror_check_stats *stats = checker->stats;
	if (!stats)
		return;
	counter_t *c = state == MIRROR_CACHE_PRESENT   ? &stats->cache_present
		       : state == MIRROR_CACHE_ABSENT  ? &stats->cache_absent
		       : state == MIRROR_CACHE_PENDING ? &stats->joins
						       : &stats->cache_misses;
	counter_inc(c);
}

static void link_transfer(struct mirror_checker *checker, struct transfer *t)
{
	t->prev = NULL;
	t->next = checker->transfers;
	if (checker->transfers)
		checker->transfers->prev = t;
	checker->transfers = t;
	checker->in_flight++;
}

static void unlink_transfer(struct mirror_checker *checker, struct transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		checker->transfers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	checker->in_flight--;
}

/* Delivers the answer to whoever waits for it and frees the transfer. The
 * callbacks may start new checks, so the transfer is gone from every list
 * (and from curl) before anyone is called. */
static void finish_transfer(struct transfer *t, bool present)
{
	struct mirror_checker *checker = t->checker;

	unlink_transfer(checker, t);
	if (t->easy) {
		curl_multi_remove_handle(checker->multi, t->easy);
		curl_easy_cleanup(t->easy);
	}
	if (t->uncached_fn)
		t->uncached_fn(t->uncached_arg, present);
	else
		mirror_cache_complete_key(checker->cache, &t->key, present, monotonic_ms());
	free(t);
}

/* A mirror that cannot be reached (or answers 5xx) may have gone away since it
 * said "present" for other blobs: forget those answers, so their next
 * requests check again (and go upstream) instead of being sent to it. O(1):
 * while a mirror is down this runs for every request. */
static void forget_failed_origin(struct mirror_checker *checker, const char *url)
{
	mirror_cache_forget_origin(checker->cache, url);
}

static void on_probe_answer(void *arg, bool present);

/* How one finished HEAD went, in the words the log uses. */
struct check_outcome {
	bool failed; /* transport error or 5xx: the mirror, not the blob */
	bool present;
	enum mirror_check_result result;
	long status; /* 0 when no answer came */
	char status_text[24];
	char reason[CURL_ERROR_SIZE + 32]; /* "" unless failed */
	char ms[24];
};

static void describe_outcome(const struct transfer *t, CURLcode result, long status,
			     curl_off_t total_us, struct check_outcome *out)
{
	out->failed = result != CURLE_OK || status >= 500;
	out->present = result == CURLE_OK && status == 200;
	out->result = result == CURLE_OPERATION_TIMEDOUT ? MIRROR_CHECK_TIMEOUT
		      : out->failed			 ? MIRROR_CHECK_ERROR
		      : out->present			 ? MIRROR_CHECK_PRESENT
							 : MIRROR_CHECK_ABSENT;
	out->status = status;
	snprintf(out->status_text, sizeof(out->status_text), status ? "%ld" : "-", status);
	out->reason[0] = '\0';
	if (result != CURLE_OK)
		snprintf(out->reason, sizeof(out->reason), "%s",
			 t->error[0] ? t->error : curl_easy_strerror(result));
	else if (status >= 500)
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld", status);
	snprintf(out->ms, sizeof(out->ms), "%lld", (long long)(total_us / 1000));
}

static void log_check(const struct mirror_checker *checker, const struct transfer *t,
		      const struct check_outcome *o)
{
	if (!log_enabled(checker->log, LOG_DEBUG))
		return;
	static const char *const keys[] = {"url", "result", "status", "reason", "ms", "kind"};
	const char *values[] = {
	    t->url,	    o->failed ? "failed" : o->present ? "present" : "absent",
	    o->status_text, o->reason[0] ? o->reason : NULL,
	    o->ms,	    t->uncached_fn == on_probe_answer ? "probe" : "request",
	};
	log_fields(checker->log, LOG_DEBUG, "mirror check", keys, values, 6);
}

/* Tells the operator when a mirror origin starts failing, keeps failing (at
 * most once per probe interval, across workers) or answers again. */
static void log_health(const struct mirror_checker *checker, const char *origin,
		       const struct mirror_health_report *r, const char *reason)
{
	char count[24], down[24];
	snprintf(count, sizeof(count), "%llu", (unsigned long long)r->failed_checks);
	snprintf(down, sizeof(down), "%llu", (unsigned long long)(r->down_ms / 1000));
	const char *const failing_keys[] = {"origin", "reason"};
	const char *const still_keys[] = {"origin", "reason", "failed_checks"};
	const char *const back_keys[] = {"origin", "failed_checks", "down_s"};
	const char *failing_values[] = {origin, reason};
	const char *still_values[] = {origin, reason, count};
	const char *back_values[] = {origin, count, down};
	if (r->say == MIRROR_HEALTH_FAILING)
		log_fields(checker->log, LOG_WARN, "mirror failing, its clients go upstream",
			   failing_keys, failing_values, 2);
	else if (r->say == MIRROR_HEALTH_STILL_FAILING)
		log_fields(checker->log, LOG_WARN, "mirror still failing", still_keys, still_values,
			   3);
	else if (r->say == MIRROR_HEALTH_RECOVERED)
		log_fields(checker->log, LOG_INFO, "mirror answering again", back_keys, back_values,
			   3);
}

static void report_check(struct mirror_checker *checker, const struct transfer *t,
			 const struct check_outcome *o)
{
	if (!checker->log)
		return;
	log_check(checker, t, o);
	size_t origin_len = mirror_url_origin_len(t->url);
	if (origin_len == 0)
		return;
	struct mirror_health_report r =
	    mirror_health_record(checker->health, t->url, origin_len, o->failed, monotonic_ms());
	if (r.say == MIRROR_HEALTH_QUIET)
		return;
	char origin[2048];
	snprintf(origin, sizeof(origin), "%.*s", (int)origin_len, t->url);
	log_health(checker, origin, &r, o->reason);
}

static void process_completed(struct mirror_checker *checker)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(checker->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		struct transfer *t = NULL;
		long status = 0;
		curl_off_t total_us = 0;

		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
		struct check_outcome outcome;
		describe_outcome(t, msg->data.result, status, total_us, &outcome);
		count_result(checker, t->url, outcome.result);
		count_latency(checker, (int64_t)total_us);
		report_check(checker, t, &outcome);
		if (outcome.failed)
			forget_failed_origin(checker, t->url);
		finish_transfer(t, outcome.present);
	}
}

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
	struct mirror_checker *checker = arg;
	int running;

	(void)fd;
	(void)events;
	curl_multi_socket_action(checker->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	process_completed(checker);
}

static void on_socket_ready(evutil_socket_t fd, short events, void *arg)
{
	struct mirror_checker *checker = arg;
	int flags = ((events & EV_READ) ? CURL_CSELECT_IN : 0) |
		    ((events & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(checker->multi, fd, flags, &running);
	/* The timer is left alone even when nothing runs: a callback in
	 * process_completed may just have started a transfer that needs it. */
	process_completed(checker);
}

/* CURLMOPT_TIMERFUNCTION: curl asks to be called back after timeout_ms
 * (-1: cancel). Calling curl from here is not allowed, so a 0 ms timeout also
 * goes through the event loop. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct mirror_checker *checker = userp;

	(void)multi;
	if (timeout_ms < 0)
		return evtimer_del(checker->timer) == 0 ? 0 : -1;
	struct timeval tv = {
	    .tv_sec = timeout_ms / 1000,
	    .tv_usec = (timeout_ms % 1000) * 1000,
	};
	return evtimer_add(checker->timer, &tv) == 0 ? 0 : -1;
}

/* CURLMOPT_SOCKETFUNCTION: curl says which directions it waits for on s. The
 * event lives in curl's per-socket pointer (curl_multi_assign). */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct mirror_checker *checker = userp;
	struct event *ev = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		/* No curl call here: this also runs inside curl_multi_cleanup. */
		if (ev)
			event_free(ev);
		return 0;
	}
	short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
		     ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ev) {
		event_del(ev);
		if (event_assign(ev, checker->base, s, kind, on_socket_ready, checker) != 0)
			return -1;
	} else {
		ev = event_new(checker->base, s, kind, on_socket_ready, checker);
		if (!ev)
			return -1;
		if (curl_multi_assign(checker->multi, s, ev) != CURLM_OK) {
			event_free(ev);
			return -1;
		}
	}
	return event_add(ev, NULL) == 0 ? 0 : -1;
}

static CURL *new_head_request(struct mirror_checker *checker, struct transfer *t)
{
	CURL *easy = curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (!easy)
		return NULL;
		/* Each setopt keeps the first error; later ones are skipped. */
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(easy, opt, val);                                     \
	} while (0)
	SET(CURLOPT_URL, (const char *)t->url);
	SET(CURLOPT_PRIVATE, (char *)t);
	SET(CURLOPT_NOBODY, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_PROXY, ""); /* "" = no proxy, environment included */
	SET(CURLOPT_TIMEOUT_MS, checker->timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L); /* worker threads: no SIGALRM for DNS timeouts */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_USERAGENT, "archeio-mirror-check");
	SET(CURLOPT_ERRORBUFFER, t->error);
	if (checker->ca_file)
		SET(CURLOPT_CAINFO, checker->ca_file);
#undef SET
	if (rc != CURLE_OK) {
		curl_easy_cleanup(easy);
		return NULL;
	}
	return easy;
}

/* Starts a HEAD for url (cached under key); fn is NULL when the cache holds
 * the waiters. On any failure the answer is "absent" at once, like a failed
 * request. */
static void start_transfer(struct mirror_checker *checker, const struct mirror_cache_key *key,
			   const char *url, mirror_check_fn fn, void *arg)
{
	size_t len = strlen(url);
	struct transfer *t = calloc(1, sizeof(*t) + len + 1 + key_text_size(key));

	if (!t) {
		count_not_made(checker);
		if (fn)
			fn(arg, false);
		else
			mirror_cache_complete_key(checker->cache, key, false, monotonic_ms());
		return;
	}
	keep_key_and_url(&t->key, t->url, key, url, len);
	t->checker = checker;
	t->uncached_fn = fn;
	t->uncached_arg = arg;
	link_transfer(checker, t);

	/* Over the limit a check would only queue past its deadline: answer
	 * absent (the client goes upstream) instead. */
	if (checker->in_flight > checker->max_in_flight) {
		count_not_made(checker);
		finish_transfer(t, false);
		return;
	}
	t->easy = new_head_request(checker, t);
	if (!t->easy)
		goto fail;
	if (curl_multi_add_handle(checker->multi, t->easy) != CURLM_OK) {
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
		goto fail;
	}
	return;
fail:
	count_not_made(checker);
	finish_transfer(t, false);
}

void mirror_checker_check(struct mirror_checker *checker, const char *url, mirror_check_fn fn,
			  void *arg)
{
	struct mirror_cache_key key;
	if (url)
		mirror_cache_key_url(&key, url);
	mirror_checker_check_key(checker, url ? &key : NULL, url, fn, arg);
}

int mirror_checker_cached(struct mirror_checker *checker, const struct mirror_cache_key *key)
{
	if (!checker || checker->closing)
		return -1;
	enum mirror_cache_state state = mirror_cache_peek_key(checker->cache, key, monotonic_ms());
	if (state != MIRROR_CACHE_PRESENT && state != MIRROR_CACHE_ABSENT)
		return -1;
	count_lookup(checker, state);
	return state == MIRROR_CACHE_PRESENT;
}

void mirror_checker_check_key(struct mirror_checker *checker, const struct mirror_cache_key *key,
			      const char *url, mirror_check_fn fn, void *arg)
{
	if (!fn)
		return;
	if (!checker || !key || !url || checker->closing) {
		fn(arg, false);
		return;
	}
	enum mirror_cache_state state =
	    mirror_cache_lookup_key(checker->cache, key, url, monotonic_ms(), fn, arg);
	count_lookup(checker, state);
	switch (state) {
	case MIRROR_CACHE_PRESENT:
		fn(arg, true);
		return;
	case MIRROR_CACHE_ABSENT:
		fn(arg, false);
		return;
	case MIRROR_CACHE_PENDING:
		return;
	case MIRROR_CACHE_MISS:
		start_transfer(checker, key, url, NULL, NULL);
		return;
	case MIRROR_CACHE_UNCACHED:
		start_transfer(checker, key, url, fn, arg);
		return;
	}
}

static bool configure_multi(struct mirror_checker *checker)
{
	CURLM *m = checker->multi;
	long limit = (long)checker->max_in_flight;

	/* Connections never outnumber transfers in flight, so a new transfer
	 * always finds a slot (curl closes an idle one) and never waits in
	 * curl's queue, where its timeout would not run. Idle connections stay
	 * cached for reuse by later checks of the same mirror. */
	return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_curl_socket) == CURLM_OK &&
	       curl_multi_setopt(m, CURLMOPT_SOCKETDATA, checker) == CURLM_OK &&
	       curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_curl_timer) == CURLM_OK &&
	       curl_multi_setopt(m, CURLMOPT_TIMERDATA, checker) == CURLM_OK &&
	       curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit) == CURLM_OK &&
	       curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, limit) == CURLM_OK;
}

static void on_probe_answer(void *arg, bool present)
{
	struct probe *probe = arg;
	/* Transport failures and 5xx already forgot the whole origin; a 404
	 * means this blob left the mirror. */
	if (!present && !probe->checker->closing)
		mirror_cache_forget_key(probe->checker->cache, &probe->key);
	free(probe);
}

static void on_probe_timer(evutil_socket_t fd, short events, void *arg)
{
	struct mirror_checker *checker = arg;
	struct mirror_cache_target targets[PROBE_ORIGINS_MAX];
	(void)fd;
	(void)events;
	size_t n = mirror_cache_present_per_origin(checker->cache, targets, PROBE_ORIGINS_MAX);
	struct probe *probes[PROBE_ORIGINS_MAX];
	/* Copy first: starting a transfer may change the cache. */
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(targets[i].url);
		probes[i] = malloc(sizeof(struct probe) + len + 1 + key_text_size(&targets[i].key));
		if (probes[i]) {
			probes[i]->checker = checker;
			keep_key_and_url(&probes[i]->key, probes[i]->url, &targets[i].key,
					 targets[i].url, len);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (probes[i])
			start_transfer(checker, &probes[i]->key, probes[i]->url, on_probe_answer,
				       probes[i]);
	evtimer_add(checker->probe_timer, &checker->probe_interval);
}

struct mirror_checker *mirror_checker_new(struct event_base *base,
					  const struct mirror_checker_options *options)
{
	if (!base)
		return NULL;
	struct mirror_checker_options o = {0};
	if (options)
		o = *options;

	struct mirror_checker *checker = calloc(1, sizeof(*checker));
	if (!checker)
		return NULL;
	checker->base = base;
	checker->timeout_ms = o.timeout_ms ? (long)o.timeout_ms : MIRROR_CHECK_DEFAULT_TIMEOUT_MS;
	checker->max_in_flight =
	    o.max_in_flight ? o.max_in_flight : MIRROR_CHECK_DEFAULT_MAX_IN_FLIGHT;
	checker->cache = mirror_cache_new(&o.cache);
	checker->timer = evtimer_new(base, on_timer, checker);
	checker->probe_timer = evtimer_new(base, on_probe_timer, checker);
	uint32_t probe_ms =
	    o.probe_interval_ms ? o.probe_interval_ms : MIRROR_CHECK_DEFAULT_PROBE_INTERVAL_MS;
	checker->probe_interval.tv_sec = probe_ms / 1000;
	checker->probe_interval.tv_usec = (probe_ms % 1000) * 1000;
	checker->log = o.log;
	checker->health = o.health;
	checker->stats = o.stats;
	/* Warnings are paced by the probe interval: one per origin per interval. */
	if (o.log && !o.health)
		checker->health = checker->own_health = mirror_health_new(probe_ms);
	checker->multi = curl_multi_init();
	if (o.ca_file)
		checker->ca_file = strdup(o.ca_file);
	if (!checker->cache || !checker->timer || !checker->probe_timer || !checker->multi ||
	    (o.ca_file && !checker->ca_file) || (o.log && !checker->health) ||
	    !configure_multi(checker)) {
		mirror_checker_free(checker);
		return NULL;
	}
	evtimer_add(checker->probe_timer, &checker->probe_interval);
	return checker;
}

void mirror_checker_free(struct mirror_checker *checker)
{
	if (!checker)
		return;
	checker->closing = true;
	while (checker->transfers)
		finish_transfer(checker->transfers, false);
	if (checker->multi)
		curl_multi_cleanup(checker->multi);
	if (checker->timer)
		event_free(checker->timer);
	if (checker->probe_timer)
		event_free(checker->probe_timer);
	mirror_cache_free(checker->cache);
	mirror_health_free(checker->own_health);
	free(checker->ca_file);
	free(checker);
}
