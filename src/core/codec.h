/*
 * codec.h - the canonical binary codec (DESIGN.md section 3).
 *
 * Integers are fixed-width little-endian; i64 is the two's complement u64.
 * A bool is one byte, 0 or 1. A byte string is a u32 length then the bytes;
 * a list is a u32 count then its items. Fields follow in declared order with
 * no padding, so every value has exactly one encoding, and the decoder
 * rejects every input the encoder would not produce.
 *
 * Encoders append to a pel_buf. Decoders read from a pel_dec cursor with a
 * sticky error: after the first failure every later call returns that same
 * code, so a decoding function may check once at the end:
 *
 *     pel_dec d;
 *     pel_dec_init(&d, data, len);
 *     (void)pel_dec_u64(&d, &tx->nonce);
 *     (void)pel_dec_bytes(&d, PEL_MAX_BODY, &tx->body, &tx->body_len);
 *     int rc = pel_dec_finish(&d);     // also rejects trailing bytes
 *
 * Thread safety: a pel_buf / pel_dec is used by one thread at a time.
 */
#ifndef PEL_CODEC_H
#define PEL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

/* pel_le_store / pel_le_load - the codec's integer layout on raw memory:
 * the low n bytes (n <= 8) of v, little-endian. For fixed-width fields that
 * are not in a pel_buf (state values such as counters, digest inputs). */
static inline void pel_le_store(uint8_t *out, uint64_t v, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the common widths as one move (GCC keeps the byte loop otherwise:
     * ~50 instructions for a counter value, on every counter access) */
    if (n == 8) { memcpy(out, &v, 8); return; }
    if (n == 4) { uint32_t w = (uint32_t)v; memcpy(out, &w, 4); return; }
#endif
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t pel_le_load(const uint8_t *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n == 8) { uint64_t v; memcpy(&v, p, 8); return v; }
    if (n == 4) { uint32_t w; memcpy(&w, p, 4); return w; }
#endif
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Encoders: each appends one value to b.
 * @return 0 or PEL_ENOMEM; on failure b is unchanged. */
PEL_MUST_USE int pel_enc_u8(pel_buf *b, uint8_t v) PEL_NONNULL(1);
PEL_MUST_USE int pel_enc_u16(pel_buf *b, uint16_t v) PEL_NONNULL(1);
PEL_MUST_USE int pel_enc_u32(pel_buf *b, uint32_t v) PEL_NONNULL(1);
PEL_MUST_USE int pel_enc_u64(pel_buf *b, uint64_t v) PEL_NONNULL(1);
PEL_MUST_USE int pel_enc_i64(pel_buf *b, int64_t v) PEL_NONNULL(1);
PEL_MUST_USE int pel_enc_bool(pel_buf *b, bool v) PEL_NONNULL(1);

/* pel_enc_bytes - u32 length then the n bytes of p (p may be NULL if n == 0).
 * @return 0, PEL_ERANGE if n > UINT32_MAX, or PEL_ENOMEM; b unchanged on
 *         failure. */
PEL_MUST_USE int pel_enc_bytes(pel_buf *b, const void *p, size_t n)
    PEL_NONNULL(1);

/* pel_enc_raw - exactly n bytes, no prefix: for fixed-size fields (hashes,
 * keys, signatures) whose length the schema fixes.
 * @return 0 or PEL_ENOMEM; b unchanged on failure. */
PEL_MUST_USE int pel_enc_raw(pel_buf *b, const void *p, size_t n)
    PEL_NONNULL(1);

/* A decoding cursor over caller-owned input p[0..len). err is 0 or the
 * first error met (sticky). */
typedef struct pel_dec {
    const uint8_t *p;
    size_t len, pos;
    int err;
} pel_dec;

/* pel_dec_init - start decoding p[0..len). The input must outlive every
 * pointer that pel_dec_bytes()/pel_dec_raw() return. */
void pel_dec_init(pel_dec *d, const void *p, size_t len) PEL_NONNULL(1);

/* The element decoders below are deliberately not PEL_MUST_USE: because
 * the error is sticky, a caller may ignore their results and check
 * pel_dec_finish() (which is PEL_MUST_USE) once at the end. Outputs are
 * still cleared on failure, so an ignored error never leaves garbage. */

/* Integer and bool decoders: read one value into *out.
 * @return 0, PEL_ETRUNC (input ends first), PEL_ENONCANON (bool byte other
 *         than 0 or 1), or the earlier sticky error. On failure *out = 0. */
int pel_dec_u8(pel_dec *d, uint8_t *out) PEL_NONNULL(1, 2);
int pel_dec_u16(pel_dec *d, uint16_t *out) PEL_NONNULL(1, 2);
int pel_dec_u32(pel_dec *d, uint32_t *out) PEL_NONNULL(1, 2);
int pel_dec_u64(pel_dec *d, uint64_t *out) PEL_NONNULL(1, 2);
int pel_dec_i64(pel_dec *d, int64_t *out) PEL_NONNULL(1, 2);
int pel_dec_bool(pel_dec *d, bool *out) PEL_NONNULL(1, 2);

/* pel_dec_bytes - a length-prefixed byte string, without copying.
 * @param[in]  max_len  largest length the schema allows
 * @param[out] ptr      points into the input (valid as long as it is);
 *                      non-NULL on success even for length 0
 * @param[out] len      the length
 * @return 0, PEL_ETRUNC, PEL_ETOOLONG (declared length > max_len, checked
 *         before the input length), or the sticky error; on failure
 *         *ptr = NULL and *len = 0. */
int pel_dec_bytes(pel_dec *d, size_t max_len, const uint8_t **ptr,
                  size_t *len)
    PEL_NONNULL(1, 3, 4);

/* pel_dec_raw - exactly n bytes with no prefix (the counterpart of
 * pel_enc_raw()). *ptr points into the input; NULL on failure.
 * @return 0, PEL_ETRUNC or the sticky error. */
int pel_dec_raw(pel_dec *d, size_t n, const uint8_t **ptr)
    PEL_NONNULL(1, 3);

/* pel_dec_count - a u32 list count, at most max.
 * @return 0, PEL_ETRUNC, PEL_ETOOLONG (count > max) or the sticky error;
 *         *n = 0 on failure. */
int pel_dec_count(pel_dec *d, uint32_t max, uint32_t *n)
    PEL_NONNULL(1, 3);

/* pel_dec_finish - end of a top-level value: the input must be consumed.
 * @return 0, PEL_ETRAILING if bytes remain (becomes the sticky error), or
 *         the earlier sticky error. */
PEL_MUST_USE int pel_dec_finish(pel_dec *d) PEL_NONNULL(1);

#endif
