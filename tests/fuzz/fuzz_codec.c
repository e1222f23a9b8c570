/* fuzz_codec.c - libFuzzer target for the canonical decoder: any input that
 * decodes under a small fixed schema must re-encode to the same bytes (one
 * value, one encoding). Schema: u16, u64, bytes(max 1024), count(max 16)
 * of u32, bool. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct rec {
    uint16_t a;
    uint64_t b;
    const uint8_t *s;
    size_t slen;
    uint32_t n, items[16];
    bool f;
} rec;

static int decode(const uint8_t *data, size_t size, rec *r)
{
    pel_dec d;
    pel_dec_init(&d, data, size);
    pel_dec_u16(&d, &r->a);
    pel_dec_u64(&d, &r->b);
    pel_dec_bytes(&d, 1024, &r->s, &r->slen);
    pel_dec_count(&d, 16, &r->n);
    for (uint32_t i = 0; i < r->n; i++)
        pel_dec_u32(&d, &r->items[i]);
    pel_dec_bool(&d, &r->f);
    return pel_dec_finish(&d);
}

static int encode(pel_buf *b, const rec *r)
{
    int rc = pel_enc_u16(b, r->a);
    if (!rc) rc = pel_enc_u64(b, r->b);
    if (!rc) rc = pel_enc_bytes(b, r->s, r->slen);
    if (!rc) rc = pel_enc_u32(b, r->n);
    for (uint32_t i = 0; !rc && i < r->n; i++)
        rc = pel_enc_u32(b, r->items[i]);
    if (!rc) rc = pel_enc_bool(b, r->f);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rec r;
    memset(&r, 0, sizeof r);
    if (decode(data, size, &r) != 0)
        return 0;
    pel_buf b;
    pel_buf_init(&b);
    if (encode(&b, &r) != 0)
        abort();
    if (b.len != size || memcmp(b.data, data, size) != 0)
        abort();
    pel_buf_free(&b);
    return 0;
}
