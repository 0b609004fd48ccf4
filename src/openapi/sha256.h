/* SHA-256 (FIPS 180-4), for fingerprinting the OpenAPI document. */
#ifndef INGESTCHECK_OPENAPI_SHA256_H
#define INGESTCHECK_OPENAPI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define OPENAPI_SHA256_SIZE 32
/* 64 lower-case hex digits and a NUL. */
#define OPENAPI_SHA256_HEX_SIZE 65

struct openapi_sha256_ctx {
    uint32_t state[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
};

void openapi_sha256_init(struct openapi_sha256_ctx *c);
void openapi_sha256_update(struct openapi_sha256_ctx *c, const void *data, size_t len);
void openapi_sha256_final(struct openapi_sha256_ctx *c, unsigned char out[OPENAPI_SHA256_SIZE]);

/* One-shot: writes the digest of data as lower-case hex into out. */
void openapi_sha256_hex(const void *data, size_t len, char out[OPENAPI_SHA256_HEX_SIZE]);

#endif
