/* Small character helpers shared by the parsers. */
#ifndef INGESTCHECK_UTIL_TEXT_H
#define INGESTCHECK_UTIL_TEXT_H

/* Value of a hexadecimal digit, or -1 when c is not one. */
static inline int util_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
