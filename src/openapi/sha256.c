/* SHA-256 after FIPS 180-4, section 6.2; on x86-64 processors with the SHA
 * extensions the blocks go through them (about ten times faster: a spec is
 * hashed every time it is loaded). */
#include "openapi/sha256.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define SHA256_NI 1
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t st[8], const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
    st[4] += e;
    st[5] += f;
    st[6] += g;
    st[7] += h;
}

void openapi_sha256_init(struct openapi_sha256_ctx *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->state, iv, sizeof(iv));
    c->bytes = 0;
    c->used = 0;
}

#ifdef SHA256_NI
/* The blocks through the SHA extensions: state as ABEF/CDGH, four rounds
 * per message group, the schedule by sha256msg1/msg2. */
__attribute__((target("sha,sse4.1"))) static void compress_ni(uint32_t st[8],
                                                              const unsigned char *p, size_t blocks)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1);  /* CDAB */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B); /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                         /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xF0);                                              /* CDGH */
/* Four rounds with message group m (16 bytes of W) and constants K[4g..]. */
#define NI_ROUNDS(m, g)                                                                            \
    do {                                                                                           \
        __m128i k_ = _mm_add_epi32((m), _mm_loadu_si128((const __m128i *)&K[4 * (g)]));            \
        s1 = _mm_sha256rnds2_epu32(s1, s0, k_);                                                    \
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(k_, 0x0E));                           \
    } while (0)
/* The next message group in place of a (groups a, b, c, d in order). */
#define NI_SCHEDULE(a, b, c, d)                                                                    \
    (a) = _mm_sha256msg2_epu32(                                                                    \
        _mm_add_epi32(_mm_sha256msg1_epu32((a), (b)), _mm_alignr_epi8((d), (c), 4)), (d))
    for (; blocks > 0; blocks--, p += 64) {
        __m128i abef = s0, cdgh = s1;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), swap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), swap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), swap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), swap);
        NI_ROUNDS(m0, 0);
        NI_ROUNDS(m1, 1);
        NI_ROUNDS(m2, 2);
        NI_ROUNDS(m3, 3);
        for (int g = 4; g < 16; g += 4) {
            NI_SCHEDULE(m0, m1, m2, m3);
            NI_ROUNDS(m0, g);
            NI_SCHEDULE(m1, m2, m3, m0);
            NI_ROUNDS(m1, g + 1);
            NI_SCHEDULE(m2, m3, m0, m1);
            NI_ROUNDS(m2, g + 2);
            NI_SCHEDULE(m3, m0, m1, m2);
            NI_ROUNDS(m3, g + 3);
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
#undef NI_ROUNDS
#undef NI_SCHEDULE
    t = _mm_shuffle_epi32(s0, 0x1B);   /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);  /* DCHG */
    s0 = _mm_blend_epi16(t, s1, 0xF0); /* DCBA */
    s1 = _mm_alignr_epi8(s1, t, 8);    /* HGFE */
    _mm_storeu_si128((__m128i *)&st[0], s0);
    _mm_storeu_si128((__m128i *)&st[4], s1);
}
#endif

/* Whether the processor has the SHA extensions (asked once). */
static bool have_ni(void)
{
#ifdef SHA256_NI
    static int known = -1;
    if (known < 0) {
        /* CPUID leaf 7 EBX bit 29: SHA; leaf 1 ECX bits 9 and 19: SSSE3,
         * SSE4.1 (the shuffles and blends around it). */
        unsigned a, b, c, d;
        bool sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1u);
        bool sse = __get_cpuid(1, &a, &b, &c, &d) && (c >> 9 & 1u) && (c >> 19 & 1u);
        known = sha && sse;
    }
    return known > 0;
#else
    return false;
#endif
}

static void compress_blocks(uint32_t st[8], const unsigned char *p, size_t blocks)
{
#ifdef SHA256_NI
    if (have_ni()) {
        compress_ni(st, p, blocks);
        return;
    }
#endif
    for (; blocks > 0; blocks--, p += 64)
        compress(st, p);
}

void openapi_sha256_update(struct openapi_sha256_ctx *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len == 0) /* data may be NULL then (memcpy must not see it) */
        return;
    c->bytes += len;
    if (c->used > 0) {
        size_t n = 64 - c->used;
        if (n > len)
            n = len;
        memcpy(c->block + c->used, p, n);
        c->used += n;
        p += n;
        len -= n;
        if (c->used < 64)
            return;
        compress_blocks(c->state, c->block, 1);
        c->used = 0;
    }
    /* Whole blocks straight from the input. */
    compress_blocks(c->state, p, len / 64);
    p += len - len % 64;
    len %= 64;
    memcpy(c->block, p, len);
    c->used = len;
}

void openapi_sha256_final(struct openapi_sha256_ctx *c, unsigned char out[OPENAPI_SHA256_SIZE])
{
    uint64_t bits = c->bytes * 8;
    unsigned char pad = 0x80;
    openapi_sha256_update(c, &pad, 1);
    unsigned char zero = 0;
    while (c->used != 56)
        openapi_sha256_update(c, &zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    openapi_sha256_update(c, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->state[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->state[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->state[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->state[i];
    }
}

void openapi_sha256_hex(const void *data, size_t len, char out[OPENAPI_SHA256_HEX_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    struct openapi_sha256_ctx c;
    unsigned char d[OPENAPI_SHA256_SIZE];
    openapi_sha256_init(&c);
    openapi_sha256_update(&c, data, len);
    openapi_sha256_final(&c, d);
    for (int i = 0; i < OPENAPI_SHA256_SIZE; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}
