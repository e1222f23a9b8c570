/*
 * key.h - state keys and values as the execution layer sees them.
 *
 * A key is a fixed 32-byte string (in practice a domain-tagged BLAKE2b-256
 * hash), so tables can hash and compare it cheaply. A value is a byte string
 * referenced by pointer; who owns the bytes is said where a value is returned.
 */
#ifndef PEL_KEY_H
#define PEL_KEY_H

#include <stdint.h>
#include <string.h>

#define PEL_KEY_LEN 32
#define PEL_VAL_MAX (1u << 20)   /* largest value a transaction may write */

typedef struct pel_key { uint8_t b[PEL_KEY_LEN]; } pel_key;

typedef struct pel_val { const uint8_t *p; uint32_t len; } pel_val;

/* pel_key_hash - 64-bit table hash of a key. Keys are usually hashes already,
 * but test keys need not be, so the first 16 bytes are mixed. */
static inline uint64_t pel_key_hash(const pel_key *k)
{
    uint64_t a, b;
    memcpy(&a, k->b, 8);
    memcpy(&b, k->b + 8, 8);
    a ^= b * 0x9e3779b97f4a7c15ULL;
    a ^= a >> 32;
    a *= 0xd6e8feb86659fd93ULL;
    a ^= a >> 32;
    return a;
}

static inline int pel_key_cmp(const pel_key *a, const pel_key *b)
{
    return memcmp(a->b, b->b, PEL_KEY_LEN);
}

static inline int pel_key_eq(const pel_key *a, const pel_key *b)
{
    return memcmp(a->b, b->b, PEL_KEY_LEN) == 0;
}

#endif
