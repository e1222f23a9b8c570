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

/* One more than the value of each hex digit; 0 for every other byte. Not
 * locale-dependent, unlike isxdigit(). A table, so that decoding (every
 * transaction submitted over RPC) branches once a string, not per digit. */
static const uint8_t DIGIT[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int pel_hex_decode(const char *hex, size_t hexlen, uint8_t *out,
                   size_t outcap, size_t *outlen)
{
    *outlen = 0;
    if (hexlen % 2)
        return PEL_EHEX;
    if (hexlen / 2 > outcap)
        return PEL_ERANGE;
    const unsigned char *h = (const unsigned char *)hex;
    unsigned bad = 0;
    for (size_t i = 0; i < hexlen / 2; i++) {
        unsigned hi = DIGIT[h[2 * i]], lo = DIGIT[h[2 * i + 1]];
        bad |= (hi == 0) | (lo == 0);
        out[i] = (uint8_t)((hi - 1) << 4 | ((lo - 1) & 15));
    }
    if (bad) {
        memset(out, 0, hexlen / 2);
        return PEL_EHEX;
    }
    *outlen = hexlen / 2;
    return 0;
}
