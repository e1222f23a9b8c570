/* fuzz_review.c - libFuzzer target for the peer-review module's body
 * decoder (src/modules/review.c): the whole input is the body of a
 * review transaction. The check never crashes, is
 * deterministic (same code, same message), and refuses every proper
 * prefix of an accepted body (no body is a prefix of another: the codec
 * is length-prefixed). */
#include <stdlib.h>
#include <string.h>

#include "modules/review.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t type = PEL_TX_REVIEW;
    const uint8_t *body = data;
    uint32_t len = (uint32_t)size;
    const char *why = NULL, *why2 = NULL;
    int rc = pel_review_module.check(type, body, len, &why);
    if (rc != pel_review_module.check(type, body, len, &why2) || why != why2) abort();
    if (rc == 0 && why != NULL) abort();
    if (rc == 0)
        for (uint32_t cut = 0; cut < len; cut++)
            if (pel_review_module.check(type, body, cut, &why2) == 0) abort();
    return 0;
}
