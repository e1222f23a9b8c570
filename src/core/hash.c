/*
 * hash.c - tagged BLAKE2b-256 and SHA-256 over libsodium (see hash.h).
 *
 * SHA-256 in libsodium has a single implementation and needs no
 * sodium_init(); BLAKE2b and signing do (implementation selection, RNG).
 */
#include "core/hash.h"

#include <pthread.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;   /* written once inside pthread_once, read after it */

static void init_sodium(void)
{
    init_rc = sodium_init() < 0 ? PEL_ECRYPTO : 0;
}

int pel_crypto_init(void)
{
    if (pthread_once(&init_once, init_sodium) != 0)
        return PEL_ECRYPTO;
    return init_rc;
}

/* Returns the tag length, or 0 if the tag is not 1..64 printable ASCII. */
static size_t tag_len(const char *tag)
{
    size_t n = strnlen(tag, PEL_HASH_TAG_MAX + 1);
    if (n > PEL_HASH_TAG_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tag[i] < 0x20 || tag[i] > 0x7e)
            return 0;
    return n;
}

/* A thread's recently used tags, each with the BLAKE2b state after
 * absorbing u8(len) || tag: starting a tagged hash then copies that state
 * instead of initialising BLAKE2b, checking the tag and absorbing it again
 * (about a seventh of the instructions of an open-science block, whose
 * transactions derive a dozen state keys each). Found by the tag's address
 * (tags are string literals in practice) and checked by content, so a buffer
 * reused for another tag costs a miss, never a wrong state. Per thread: no
 * locks; 32 slots of ~0.5 KiB. */
enum { TAG_SLOTS = 32 };
typedef struct tag_slot {
    crypto_generichash_state st;
    const char *ptr;
    char tag[PEL_HASH_TAG_MAX + 1];   /* "" while empty */
} tag_slot;
static _Thread_local tag_slot tag_cache[TAG_SLOTS];

static tag_slot *slot_for(const char *tag)
{
    return &tag_cache[((uintptr_t)tag * 0x9e3779b97f4a7c15ull) >> 59];   /* 5 bits: 32 slots */
}

int pel_hasher_init(pel_hasher *h, const char *tag)
{
    tag_slot *s = slot_for(tag);
    if (s->ptr == tag && s->tag[0] && strncmp(s->tag, tag, sizeof s->tag) == 0) {
        memcpy(&h->st, &s->st, sizeof h->st);   /* the tag was checked when cached */
        return 0;
    }
    size_t n = tag_len(tag);
    if (n == 0)
        return PEL_EINVAL;
    int rc = pel_crypto_init();
    if (rc)
        return rc;
    if (crypto_generichash_init(&h->st, NULL, 0, PEL_HASH_LEN) != 0)
        return PEL_ECRYPTO;
    uint8_t prefix = (uint8_t)n;
    crypto_generichash_update(&h->st, &prefix, 1);
    crypto_generichash_update(&h->st, (const uint8_t *)tag, n);
    memcpy(&s->st, &h->st, sizeof s->st);
    memcpy(s->tag, tag, n + 1);
    s->ptr = tag;
    return 0;
}

void pel_hasher_update(pel_hasher *h, const void *data, size_t len)
{
    if (len)
        crypto_generichash_update(&h->st, data, len);
}

int pel_hasher_final(pel_hasher *h, uint8_t out[PEL_HASH_LEN])
{
    if (crypto_generichash_final(&h->st, out, PEL_HASH_LEN) != 0) {
        memset(out, 0, PEL_HASH_LEN);
        return PEL_ECRYPTO;
    }
    return 0;
}

int pel_hash_tagged(const char *tag, const void *data, size_t len,
                    uint8_t out[PEL_HASH_LEN])
{
    pel_hasher h;
    int rc = pel_hasher_init(&h, tag);
    if (rc) {
        memset(out, 0, PEL_HASH_LEN);
        return rc;
    }
    pel_hasher_update(&h, data, len);
    return pel_hasher_final(&h, out);
}

void pel_sha256(const void *data, size_t len, uint8_t out[PEL_SHA256_LEN])
{
    pel_sha256_ctx c;
    pel_sha256_init(&c);
    pel_sha256_update(&c, data, len);
    pel_sha256_final(&c, out);
}

void pel_sha256_init(pel_sha256_ctx *c)
{
    crypto_hash_sha256_init(&c->st);
}

void pel_sha256_update(pel_sha256_ctx *c, const void *data, size_t len)
{
    if (len)
        crypto_hash_sha256_update(&c->st, data, len);
}

void pel_sha256_final(pel_sha256_ctx *c, uint8_t out[PEL_SHA256_LEN])
{
    crypto_hash_sha256_final(&c->st, out);
}
