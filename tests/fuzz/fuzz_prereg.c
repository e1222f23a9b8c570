/* fuzz_prereg.c - libFuzzer target for the preregistration module's body
 * decoder (src/modules/prereg.c): data[0] picks the type (commit, reveal,
 * results, status), the rest is the body. The check never crashes, is
 * deterministic (same code, same message), and refuses every proper
 * prefix of an accepted body (no body is a prefix of another: the codec
 * is length-prefixed). */
#include <stdlib.h>
#include <string.h>

#include "modules/prereg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint16_t type = (uint16_t)(PEL_TX_PREREG_COMMIT + data[0] % 4);
    const uint8_t *body = data + 1;
    uint32_t len = (uint32_t)(size - 1);
    const char *why = NULL, *why2 = NULL;
    int rc = pel_prereg_module.check(type, body, len, &why);
    if (rc != pel_prereg_module.check(type, body, len, &why2) || why != why2) abort();
    if (rc == 0 && why != NULL) abort();
    if (rc == 0)
        for (uint32_t cut = 0; cut < len; cut++)
            if (pel_prereg_module.check(type, body, cut, &why2) == 0) abort();
    return 0;
}
