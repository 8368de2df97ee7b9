/* Mirror answer cache: chained hash table (SipHash with a per-cache random
 * key, because keys carry client-chosen digests) plus a doubly linked LRU
 * list that holds only answered entries, so pending ones can never be
 * evicted. Each entry points at its origin (scheme://host:port/), whose
 * generation voids the origin's "present" answers at once when it fails:
 * forgetting must not cost a walk of the cache on every failed check, which
 * is every request while a mirror is down. */
#include "archeio/mirrorcheck/mirror_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "archeio/core/hex.h"
#include "archeio/core/siphash.h"
#include "mirror_cache_internal.h"

/* Enough buckets for a chain length near 1 at the default size, without a
 * huge allocation when an operator asks for an enormous max_entries. */
#define MIN_BUCKETS ((size_t)16)
#define MAX_BUCKETS ((size_t)1 << 20)

enum entry_state {
	ENTRY_PENDING,
	ENTRY_PRESENT,
	ENTRY_ABSENT,
};

struct waiter {
	mirror_cache_waiter_fn fn;
	void *arg;
	struct waiter *next;
};

/* A mirror origin that cached entries name; freed with its last entry. */
struct cache_origin {
	struct cache_origin *chain_next;
	uint64_t hash;
	uint64_t generation; /* bumped by forget: older "present" answers are void */
	size_t refs;	     /* entries naming this origin */
	size_t len;
	char prefix[];
};

struct cache_entry {
	struct cache_entry *chain_next;
	struct cache_origin *origin;  /* NULL for a URL without "://" */
	uint64_t origin_generation;   /* the origin's generation when answered */
	struct cache_entry *lru_prev; /* toward most recently used; answered entries only */
	struct cache_entry *lru_next;
	struct waiter *waiters_head; /* pending entries only */
	struct waiter **waiters_tail;
	uint64_t hash;
	uint64_t expires_ms;
	enum entry_state state;
	uint32_t mirror_id;
	enum mirror_cache_key_kind kind;
	size_t key_len;
	char *url;	      /* in data, after the key's bytes */
	unsigned char data[]; /* the key's bytes, then the URL and its NUL */
};

static uint64_t saturating_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static size_t bucket_count_for(size_t max_entries)
{
	size_t n = MIN_BUCKETS;

	while (n < max_entries && n < MAX_BUCKETS)
		n <<= 1;
	return n;
}

static void random_key(struct siphash_key *key, const void *salt)
{
	if (getrandom(key, sizeof(*key), GRND_NONBLOCK) == (ssize_t)sizeof(*key))
		return;
	/* Early boot without entropy: a per-process address (ASLR) is weaker
	 * but still not something a client can predict from outside. */
	key->k0 = (uint64_t)(uintptr_t)salt ^ 0x9e3779b97f4a7c15ULL;
	key->k1 = (uint64_t)(uintptr_t)&key ^ 0xc2b2ae3d27d4eb4fULL;
}

struct mirror_cache *mirror_cache_new(const struct mirror_cache_options *options)
{
	struct mirror_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	if (options)
		cache->options = *options;
	if (!cache->options.max_entries)
		cache->options.max_entries = MIRROR_CACHE_DEFAULT_MAX_ENTRIES;
	if (!cache->options.present_ttl_ms)
		cache->options.present_ttl_ms = MIRROR_CACHE_DEFAULT_PRESENT_TTL_MS;
	if (!cache->options.absent_ttl_ms)
		cache->options.absent_ttl_ms = MIRROR_CACHE_DEFAULT_ABSENT_TTL_MS;

	size_t nbuckets = bucket_count_for(cache->options.max_entries);
	cache->buckets = calloc(nbuckets, sizeof(*cache->buckets));
	if (!cache->buckets) {
		free(cache);
		return NULL;
	}
	cache->bucket_mask = nbuckets - 1;
	random_key(&cache->key, cache);
	return cache;
}

