/*
 * pd-uthash.h - uthash with our own hash function.  uthash's default
 * (Jenkins) is a switch with fall-through that clang's
 * -Wimplicit-fallthrough rejects, and an FNV-1a over the key is as good for
 * the short keys we hash (ids, tids, names).
 */
#ifndef PD_UTHASH_H
#define PD_UTHASH_H

#include <stddef.h>
#include <stdint.h>

static inline unsigned
pd_hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return (unsigned)(h ^ (h >> 32));
}

#define HASH_FUNCTION(keyptr, keylen, hashv) \
	((hashv) = pd_hash_bytes((keyptr), (size_t)(keylen)))

#include <uthash.h>

#endif
