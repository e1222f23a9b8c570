/*
 * ed25519.h - our own Ed25519 signature equation: libsodium's strict
 * verdict with about 60 % of its instructions, for keys already checked.
 *
 * libsodium's crypto_sign_ed25519_verify_detached computes [S]B - [k]A
 * (k = SHA-512(R || A || M) mod L) with about 253 doublings and compares its
 * encoding with R. For a public key A already known to be in the
 * prime-order subgroup (pel_keycache's keys passed
 * crypto_core_ed25519_is_valid_point), the same verdict is reached with
 * half the doublings (the idea of Antipa et al. and of T. Pornin's
 * "Optimized lattice basis reduction in dimension 2", eprint 2020/454):
 *
 *   find c0, c1 of about 127 bits with c0 = c1 * k (mod L) and c1 odd;
 *   then T = [S]B - [k]A - R is the identity  iff
 *        [c1 * S mod L]B - [c0]A - [c1]R   is the identity,
 *
 * because A and B have order L (so [c1 k]A = [c0]A) and an odd c1 with
 * 0 < |c1| < L is invertible modulo every possible order of T (a divisor of
 * 8L). R is decoded as a point, so a signature whose R carries a small-order
 * component is refused exactly as libsodium refuses it (cofactorless), and
 * "T is the identity" is "the encoding of [S]B - [k]A equals R" for a
 * canonical R. B's 253-bit multiplier is split in two halves over fixed
 * tables of B and [2^128]B, so every term has about 128 bits.
 *
 * Anything unusual (S >= L, R not a canonical encoding of a curve point,
 * R of small order) is handed to libsodium itself, so those verdicts are
 * libsodium's by construction; tests/core/test_ed25519.c compares both
 * verdicts on valid, tampered, torsion-tweaked and malformed signatures.
 *
 * Variable time: it handles public data only (signatures, keys, messages).
 * Thread safety: all functions are thread-safe; the fixed tables are built
 * once (pthread_once) and read-only afterwards.
 */
#ifndef PEL_ED25519_H
#define PEL_ED25519_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* A public key decoded once (the square root that recovers x from the
 * encoding costs about a tenth of a verification), for
 * pel_ed25519_verify_key. Plain data: copy it freely. */
typedef struct pel_ed25519_key {
    uint8_t pk[32];       /* the encoding */
    uint64_t x[5];        /* x, five 51-bit limbs (private to ed25519.c) */
    uint8_t ok;           /* decoded, not of small order */
} pel_ed25519_key;

/* pel_ed25519_key_init - decode pk into *k. A key that does not decode or
 * is of small order is still stored (ok = 0): verifying with it hands the
 * signature to libsodium, which refuses it. Never fails. */
void pel_ed25519_key_init(pel_ed25519_key *k, const uint8_t pk[32])
    PEL_NONNULL(1, 2);

/* pel_ed25519_verify_key - libsodium's crypto_sign_ed25519_verify_detached
 * verdict on sig over msg[0..len) (msg may be NULL if len is 0) under k->pk.
 * Precondition: k->pk passed crypto_core_ed25519_is_valid_point (canonical,
 * not of small order, in the prime-order subgroup); for any other key the
 * verdict is unspecified (the caller checks keys: pel_sign_verify_cached).
 * @return 0 if valid, -1 if not. */
PEL_MUST_USE int pel_ed25519_verify_key(const pel_ed25519_key *k, const void *msg,
                                        size_t len, const uint8_t sig[64])
    PEL_NONNULL(1, 4);

/* pel_ed25519_verify - the same for a key not decoded beforehand. */
PEL_MUST_USE int pel_ed25519_verify(const uint8_t pk[32], const void *msg,
                                    size_t len, const uint8_t sig[64])
    PEL_NONNULL(1, 4);

/* ---- building blocks, exposed so that tests can hold each one against
 * libsodium on its own ---- */

/* pel_ed25519_lincomb - out = encoding of [a]P + [b]Q + [c]B, for P and Q
 * canonical encodings of curve points (any order) and 32-byte little-endian
 * scalars a, b, c (any value below 2^256; not reduced). Uses the same
 * windowed multi-scalar multiplication as pel_ed25519_verify.
 * @return 0, or -1 if P or Q is not a canonical encoding of a point. */
PEL_MUST_USE int pel_ed25519_lincomb(uint8_t out[32], const uint8_t a[32],
                                     const uint8_t p[32], const uint8_t b[32],
                                     const uint8_t q[32], const uint8_t c[32])
    PEL_NONNULL(1, 2, 3, 4, 5, 6);

/* pel_ed25519_short_pair - for k < L (32 bytes little-endian), signed c0 and
 * c1 with c0 = c1 * k (mod L), c1 odd, |c0| and |c1| below 2^bits; the
 * magnitudes are written little-endian into 32-byte buffers and the signs
 * into *neg0 / *neg1 (1 = negative).
 * @return the larger bit length of |c0| and |c1| (about 127 for almost all
 *         k; at most 253). */
int pel_ed25519_short_pair(const uint8_t k[32], uint8_t c0[32], int *neg0,
                           uint8_t c1[32], int *neg1)
    PEL_NONNULL(1, 2, 3, 4, 5);

#endif
