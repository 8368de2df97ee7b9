/* SipHash-2-4, following the reference implementation's structure. */
#include "archeio/core/siphash.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* One load where the machine is little-endian (memcpy compiles to a single
 * mov); the byte loop elsewhere. The byte-by-byte load was half of
 * SipHash's instructions per request. */
static inline uint64_t load_le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
#else
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
#endif
}

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

/* Inlined: a call per round cost more than the round's 14 operations. */
static inline __attribute__((always_inline)) void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline __attribute__((always_inline)) void sip_compress(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len)
{
	const uint8_t *in = data;
	struct sip_state s = {
	    .v0 = key->k0 ^ 0x736f6d6570736575ULL,
	    .v1 = key->k1 ^ 0x646f72616e646f6dULL,
	    .v2 = key->k0 ^ 0x6c7967656e657261ULL,
	    .v3 = key->k1 ^ 0x7465646279746573ULL,
	};
	size_t full = len - len % 8;

	for (size_t i = 0; i < full; i += 8)
		sip_compress(&s, load_le64(in + i));

	/* Last block: the remaining bytes, with the length's low byte on top. */
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < len % 8; i++)
		last |= (uint64_t)in[full + i] << (8 * i);
	sip_compress(&s, last);

	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
