/* buf.c - growable byte buffer (see buf.h). */
#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 64

void pel_buf_init(pel_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void pel_buf_free(pel_buf *b)
{
    free(b->data);
    pel_buf_init(b);
}

/* Doubling keeps appends amortised O(1); the loop stops at the first
 * power-of-two multiple that fits, or at `need` itself if doubling would
 * overflow. */
static size_t grown_cap(size_t cap, size_t need)
{
    size_t c = cap ? cap : MIN_CAP;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    return c;
}

int pel_buf_reserve(pel_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return PEL_ENOMEM;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = grown_cap(b->cap, need);
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return PEL_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int pel_buf_append(pel_buf *b, const void *p, size_t n)
{
    int rc = pel_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void pel_buf_reset(pel_buf *b)
{
    b->len = 0;
}
