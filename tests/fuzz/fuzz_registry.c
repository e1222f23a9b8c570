/* fuzz_registry.c - libFuzzer target for the research-object registry's
 * body decoder (src/modules/registry.c).
 *
 * data[0] picks the transaction type (register, version, maintainer), the
 * rest is the body. For every input:
 *   - the properties of fuzz_module.h (check deterministic, prefixes of an
 *     accepted body refused, exec refuses what check refuses, alike);
 *   - when a register/version body is accepted, re-encoding its decoded
 *     fields gives the body back byte for byte (one object, one
 *     encoding), and sorting them changes nothing (accepted = canonical);
 *   - an accepted body's strings lie inside the input. */
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "modules/registry.h"

#include "fuzz_module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint16_t type = (uint16_t)(PEL_TX_OBJ_REGISTER + data[0] % 3);
    const uint8_t *body = data + 1;
    uint32_t len = (uint32_t)(size - 1);
    const char *why = NULL;
    int rc = fuzz_module(&pel_registry_module, type, body, len);
    if (rc || type == PEL_TX_OBJ_MAINTAINER) return 0;
    size_t skip = type == PEL_TX_OBJ_VERSION ? PEL_OBJ_ID_LEN : 0;
    pel_dec d;
    pel_obj_fields *f = malloc(sizeof *f), *g = malloc(sizeof *g);
    pel_buf out;
    if (!f || !g) abort();
    pel_dec_init(&d, body + skip, len - skip);
    if (pel_obj_fields_decode(&d, f, &why) || pel_dec_finish(&d)) abort();
    if (f->title < body || f->title + f->title_len > body + len) abort();
    pel_buf_init(&out);
    if (pel_obj_fields_encode(f, &out) || out.len != len - skip || memcmp(out.data, body + skip, out.len)) abort();
    /* sorting an accepted (hence canonical) set is the identity */
    uint8_t *dg = malloc(f->n_digests * 32 + 1);
    if (!dg) abort();
    memcpy(dg, f->digests, f->n_digests * 32);
    *g = *f;
    g->digests = dg;
    pel_obj_fields_sort(g);
    pel_buf_reset(&out);
    if (pel_obj_fields_encode(g, &out) || out.len != len - skip || memcmp(out.data, body + skip, out.len)) abort();
    free(dg);
    pel_buf_free(&out);
    free(f);
    free(g);
    return 0;
}
