/* fuzz_hex.c - libFuzzer target for the strict hex decoder: whatever it
 * accepts must re-encode to the input, up to letter case. */
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include "core/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    static uint8_t bytes[2048];
    static char hex[4097];
    size_t n = 0;
    if (pel_hex_decode((const char *)data, size, bytes, sizeof bytes, &n) != 0)
        return 0;
    if (n * 2 != size)
        abort();
    pel_hex_encode(bytes, n, hex);
    if (strncasecmp(hex, (const char *)data, size) != 0)
        abort();
    return 0;
}
