/* fuzz_prereg.c - libFuzzer target for the preregistration module's body
 * decoder (src/modules/prereg.c): data[0] picks the type (commit, reveal,
 * results, status), the rest is the body; the properties are
 * fuzz_module.h's. */
#include "modules/prereg.h"

#include "fuzz_module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    fuzz_module(&pel_prereg_module, (uint16_t)(PEL_TX_PREREG_COMMIT + data[0] % 4), data + 1,
                (uint32_t)(size - 1));
    return 0;
}