static void free_waiters(struct waiter *w)
{
	while (w) {
		struct waiter *next = w->next;
		free(w);
		w = next;
	}
}

void mirror_cache_free(struct mirror_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i <= cache->bucket_mask; i++) {
		struct cache_entry *e = cache->buckets[i];
		while (e) {
			struct cache_entry *next = e->chain_next;
			free_waiters(e->waiters_head);
			free(e);
			e = next;
		}
	}
	for (size_t i = 0; i < MIRROR_CACHE_ORIGIN_BUCKETS; i++) {
		struct cache_origin *o = cache->origins[i];
		while (o) {
			struct cache_origin *next = o->chain_next;
			free(o);
			o = next;
		}
	}
	free(cache->buckets);
	free(cache);
}

static struct cache_origin **origin_link(struct mirror_cache *cache, const char *prefix, size_t len,
					 uint64_t hash)
{
	struct cache_origin **link = &cache->origins[hash % MIRROR_CACHE_ORIGIN_BUCKETS];
	while (*link && !((*link)->hash == hash && (*link)->len == len &&
			  memcmp((*link)->prefix, prefix, len) == 0))
		link = &(*link)->chain_next;
	return link;
}

/* url's origin, or NULL when it has none (no "://") or is not cached. */
static struct cache_origin *find_origin(struct mirror_cache *cache, const char *url)
{
	size_t len = mirror_url_origin_len(url);
	if (len == 0)
		return NULL;
	return *origin_link(cache, url, len, siphash24(&cache->key, url, len));
}

/* Takes a reference on url's origin, adding it if new. *out is NULL for a
 * URL without an origin. false when out of memory. */
static bool ref_origin(struct mirror_cache *cache, const char *url, struct cache_origin **out)
{
	*out = NULL;
	size_t len = mirror_url_origin_len(url);
	if (len == 0)
		return true;
	uint64_t hash = siphash24(&cache->key, url, len);
	struct cache_origin **link = origin_link(cache, url, len, hash);
	if (!*link) {
		struct cache_origin *o = calloc(1, sizeof(*o) + len + 1);
		if (!o)
			return false;
		o->hash = hash;
		o->len = len;
		memcpy(o->prefix, url, len);
		*link = o;
	}
	(*link)->refs++;
	*out = *link;
	return true;
}

static void unref_origin(struct mirror_cache *cache, struct cache_origin *o)
{
	if (!o || --o->refs > 0)
		return;
	struct cache_origin **link = origin_link(cache, o->prefix, o->len, o->hash);
	*link = o->chain_next;
	free(o);
}

/* A "present" answer recorded before its origin was last forgotten is void. */
static bool answer_voided(const struct cache_entry *e)
{
	return e->state == ENTRY_PRESENT && e->origin &&
	       e->origin_generation != e->origin->generation;
}

static struct cache_entry **bucket_of(struct mirror_cache *cache, uint64_t hash)
{
	return &cache->buckets[hash & cache->bucket_mask];
}

static const void *key_bytes(const struct mirror_cache_key *key)
{
	return key->kind == MIRROR_CACHE_KEY_SHA256 ? (const void *)key->sha256
						    : (const void *)key->text;
}

/* Keyed (SipHash-2-4, a random key per cache) because the digest is the
 * client's choice: with a fixed or unkeyed hash a client could request
 * digests that all land in one bucket and make every lookup walk a long
 * chain. SipHash is a PRF, so without the key a client cannot tell which
 * digests collide, and it is what the rest of archeio uses for client-chosen
 * keys (the rate limiter). A cheaper mixing function would save ~100
 * instructions but give no such guarantee. The mirror id is left out: it is
 * the operator's, so the entries sharing a digest are at most one per mirror
 * base, and find() compares it. */
static uint64_t key_hash(const struct mirror_cache *cache, const struct mirror_cache_key *key)
{
	return siphash24(&cache->key, key_bytes(key), key->len);
}

