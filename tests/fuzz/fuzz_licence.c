/* fuzz_licence.c - libFuzzer target for the licence module's body decoders
 * (src/modules/licence.c): the first byte picks the transaction type
 * (even: terms, odd: buy), the rest is the body; the properties are
 * fuzz_module.h's. */
#include "modules/licence.h"

#include "fuzz_module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint16_t type = (data[0] & 1) ? PEL_TX_LIC_BUY : PEL_TX_LIC_TERMS;
    fuzz_module(&pel_licence_module, type, data + 1, (uint32_t)(size - 1));
    return 0;
}
