/* sign.c - strict Ed25519 over libsodium (see sign.h for what is checked). */
#include "core/sign.h"

#include <sodium.h>
#include <string.h>

#include "core/hash.h"

/* Clears a half-made key pair so no secret survives a failure. */
static int keypair_fail(uint8_t *pk, uint8_t *sk, int rc)
{
    memset(pk, 0, PEL_PUBKEY_LEN);
    sodium_memzero(sk, PEL_SECKEY_LEN);
    return rc;
}

int pel_sign_keypair(uint8_t pk[PEL_PUBKEY_LEN], uint8_t sk[PEL_SECKEY_LEN])
{
    int rc = pel_crypto_init();
    if (rc)
        return keypair_fail(pk, sk, rc);
    if (crypto_sign_ed25519_keypair(pk, sk) != 0)
        return keypair_fail(pk, sk, PEL_ECRYPTO);
    return 0;
}

int pel_sign_seed_keypair(uint8_t pk[PEL_PUBKEY_LEN],
                          uint8_t sk[PEL_SECKEY_LEN],
                          const uint8_t seed[PEL_SEED_LEN])
{
    int rc = pel_crypto_init();
    if (rc)
        return keypair_fail(pk, sk, rc);
    if (crypto_sign_ed25519_seed_keypair(pk, sk, seed) != 0)
        return keypair_fail(pk, sk, PEL_ECRYPTO);
    return 0;
}

int pel_sign(const uint8_t sk[PEL_SECKEY_LEN], const void *msg, size_t len,
             uint8_t sig[PEL_SIG_LEN])
{
    static const uint8_t empty[1];
    int rc = pel_crypto_init();
    if (!rc && crypto_sign_ed25519_detached(sig, NULL, len ? msg : empty,
                                            len, sk) != 0)
        rc = PEL_ECRYPTO;
    if (rc)
        memset(sig, 0, PEL_SIG_LEN);
    return rc;
}

int pel_sign_verify(const uint8_t pk[PEL_PUBKEY_LEN], const void *msg,
                    size_t len, const uint8_t sig[PEL_SIG_LEN])
{
    static const uint8_t empty[1];
    int rc = pel_crypto_init();
    if (rc)
        return rc;
    if (!crypto_core_ed25519_is_valid_point(pk))
        return PEL_EBADKEY;
    if (crypto_sign_ed25519_verify_detached(sig, len ? msg : empty, len,
                                            pk) != 0)
        return PEL_EBADSIG;
    return 0;
}
