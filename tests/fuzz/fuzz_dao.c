/* fuzz_dao.c - libFuzzer target for the DAO module's body decoder
 * (src/modules/dao.c): the first byte picks the transaction type (create,
 * deposit, propose, vote, execute, release), the rest is the body; the
 * properties are fuzz_module.h's. */
#include "modules/dao.h"

#include "fuzz_module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint16_t type = (uint16_t)(PEL_TX_DAO_CREATE + data[0] % 6);
    fuzz_module(&pel_dao_module, type, data + 1, (uint32_t)(size - 1));
    return 0;
}
