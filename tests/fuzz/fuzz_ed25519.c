/* fuzz_ed25519.c - libFuzzer target holding core/ed25519.c's verdict
 * against libsodium's crypto_sign_ed25519_verify_detached. The input is
 * a key seed (32 bytes), a mode byte, a 64-byte mask and the message: the
 * target signs the message, XORs the mask into the signature (an all-zero
 * mask leaves it valid), and with the mode's low bit set adds one of the
 * eight small-order points (mode >> 1 selects it) to R, the tweak a
 * cofactored check would accept and libsodium refuses. The two verdicts
 * must agree on every input. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/ed25519.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A point of order 8; its multiples are the whole small-order subgroup. */
static const uint8_t ORDER8[32] = {
    0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
    0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
    0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a};

static void add_torsion(uint8_t r[32], unsigned k)
{
    uint8_t t[32], sum[32];
    memcpy(t, ORDER8, 32);
    for (unsigned i = 0; i < k % 8; i++) {
        if (crypto_core_ed25519_add(sum, t, ORDER8) != 0) return;
        memcpy(t, sum, 32);
    }
    if (crypto_core_ed25519_add(sum, r, t) == 0) memcpy(r, sum, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t pk[32], sk[64], sig[64];
    if (size < 32 + 1 + 64) return 0;
    if (sodium_init() < 0) abort();
    crypto_sign_ed25519_seed_keypair(pk, sk, data);
    const uint8_t mode = data[32], *mask = data + 33, *msg = data + 97;
    size_t len = size - 97;
    crypto_sign_ed25519_detached(sig, NULL, msg, len, sk);
    for (int i = 0; i < 64; i++) sig[i] ^= mask[i];
    if (mode & 1) add_torsion(sig, mode >> 1);
    int lib = crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0 ? 0 : -1;
    if (pel_ed25519_verify(pk, msg, len, sig) != lib) abort();
    return 0;
}
