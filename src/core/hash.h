/*
 * hash.h - BLAKE2b-256 with domain separation, and SHA-256 (libsodium).
 *
 * BLAKE2b-256 names transactions, signing payloads and state-tree nodes;
 * each use has its own ASCII tag ("PEL/tx", "PEL/state-leaf", ...) so a
 * digest made for one purpose can never be replayed as another. SHA-256 is
 * for research-object content digests and the RFC 9162 history tree, where
 * outside tools must agree with us, so it is plain and untagged.
 *
 * Domain separation, exactly: the tagged hash of data under tag T is
 *
 *     BLAKE2b-256( u8(len(T)) || T || data )      (unkeyed, 32-byte output)
 *
 * where T is 1..64 printable ASCII bytes (0x20..0x7e). The length prefix
 * makes the (tag, data) split unambiguous: no two different pairs give the
 * same hash input, so tags cannot collide with each other or with data.
 *
 * Thread safety: the one-shot functions are thread-safe; a pel_hasher or
 * pel_sha256_ctx is used by one thread at a time. Each thread keeps the
 * BLAKE2b state after its recently used tags (hash.c), so starting a tagged
 * hash is a copy; that cache is the thread's own.
 */
#ifndef PEL_HASH_H
#define PEL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "core/err.h"

#define PEL_HASH_LEN 32
#define PEL_SHA256_LEN 32
#define PEL_HASH_TAG_MAX 64

/* pel_crypto_init - initialise libsodium once per process (sodium_init()
 * under pthread_once). Idempotent, thread-safe and cheap after the first
 * call; every crypto entry point in core/ calls it, so callers need not,
 * but a program may call it early to fail fast.
 * @return 0, or PEL_ECRYPTO if libsodium could not initialise. */
PEL_MUST_USE int pel_crypto_init(void);

/* pel_hash_tagged - one-shot tagged BLAKE2b-256 (construction above).
 * @param[in]  tag   NUL-terminated domain tag, 1..64 printable ASCII bytes
 * @param[in]  data  may be NULL when len == 0
 * @param[out] out   32-byte digest; zeroed on failure
 * @return 0, PEL_EINVAL (bad tag) or PEL_ECRYPTO. */
PEL_MUST_USE int pel_hash_tagged(const char *tag, const void *data, size_t len,
                                 uint8_t out[PEL_HASH_LEN]) PEL_NONNULL(1, 4);

/* Incremental tagged hash: init, any number of updates, one final. */
typedef struct pel_hasher {
    crypto_generichash_state st;
} pel_hasher;

/* pel_hasher_init - start a tagged hash (absorbs the tag prefix).
 * @return 0, PEL_EINVAL (bad tag) or PEL_ECRYPTO. */
PEL_MUST_USE int pel_hasher_init(pel_hasher *h, const char *tag)
    PEL_NONNULL(1, 2);

/* pel_hasher_update - absorb len bytes (data may be NULL if len == 0). */
void pel_hasher_update(pel_hasher *h, const void *data, size_t len)
    PEL_NONNULL(1);

/* pel_hasher_final - write the digest; the hasher is spent afterwards.
 * @return 0, or PEL_ECRYPTO (e.g. finalised twice); out zeroed on failure. */
PEL_MUST_USE int pel_hasher_final(pel_hasher *h, uint8_t out[PEL_HASH_LEN])
    PEL_NONNULL(1, 2);

/* pel_sha256 - plain SHA-256 (FIPS 180-4) of data[0..len). Cannot fail. */
void pel_sha256(const void *data, size_t len, uint8_t out[PEL_SHA256_LEN])
    PEL_NONNULL(3);

/* Incremental SHA-256: init, updates, one final. Cannot fail. */
typedef struct pel_sha256_ctx {
    crypto_hash_sha256_state st;
} pel_sha256_ctx;

void pel_sha256_init(pel_sha256_ctx *c) PEL_NONNULL(1);
void pel_sha256_update(pel_sha256_ctx *c, const void *data, size_t len)
    PEL_NONNULL(1);
void pel_sha256_final(pel_sha256_ctx *c, uint8_t out[PEL_SHA256_LEN])
    PEL_NONNULL(1, 2);

#endif
