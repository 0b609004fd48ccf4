/* FNV-1a, 64 bits; see hash.h. */
#include "util/hash.h"

uint64_t util_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}
