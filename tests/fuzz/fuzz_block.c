/* fuzz_block.c - libFuzzer target for the block decoders (src/ledger/
 * block.c): pel_block_record_decode, pel_receipt_decode and the header
 * cursor decoder, each run on the input. Whatever decodes must re-encode
 * to the input byte for byte (one value, one encoding), with every
 * transaction slice inside the input and the record's count equal to the
 * header's tx_count; failures leave the outputs cleared. */
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "ledger/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const uint8_t *data, size_t size)
{
    pel_block_header h;
    const uint8_t **txs;
    uint32_t *lens, n;
    int rc = pel_block_record_decode(data, size, &h, &txs, &lens, &n);
    if (rc) {
        if (txs || lens || n) abort();
        return;
    }
    if (n != h.tx_count || !txs || !lens) abort();
    pel_buf b;
    pel_buf_init(&b);
    if (pel_block_header_encode(&h, 1, &b) != 0 || pel_enc_u32(&b, n) != 0) abort();
    for (uint32_t i = 0; i < n; i++) {
        if (lens[i] && (txs[i] < data || txs[i] + lens[i] > data + size)) abort();
        if (pel_enc_bytes(&b, txs[i], lens[i]) != 0) abort();
    }
    if (b.len != size || memcmp(b.data, data, size) != 0) abort();
    pel_buf_free(&b);
    free(txs);
    free(lens);
}

static void check_receipt(const uint8_t *data, size_t size)
{
    pel_receipt r;
    int rc = pel_receipt_decode(data, size, &r);
    if (rc) {
        if (r.status || r.gas_used || r.events || r.events_len) abort();
        return;
    }
    if (r.events_len && (r.events < data || r.events + r.events_len > data + size)) abort();
    pel_buf b;
    pel_buf_init(&b);
    if (pel_receipt_encode(&r, &b) != 0 || b.len != size || memcmp(b.data, data, size) != 0) abort();
    pel_buf_free(&b);
}

static void check_header(const uint8_t *data, size_t size)
{
    pel_block_header h;
    pel_dec d;
    pel_dec_init(&d, data, size);
    pel_block_header_dec(&d, &h);
    if (pel_dec_finish(&d) != 0) return;
    pel_buf b;
    pel_buf_init(&b);
    if (pel_block_header_encode(&h, 1, &b) != 0 || b.len != size || memcmp(b.data, data, size) != 0)
        abort();
    pel_buf_free(&b);
    (void)pel_block_header_verify(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_record(data, size);
    check_receipt(data, size);
    check_header(data, size);
    return 0;
}
