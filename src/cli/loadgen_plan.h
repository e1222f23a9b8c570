/*
 * loadgen_plan.h - which sender sends each transaction of `pel loadgen`'s
 * stream (a pure function, here so that tests can check its promise).
 *
 * The stream is cut into batches of B; batch b goes out on submitting
 * thread b mod T, and each thread sends its batches one after another. So
 * that every sender's transactions leave from one thread, in nonce order
 * (as a wallet's would: spread over threads, a later nonce could reach the
 * node first and wait on the gap), thread g's batches hold only the
 * senders {g, g+T, g+2T, ...} < K, taken round-robin across those batches.
 * Requires 1 <= T <= K and B >= 1.
 */
#ifndef PEL_CLI_LOADGEN_PLAN_H
#define PEL_CLI_LOADGEN_PLAN_H

#include <stdint.h>

/* pel_lg_stream_sender - the sender (0..K-1) of stream position i. */
static inline uint32_t pel_lg_stream_sender(uint32_t k, uint32_t t, uint32_t b, uint32_t i)
{
    uint32_t batch = i / b, g = batch % t, size = k / t + (g < k % t ? 1u : 0u);
    uint64_t p = (uint64_t)(batch / t) * b + i % b;   /* position in thread g's own stream */
    return g + t * (uint32_t)(p % size);
}

#endif
