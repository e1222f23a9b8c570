/* hex.c - strict hex encoding and decoding (see hex.h). */
#include "core/hex.h"

#include <string.h>

void pel_hex_encode(const void *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[s[i] >> 4];
        out[2 * i + 1] = digits[s[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Returns the value of one hex digit, or -1. Not locale-dependent, unlike
 * isxdigit(). */
static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int pel_hex_decode(const char *hex, size_t hexlen, uint8_t *out,
                   size_t outcap, size_t *outlen)
{
    *outlen = 0;
    if (hexlen % 2)
        return PEL_EHEX;
    if (hexlen / 2 > outcap)
        return PEL_ERANGE;
    for (size_t i = 0; i < hexlen / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            memset(out, 0, i);
            return PEL_EHEX;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = hexlen / 2;
    return 0;
}
