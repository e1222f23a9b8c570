/* fuzz_review.c - libFuzzer target for the peer-review module's body
 * decoder (src/modules/review.c): the whole input is the body of a review
 * transaction; the properties are fuzz_module.h's. */
#include "modules/review.h"

#include "fuzz_module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_module(&pel_review_module, PEL_TX_REVIEW, data, (uint32_t)size);
    return 0;
}
