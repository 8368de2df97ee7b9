/* SipHash-2-4 (Aumasson & Bernstein): a keyed hash for tables whose keys come
 * from clients, so nobody can pick keys that all land in one bucket. */
#ifndef ARCHEIO_SIPHASH_H
#define ARCHEIO_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0;
	uint64_t k1;
};

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

#endif
