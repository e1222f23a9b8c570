/*
 * hex.h - strict hexadecimal encoding for hashes, keys and CLI/RPC output.
 *
 * Encoding is lowercase. Decoding accepts either case but nothing else: no
 * prefix, no whitespace, no odd length. Thread-safe (no state).
 */
#ifndef PEL_HEX_H
#define PEL_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* pel_hex_encode - lowercase hex of p[0..n), NUL-terminated.
 * @param[out] out  caller-owned, at least 2 * n + 1 bytes. */
void pel_hex_encode(const void *p, size_t n, char *out) PEL_NONNULL(3);

/* pel_hex_decode - parse hex[0..hexlen) (no NUL needed) into out.
 * @param[out] out     caller-owned, outcap bytes
 * @param[out] outlen  bytes written (hexlen / 2)
 * @return 0, PEL_EHEX (odd length or a character outside [0-9a-fA-F]) or
 *         PEL_ERANGE (hexlen / 2 > outcap). On failure *outlen = 0 and the
 *         bytes of out that were written are zeroed. */
PEL_MUST_USE int pel_hex_decode(const char *hex, size_t hexlen, uint8_t *out,
                                size_t outcap, size_t *outlen)
    PEL_NONNULL(5);

#endif
