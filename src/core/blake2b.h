/*
 * blake2b.h - BLAKE2b-256 of short inputs, several at a time: the state
 * tree's hot hashes (paths, values, leaves and pairs: about 9 a key
 * written, about half of an update's time).
 *
 * Each digest is exactly libsodium's crypto_generichash(out, 32, in, len,
 * NULL, 0) (unkeyed BLAKE2b, RFC 7693); tests/core/test_blake2b.c checks
 * every length against it. One BLAKE2b compression is a chain of
 * dependent operations, so a single hash leaves most of a core idle;
 * where the CPU and OS support AVX2, four inputs are compressed together,
 * one per 64-bit lane of 256-bit vectors, in about the time of one (2.7x
 * the throughput of four libsodium calls on the 2-core AMD EPYC of
 * bench/RESULTS.md). Elsewhere, and for a lone input, it is the libsodium
 * call.
 *
 * Thread safety: pure, thread-safe. The libsodium fallback needs
 * pel_crypto_init() to have run (the state tree's entry points do).
 */
#ifndef PEL_BLAKE2B_H
#define PEL_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#define PEL_BLAKE2B_BLOCK 128   /* the longest input (one compression) */

/* One input and where its digest goes. */
typedef struct pel_blake2b_job {
    const uint8_t *in;   /* may be NULL when len is 0 */
    size_t len;          /* <= PEL_BLAKE2B_BLOCK */
    uint8_t *out;        /* 32 bytes */
} pel_blake2b_job;

/*
 * pel_blake2b_batch - job[i].out = BLAKE2b-256(job[i].in[0..len)) for
 * i < n. A job whose len is over PEL_BLAKE2B_BLOCK is a caller bug: its
 * output is zeroed. An output may overlap any input (the inputs of a
 * group of four are read before its outputs are written), but not
 * another output. The jobs are not modified (non-const only so that
 * callers may fill them in a loop without a compiler warning).
 * Example: hash two child pairs at once, inputs built by the caller:
 *     pel_blake2b_job j[2] = { { a, 79, ha }, { b, 79, hb } };
 *     pel_blake2b_batch(j, 2);
 */
void pel_blake2b_batch(pel_blake2b_job *job, size_t n);

#endif