static bool same_sha256(const unsigned char *a, const uint8_t *b)
{
	uint64_t x[4], y[4];
	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

static bool entry_has_key(const struct cache_entry *e, const struct mirror_cache_key *key)
{
	if (e->mirror_id != key->mirror_id || e->kind != key->kind || e->key_len != key->len)
		return false;
	if (key->kind == MIRROR_CACHE_KEY_SHA256)
		return same_sha256(e->data, key->sha256);
	return memcmp(e->data, key->text, key->len) == 0;
}

static struct cache_entry *find(struct mirror_cache *cache, const struct mirror_cache_key *key,
				uint64_t hash)
{
	for (struct cache_entry *e = *bucket_of(cache, hash); e; e = e->chain_next)
		if (e->hash == hash && entry_has_key(e, key))
			return e;
	return NULL;
}

bool mirror_cache_key_digest(struct mirror_cache_key *key, uint32_t mirror_id, const char *digest,
			     size_t len)
{
	static const char sha256[] = "sha256:", sha512[] = "sha512:";
	const size_t prefix = sizeof(sha256) - 1;
	key->mirror_id = mirror_id;
	if (len >= prefix && memcmp(digest, sha256, prefix) == 0) {
		key->kind = MIRROR_CACHE_KEY_SHA256;
		key->len = MIRROR_CACHE_SHA256_BYTES;
		key->text = NULL;
		return len - prefix == 2 * MIRROR_CACHE_SHA256_BYTES &&
		       hex_lower_decode(digest + prefix, len - prefix, key->sha256);
	}
	key->kind = MIRROR_CACHE_KEY_TEXT;
	key->len = len;
	key->text = digest;
	if (len >= prefix && memcmp(digest, sha512, prefix) == 0)
		return len - prefix == 128 && hex_lower_valid(digest + prefix, len - prefix);
	return len > 0;
}

void mirror_cache_key_url(struct mirror_cache_key *key, const char *url)
{
	key->mirror_id = MIRROR_ID_NONE;
	key->kind = MIRROR_CACHE_KEY_TEXT;
	key->len = strlen(url);
	key->text = url;
}

static void lru_unlink(struct mirror_cache *cache, struct cache_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		cache->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		cache->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct mirror_cache *cache, struct cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = cache->lru_head;
	if (cache->lru_head)
		cache->lru_head->lru_prev = e;
	else
		cache->lru_tail = e;
	cache->lru_head = e;
}

static void remove_answered(struct mirror_cache *cache, struct cache_entry *victim)
{
	lru_unlink(cache, victim);
	struct cache_entry **link = bucket_of(cache, victim->hash);
	while (*link != victim)
		link = &(*link)->chain_next;
	*link = victim->chain_next;
	unref_origin(cache, victim->origin);
	free(victim);
	cache->size--;
}

bool mirror_cache_forget_origin(struct mirror_cache *cache, const char *url)
{
	if (!cache || !url)
		return false;
	struct cache_origin *origin = find_origin(cache, url);
	if (!origin)
		return false;
	origin->generation++;
	return true;
}

void mirror_cache_forget_key(struct mirror_cache *cache, const struct mirror_cache_key *key)
{
	if (!cache || !key)
		return;
	struct cache_entry *e = find(cache, key, key_hash(cache, key));
	if (e && e->state == ENTRY_PRESENT)
		remove_answered(cache, e);
}

void mirror_cache_forget(struct mirror_cache *cache, const char *url)
{
	if (!cache || !url)
		return;
	struct mirror_cache_key key;
	mirror_cache_key_url(&key, url);
	mirror_cache_forget_key(cache, &key);
}

/* Only answered entries are in the LRU list, so this never drops a pending
 * entry (whose waiters would otherwise never be called). */
static bool evict_least_recent(struct mirror_cache *cache)
{
	struct cache_entry *victim = cache->lru_tail;

	if (!victim)
		return false;
	remove_answered(cache, victim);
	return true;
}

size_t mirror_url_origin_len(const char *url)
{
	const char *scheme_end = strstr(url, "://");
	if (!scheme_end)
		return 0;
	const char *path = strchr(scheme_end + 3, '/');
	return path ? (size_t)(path - url) + 1 : strlen(url);
}

static void entry_key(const struct cache_entry *e, struct mirror_cache_key *key)
{
	key->mirror_id = e->mirror_id;
	key->kind = e->kind;
	key->len = e->key_len;
	key->text = NULL;
	if (e->kind == MIRROR_CACHE_KEY_SHA256)
		memcpy(key->sha256, e->data, MIRROR_CACHE_SHA256_BYTES);
	else
		key->text = (const char *)e->data;
}

size_t mirror_cache_present_per_origin(struct mirror_cache *cache, struct mirror_cache_target *out,
				       size_t max)
{
	size_t n = 0;
	if (!cache)
		return 0;
	for (const struct cache_entry *e = cache->lru_head; e && n < max; e = e->lru_next) {
		cache->entries_walked++;
		if (e->state != ENTRY_PRESENT || !e->origin || answer_voided(e))
			continue;
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = strncmp(out[i].url, e->origin->prefix, e->origin->len) == 0 &&
			       mirror_url_origin_len(out[i].url) == e->origin->len;
		if (!seen) {
			out[n].url = e->url;
			entry_key(e, &out[n++].key);
		}
	}
	return n;
}

static void enqueue(struct cache_entry *e, struct waiter *w)
{
	if (!w)
		return;
	*e->waiters_tail = w;
	e->waiters_tail = &w->next;
}

static void make_pending(struct cache_entry *e)
{
	e->state = ENTRY_PENDING;
	e->waiters_head = NULL;
	e->waiters_tail = &e->waiters_head;
}

static struct cache_entry *new_entry(struct mirror_cache *cache, const struct mirror_cache_key *key,
				     const char *url, uint64_t hash)
{
	size_t len = strlen(url);
	struct cache_entry *e = calloc(1, sizeof(*e) + key->len + len + 1);

	if (!e)
		return NULL;
	if (!ref_origin(cache, url, &e->origin)) {
		free(e);
		return NULL;
	}
	memcpy(e->data, key_bytes(key), key->len);
	e->url = (char *)e->data + key->len;
	memcpy(e->url, url, len + 1);
	e->mirror_id = key->mirror_id;
	e->kind = key->kind;
	e->key_len = key->len;
	e->hash = hash;
	make_pending(e);
	return e;
}

/* Allocates the waiter before any state changes, so running out of memory
 * leaves the cache as it was. *out is NULL when there is nothing to queue. */
static bool new_waiter(mirror_cache_waiter_fn fn, void *arg, struct waiter **out)
{
	*out = NULL;
	if (!fn)
		return true;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return false;
	(*out)->fn = fn;
	(*out)->arg = arg;
	return true;
}

static enum mirror_cache_state insert_pending(struct mirror_cache *cache,
					      const struct mirror_cache_key *key, const char *url,
					      uint64_t hash, struct waiter *w)
{
	/* Make room first: evicting may free the origin a new entry would share. */
	if (cache->size >= cache->options.max_entries && !evict_least_recent(cache)) {
		free(w);
		return MIRROR_CACHE_UNCACHED;
	}
	struct cache_entry *e = new_entry(cache, key, url, hash);
	if (!e) {
		free(w);
		return MIRROR_CACHE_UNCACHED;
	}
	e->chain_next = *bucket_of(cache, hash);
	*bucket_of(cache, hash) = e;
	cache->size++;
	enqueue(e, w);
	return MIRROR_CACHE_MISS;
}

static bool answer_in_force(const struct cache_entry *e, uint64_t now_ms)
{
	return e && e->state != ENTRY_PENDING && now_ms < e->expires_ms && !answer_voided(e);
}

/* An answer served: its entry becomes the most recently used. */
static enum mirror_cache_state use_answer(struct mirror_cache *cache, struct cache_entry *e)
{
	lru_unlink(cache, e);
	lru_push_front(cache, e);
	return e->state == ENTRY_PRESENT ? MIRROR_CACHE_PRESENT : MIRROR_CACHE_ABSENT;
}

enum mirror_cache_state mirror_cache_peek_key(struct mirror_cache *cache,
					      const struct mirror_cache_key *key, uint64_t now_ms)
{
	if (!cache || !key)
		return MIRROR_CACHE_UNCACHED;
	struct cache_entry *e = find(cache, key, key_hash(cache, key));
	return answer_in_force(e, now_ms) ? use_answer(cache, e) : MIRROR_CACHE_MISS;
}

enum mirror_cache_state mirror_cache_lookup_key(struct mirror_cache *cache,
						const struct mirror_cache_key *key, const char *url,
						uint64_t now_ms, mirror_cache_waiter_fn fn,
						void *arg)
{
	if (!cache || !key || !url)
		return MIRROR_CACHE_UNCACHED;

	uint64_t hash = key_hash(cache, key);
	struct cache_entry *e = find(cache, key, hash);

	if (answer_in_force(e, now_ms))
		return use_answer(cache, e);

	struct waiter *w;
	if (!new_waiter(fn, arg, &w))
		return MIRROR_CACHE_UNCACHED;
	if (!e)
		return insert_pending(cache, key, url, hash, w);
	if (e->state == ENTRY_PENDING) {
		enqueue(e, w);
		return MIRROR_CACHE_PENDING;
	}
	/* Expired or voided answer: the entry itself becomes the pending one. */
	lru_unlink(cache, e);
	make_pending(e);
	enqueue(e, w);
	return MIRROR_CACHE_MISS;
}

enum mirror_cache_state mirror_cache_lookup(struct mirror_cache *cache, const char *url,
					    uint64_t now_ms, mirror_cache_waiter_fn fn, void *arg)
{
	if (!url)
		return MIRROR_CACHE_UNCACHED;
	struct mirror_cache_key key;
	mirror_cache_key_url(&key, url);
	return mirror_cache_lookup_key(cache, &key, url, now_ms, fn, arg);
}

void mirror_cache_complete(struct mirror_cache *cache, const char *url, bool present,
			   uint64_t now_ms)
{
	if (!url)
		return;
	struct mirror_cache_key key;
	mirror_cache_key_url(&key, url);
	mirror_cache_complete_key(cache, &key, present, now_ms);
}

void mirror_cache_complete_key(struct mirror_cache *cache, const struct mirror_cache_key *key,
			       bool present, uint64_t now_ms)
{
	if (!cache || !key)
		return;

	struct cache_entry *e = find(cache, key, key_hash(cache, key));
	if (!e || e->state != ENTRY_PENDING)
		return;

	uint64_t ttl = present ? cache->options.present_ttl_ms : cache->options.absent_ttl_ms;
	e->state = present ? ENTRY_PRESENT : ENTRY_ABSENT;
	e->origin_generation = e->origin ? e->origin->generation : 0;
	e->expires_ms = saturating_add(now_ms, ttl);
	lru_push_front(cache, e);

	/* Detach the queue before calling anyone: a waiter may look up or
	 * complete other URLs, which can evict e itself. */
	struct waiter *w = e->waiters_head;
	e->waiters_head = NULL;
	e->waiters_tail = &e->waiters_head;
	while (w) {
		struct waiter *next = w->next;
		mirror_cache_waiter_fn fn = w->fn;
		void *arg = w->arg;
		free(w);
		fn(arg, present);
		w = next;
	}
}
