/*
 * codec.c - canonical codec (see codec.h).
 *
 * Every integer goes through put_le()/get_le(), and every read through
 * take(), which is the only place that checks bounds and sets the sticky
 * error for truncation.
 */
#include "core/codec.h"

#include <string.h>

static int put_le(pel_buf *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    pel_le_store(tmp, v, n);
    return pel_buf_append(b, tmp, n);
}

int pel_enc_u8(pel_buf *b, uint8_t v) { return put_le(b, v, 1); }
int pel_enc_u16(pel_buf *b, uint16_t v) { return put_le(b, v, 2); }
int pel_enc_u32(pel_buf *b, uint32_t v) { return put_le(b, v, 4); }
int pel_enc_u64(pel_buf *b, uint64_t v) { return put_le(b, v, 8); }
int pel_enc_i64(pel_buf *b, int64_t v) { return put_le(b, (uint64_t)v, 8); }
int pel_enc_bool(pel_buf *b, bool v) { return put_le(b, v ? 1 : 0, 1); }

int pel_enc_raw(pel_buf *b, const void *p, size_t n)
{
    return pel_buf_append(b, p, n);
}

/* Reserving first makes the prefix and the bytes succeed or fail together,
 * so b is never left holding half a value. */
int pel_enc_bytes(pel_buf *b, const void *p, size_t n)
{
    if (n > UINT32_MAX)
        return PEL_ERANGE;
    int rc = pel_buf_reserve(b, 4 + n);
    if (rc)
        return rc;
    rc = put_le(b, n, 4);
    return rc ? rc : pel_buf_append(b, p, n);
}

void pel_dec_init(pel_dec *d, const void *p, size_t len)
{
    d->p = p ? p : (const uint8_t *)"";   /* zero-length reads stay non-NULL */
    d->len = len;
    d->pos = 0;
    d->err = 0;
}

static int fail(pel_dec *d, int err)
{
    if (!d->err)
        d->err = err;
    return d->err;
}

/* take - claim the next n bytes. */
static int take(pel_dec *d, size_t n, const uint8_t **ptr)
{
    *ptr = NULL;
    if (d->err)
        return d->err;
    if (n > d->len - d->pos)
        return fail(d, PEL_ETRUNC);
    *ptr = d->p + d->pos;
    d->pos += n;
    return 0;
}

static int get_le(pel_dec *d, size_t n, uint64_t *out)
{
    const uint8_t *s;
    *out = 0;
    int rc = take(d, n, &s);
    if (!rc) *out = pel_le_load(s, n);
    return rc;
}

/* Each fixed-width decoder is get_le() narrowed to its type. */
#define DEC_UINT(name, type, width)                 \
    int name(pel_dec *d, type *out)                 \
    {                                               \
        uint64_t v;                                 \
        int rc = get_le(d, width, &v);              \
        *out = (type)v;                             \
        return rc;                                  \
    }
DEC_UINT(pel_dec_u8, uint8_t, 1)
DEC_UINT(pel_dec_u16, uint16_t, 2)
DEC_UINT(pel_dec_u32, uint32_t, 4)
DEC_UINT(pel_dec_u64, uint64_t, 8)
DEC_UINT(pel_dec_i64, int64_t, 8)
#undef DEC_UINT

int pel_dec_bool(pel_dec *d, bool *out)
{
    uint64_t v;
    int rc = get_le(d, 1, &v);
    *out = false;
    if (rc)
        return rc;
    if (v > 1)
        return fail(d, PEL_ENONCANON);
    *out = v == 1;
    return 0;
}

int pel_dec_raw(pel_dec *d, size_t n, const uint8_t **ptr)
{
    return take(d, n, ptr);
}

int pel_dec_count(pel_dec *d, uint32_t max, uint32_t *n)
{
    int rc = pel_dec_u32(d, n);
    if (!rc && *n > max)
        rc = fail(d, PEL_ETOOLONG);
    if (rc)
        *n = 0;
    return rc;
}

int pel_dec_bytes(pel_dec *d, size_t max_len, const uint8_t **ptr,
                  size_t *len)
{
    uint64_t n;
    int rc = get_le(d, 4, &n);
    *ptr = NULL;
    *len = 0;
    if (!rc && n > max_len)
        rc = fail(d, PEL_ETOOLONG);
    if (!rc)
        rc = take(d, (size_t)n, ptr);
    if (!rc)
        *len = (size_t)n;
    return rc;
}

int pel_dec_finish(pel_dec *d)
{
    if (d->err)
        return d->err;
    return d->pos == d->len ? 0 : fail(d, PEL_ETRAILING);
}
