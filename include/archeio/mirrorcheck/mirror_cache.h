/* Cache of mirror HEAD answers: "present" kept for a TTL, "absent" briefly,
 * bounded in entries (least recently used evicted), and a pending state so
 * that many concurrent requests for one blob wait on a single check.
 * Pure logic: the clock is passed in, no I/O.
 *
 * An answer recorded at time t is served while now < t + ttl; at t + ttl the
 * next lookup is a MISS again. Pending entries count towards max_entries but
 * are never evicted; when every slot holds a pending entry (or memory runs
 * out) a lookup of a new URL answers UNCACHED and the caller checks on its
 * own. Not thread-safe: one cache per event loop. */
#ifndef ARCHEIO_MIRROR_CACHE_H
#define ARCHEIO_MIRROR_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/mirrorcheck/mirror_ids.h"

struct mirror_cache;

/* A field left 0 takes its default. */
struct mirror_cache_options {
	size_t max_entries;	 /* default 65536 */
	uint64_t present_ttl_ms; /* default 3600000 (1 h) */
	uint64_t absent_ttl_ms;	 /* default 10000 (10 s) */
};

#define MIRROR_CACHE_DEFAULT_MAX_ENTRIES ((size_t)65536)
#define MIRROR_CACHE_DEFAULT_PRESENT_TTL_MS ((uint64_t)3600 * 1000)
#define MIRROR_CACHE_DEFAULT_ABSENT_TTL_MS ((uint64_t)10 * 1000)

enum mirror_cache_state {
	MIRROR_CACHE_MISS,    /* caller must start a check (entry now pending) */
	MIRROR_CACHE_PENDING, /* a check is in flight; caller was queued */
	MIRROR_CACHE_PRESENT,
	MIRROR_CACHE_ABSENT,
	/* The cache cannot track this URL now (full of pending entries, out of
	 * memory, or url NULL): nothing was queued or recorded; the caller
	 * checks by itself and answers its own waiter. */
	MIRROR_CACHE_UNCACHED,
};

typedef void (*mirror_cache_waiter_fn)(void *arg, bool present);

/* What an answer is cached under: (mirror id, digest). A URL is
 * <mirror base>/containers/images/<digest> and an id names one base for the
 * life of the process (mirror_ids.h), so the key names one URL; comparing it
 * is a few words instead of a ~150-byte strcmp, and hashing a sha256 digest's
 * 32 bytes instead of its 71 characters halves SipHash's work. */
enum mirror_cache_key_kind {
	MIRROR_CACHE_KEY_TEXT,	 /* text[0..len): any other digest, or a whole URL */
	MIRROR_CACHE_KEY_SHA256, /* sha256[32]: "sha256:" + 64 lower-case hex, decoded */
};

#define MIRROR_CACHE_SHA256_BYTES 32

struct mirror_cache_key {
	uint32_t mirror_id; /* MIRROR_ID_NONE (mirror_ids.h) for a URL keyed by itself */
	enum mirror_cache_key_kind kind;
	size_t len;	  /* bytes of the key: 32, or the text's */
	const char *text; /* KEY_TEXT: not owned, must outlive the call */
	uint8_t sha256[MIRROR_CACHE_SHA256_BYTES];
};

/* The key of digest[0..len) on mirror_id. A sha256 digest is decoded; a
 * "sha256:" or "sha512:" one whose digits are not exactly 64 (128) lower-case
 * hex is refused (false), so a spelling the router would refuse never
 * reaches the cache; any other digest is its own text. */
bool mirror_cache_key_digest(struct mirror_cache_key *key, uint32_t mirror_id, const char *digest,
			     size_t len);
/* A URL as its own key (callers without a mirror id: tests, tools). */
void mirror_cache_key_url(struct mirror_cache_key *key, const char *url);

/* options may be NULL (all defaults). Returns NULL when out of memory. */
struct mirror_cache *mirror_cache_new(const struct mirror_cache_options *options);
/* Queued waiters are dropped without being called: complete them first. */
void mirror_cache_free(struct mirror_cache *cache);
/* Looks key up at time now_ms; url is the URL key names, kept with a new
 * entry (for the health probe and the origin's generation). On MISS the entry becomes pending and
 * the waiter is queued on it; on PENDING the waiter is queued; on PRESENT/ABSENT and UNCACHED
 * nothing is queued and the caller answers at once. fn may be NULL (nothing to queue). An expired
 * answer counts as a MISS. */
enum mirror_cache_state mirror_cache_lookup_key(struct mirror_cache *cache,
						const struct mirror_cache_key *key, const char *url,
						uint64_t now_ms, mirror_cache_waiter_fn fn,
						void *arg);
/* The answer in force for key, if any: PRESENT or ABSENT (the entry becomes
 * the most recently used, as in a lookup), else MISS with nothing changed —
 * no entry made, no waiter queued (UNCACHED for a NULL cache or key). Lets a
 * caller answer a cached request without first preparing to wait. */
enum mirror_cache_state mirror_cache_peek_key(struct mirror_cache *cache,
					      const struct mirror_cache_key *key, uint64_t now_ms);
/* mirror_cache_lookup_key() with url as its own key (mirror_cache_key_url()). */
enum mirror_cache_state mirror_cache_lookup(struct mirror_cache *cache, const char *url,
					    uint64_t now_ms, mirror_cache_waiter_fn fn, void *arg);
/* Records the answer of the check for key (url) and calls every queued waiter once,
 * in the order they were queued. Waiters may call back into the cache
 * (lookup, complete; not free). Does nothing unless url is pending. */
void mirror_cache_complete_key(struct mirror_cache *cache, const struct mirror_cache_key *key,
			       bool present, uint64_t now_ms);
void mirror_cache_complete(struct mirror_cache *cache, const char *url, bool present,
			   uint64_t now_ms);
/* Voids every "present" answer of url's origin ("scheme://host[:port]/"), so
 * the next request for those blobs checks again instead of being sent to a
 * mirror that just failed. Absent and pending entries are left alone. O(1)
 * whatever the cache holds: it bumps the origin's generation, and an answer
 * recorded under an older generation is a MISS when next looked up (the
 * entries themselves go when looked up again or evicted). Returns false when
 * no entry of that origin is cached (nothing to forget). */
bool mirror_cache_forget_origin(struct mirror_cache *cache, const char *url);
/* Drops key's (url's) "present" answer (a blob that left the mirror). O(1). */
void mirror_cache_forget_key(struct mirror_cache *cache, const struct mirror_cache_key *key);
void mirror_cache_forget(struct mirror_cache *cache, const char *url);
/* A cached answer a health probe asks again: its key and URL. */
struct mirror_cache_target {
	struct mirror_cache_key key;
	const char *url;
};
/* Fills out with the most recently used "present" entry of each distinct
 * origin (most recent first), at most max: what a health probe asks again.
 * Walks the cache (once per probe interval, not per request). The strings
 * (url, key.text) stay valid until the cache is next changed. */
size_t mirror_cache_present_per_origin(struct mirror_cache *cache, struct mirror_cache_target *out,
				       size_t max);
/* Length of "scheme://host[:port]/" at the start of url (the whole url when
 * it has no path), 0 when url has no "://". */
size_t mirror_url_origin_len(const char *url);

#endif
