/* sign.c - strict Ed25519 over libsodium (see sign.h for what is checked). */
#include "core/sign.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/ed25519.h"
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
    int rc = pel_crypto_init();
    if (rc)
        return rc;
    if (!crypto_core_ed25519_is_valid_point(pk))
        return PEL_EBADKEY;
    /* the key is in the prime-order subgroup: our equation gives
     * crypto_sign_ed25519_verify_detached's verdict (ed25519.h) */
    if (pel_ed25519_verify(pk, msg, len, sig) != 0)
        return PEL_EBADSIG;
    return 0;
}

/* ---- validated-key cache ---- */

#define STRIPES 256u

struct pel_keycache {
    pthread_mutex_t mu[STRIPES];          /* stripe s guards slots i with i % STRIPES == s */
    uint8_t used[PEL_KEYCACHE_SLOTS];
    pel_ed25519_key key[PEL_KEYCACHE_SLOTS];  /* decoded once, when cached */
};

int pel_keycache_new(pel_keycache **out)
{
    pel_keycache *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c) return PEL_ENOMEM;
    for (unsigned i = 0; i < STRIPES; i++) pthread_mutex_init(&c->mu[i], NULL);
    *out = c;
    return 0;
}

void pel_keycache_free(pel_keycache *c)
{
    if (!c) return;
    for (unsigned i = 0; i < STRIPES; i++) pthread_mutex_destroy(&c->mu[i]);
    free(c);
}

/* Public keys are uniformly distributed: their first bytes are the slot. */
static unsigned slot_of(const uint8_t pk[PEL_PUBKEY_LEN])
{
    return ((unsigned)pk[0] | (unsigned)pk[1] << 8) % PEL_KEYCACHE_SLOTS;
}

/* Copies the cached, decoded key out under the stripe's lock. */
static int cache_get(pel_keycache *c, const uint8_t pk[PEL_PUBKEY_LEN], pel_ed25519_key *out)
{
    unsigned s = slot_of(pk);
    pthread_mutex_lock(&c->mu[s % STRIPES]);
    int hit = c->used[s] && memcmp(c->key[s].pk, pk, PEL_PUBKEY_LEN) == 0;
    if (hit) *out = c->key[s];
    pthread_mutex_unlock(&c->mu[s % STRIPES]);
    return hit;
}

static void cache_put(pel_keycache *c, const uint8_t pk[PEL_PUBKEY_LEN])
{
    unsigned s = slot_of(pk);
    pel_ed25519_key k;
    pel_ed25519_key_init(&k, pk);           /* decoded outside the lock */
    pthread_mutex_lock(&c->mu[s % STRIPES]);
    c->key[s] = k;
    c->used[s] = 1;
    pthread_mutex_unlock(&c->mu[s % STRIPES]);
}

int pel_sign_verify_cached(pel_keycache *cache, const uint8_t pk[PEL_PUBKEY_LEN],
                           const void *msg, size_t len, const uint8_t sig[PEL_SIG_LEN])
{
    pel_ed25519_key k;
    if (!cache || !cache_get(cache, pk, &k)) {
        int rc = pel_sign_verify(pk, msg, len, sig);
        if (rc == 0 && cache) cache_put(cache, pk);
        return rc;
    }
    int rc = pel_crypto_init();
    if (rc) return rc;
    if (pel_ed25519_verify_key(&k, msg, len, sig) != 0)
        return PEL_EBADSIG;
    return 0;
}
