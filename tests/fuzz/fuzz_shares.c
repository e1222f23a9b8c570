/* fuzz_shares.c - libFuzzer target for the shares module's body decoder
 * (src/modules/shares.c): the first byte picks the transaction type
 * (create, transfer, claim), the rest is the body; the properties are
 * fuzz_module.h's. */
#include "modules/shares.h"

#include "fuzz_module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint16_t type = (uint16_t)(PEL_TX_SHARES_CREATE + data[0] % 3);
    fuzz_module(&pel_shares_module, type, data + 1, (uint32_t)(size - 1));
    return 0;
}
