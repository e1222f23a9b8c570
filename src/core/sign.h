/*
 * sign.h - Ed25519 keys and signatures (libsodium).
 *
 * Transactions, block headers and checkpoints are signed with Ed25519.
 * Verification is strict, so that a signature is valid for exactly one
 * well-formed key and cannot be malleated. pel_sign_verify() checks:
 *   - the public key (crypto_core_ed25519_is_valid_point): canonical
 *     encoding (y < p), not of small order (the identity, the all-zero
 *     encoding and the other torsion points are rejected), on the curve,
 *     and in the prime-order subgroup -> otherwise PEL_EBADKEY;
 *   - the signature: exactly crypto_sign_verify_detached's verdict
 *     (libsodium >= 1.0.18): S canonical (S < L), R not of small order, the
 *     public key again canonical and not of small order, then the
 *     cofactorless equation [S]B = R + [k]A -> otherwise PEL_EBADSIG. For a
 *     key that passed the checks above, the equation is our own
 *     (core/ed25519.h: the same verdict with half the doublings); anything
 *     unusual goes to libsodium itself.
 *
 * Secret keys are libsodium's 64-byte form (32-byte seed || public key).
 * Thread safety: all functions are thread-safe; they share no state.
 */
#ifndef PEL_SIGN_H
#define PEL_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define PEL_PUBKEY_LEN 32
#define PEL_SECKEY_LEN 64
#define PEL_SEED_LEN 32
#define PEL_SIG_LEN 64

/* pel_sign_keypair - a fresh random key pair (libsodium's CSPRNG).
 * @param[out] pk, sk  caller-owned; the caller must sodium_memzero(sk)
 *                     when done. Both zeroed on failure.
 * @return 0 or PEL_ECRYPTO. */
PEL_MUST_USE int pel_sign_keypair(uint8_t pk[PEL_PUBKEY_LEN],
                                  uint8_t sk[PEL_SECKEY_LEN])
    PEL_NONNULL(1, 2);

/* pel_sign_seed_keypair - the key pair determined by a 32-byte seed
 * (RFC 8032 "private key"). Same ownership and returns as above. */
PEL_MUST_USE int pel_sign_seed_keypair(uint8_t pk[PEL_PUBKEY_LEN],
                                       uint8_t sk[PEL_SECKEY_LEN],
                                       const uint8_t seed[PEL_SEED_LEN])
    PEL_NONNULL(1, 2, 3);

/* pel_sign - detached signature of msg[0..len) (msg may be NULL if len 0).
 * Deterministic (RFC 8032). sig is zeroed on failure.
 * @return 0 or PEL_ECRYPTO. */
PEL_MUST_USE int pel_sign(const uint8_t sk[PEL_SECKEY_LEN], const void *msg,
                          size_t len, uint8_t sig[PEL_SIG_LEN])
    PEL_NONNULL(1, 4);

/* pel_sign_verify - check sig over msg[0..len) against pk (see the list
 * of checks at the top of this file).
 * @return 0 if valid, PEL_EBADKEY (weak or malformed pk), PEL_EBADSIG, or
 *         PEL_ECRYPTO (libsodium failed to initialise). */
PEL_MUST_USE int pel_sign_verify(const uint8_t pk[PEL_PUBKEY_LEN],
                                 const void *msg, size_t len,
                                 const uint8_t sig[PEL_SIG_LEN])
    PEL_NONNULL(1, 4);

/*
 * pel_keycache - remembers public keys that passed the point checks, so a
 * sender's key is validated once, not with every transaction (the check
 * costs about as much as the signature equation itself), and decoded once
 * (pel_ed25519_key: the square root that recovers the point). A
 * direct-mapped table of PEL_KEYCACHE_SLOTS keys (about 5 MB) behind
 * striped mutexes: a collision only evicts, so a key not found is simply
 * checked again. Thread-safe.
 */
#define PEL_KEYCACHE_SLOTS 65536u
typedef struct pel_keycache pel_keycache;

/* pel_keycache_new / _free. @return 0 or PEL_ENOMEM. */
PEL_MUST_USE int pel_keycache_new(pel_keycache **out) PEL_NONNULL(1);
void pel_keycache_free(pel_keycache *c);

/* pel_sign_verify_cached - exactly pel_sign_verify's checks and results,
 * with the key checks skipped when `cache` (may be NULL) already holds pk.
 * A key is cached only after it passed them. */
PEL_MUST_USE int pel_sign_verify_cached(pel_keycache *cache, const uint8_t pk[PEL_PUBKEY_LEN],
                                        const void *msg, size_t len,
                                        const uint8_t sig[PEL_SIG_LEN])
    PEL_NONNULL(2, 5);

#endif
