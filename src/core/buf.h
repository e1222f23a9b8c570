/*
 * buf.h - growable byte buffer.
 *
 * The output side of the canonical codec (codec.h) and anything else that
 * builds a byte string of unknown length. Memory is malloc'd and owned by
 * the buffer; data[0..len) is valid, data[len..cap) is spare capacity.
 *
 * Thread safety: none; a pel_buf belongs to one thread at a time.
 *
 * Example:
 *     pel_buf b;
 *     pel_buf_init(&b);
 *     if (pel_buf_append(&b, "abc", 3) != 0) goto fail;
 *     use(b.data, b.len);
 *     pel_buf_free(&b);
 */
#ifndef PEL_BUF_H
#define PEL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct pel_buf {
    uint8_t *data;   /* NULL while cap == 0 */
    size_t len, cap;
} pel_buf;

/* pel_buf_init - an empty buffer; allocates nothing. */
void pel_buf_init(pel_buf *b) PEL_NONNULL(1);

/* pel_buf_free - release the memory; the buffer is empty and reusable. */
void pel_buf_free(pel_buf *b) PEL_NONNULL(1);

/* pel_buf_reserve - make room for at least `extra` more bytes, so that the
 * next appends totalling `extra` bytes cannot fail. Capacity grows by
 * doubling. Pointers into b->data are invalidated if it reallocates.
 * @return 0, or PEL_ENOMEM (allocation failed or len + extra overflows);
 *         on failure the buffer is unchanged. */
PEL_MUST_USE int pel_buf_reserve(pel_buf *b, size_t extra) PEL_NONNULL(1);

/* pel_buf_append - copy n bytes of p to the end.
 * @param[in] p  source; may be NULL when n == 0; must not point into b
 * @return 0 or PEL_ENOMEM (buffer unchanged). */
PEL_MUST_USE int pel_buf_append(pel_buf *b, const void *p, size_t n)
    PEL_NONNULL(1);

/* pel_buf_reset - set len to 0, keeping the memory for reuse. */
void pel_buf_reset(pel_buf *b) PEL_NONNULL(1);

#endif
