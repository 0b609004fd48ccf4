/* FNV-1a, 64 bits: the one non-cryptographic string hash of the project
 * (cassette index and matching, the mock's ID map, seeded values, the
 * shard plan's fingerprint). */
#ifndef INGESTCHECK_UTIL_HASH_H
#define INGESTCHECK_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The FNV-1a 64 offset basis: the h to start from. */
#define UTIL_FNV1A_OFFSET 0xcbf29ce484222325ULL

/* FNV-1a 64 over the n bytes at p, continuing from h (UTIL_FNV1A_OFFSET for
 * a fresh hash; a previous result to hash more after it). */
uint64_t util_fnv1a(uint64_t h, const void *p, size_t n);

#endif
