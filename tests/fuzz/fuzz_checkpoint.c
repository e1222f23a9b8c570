/* fuzz_checkpoint.c - libFuzzer target for every parser of checkpoint.h:
 * signed notes (and their signature lines), verifier and signer key
 * strings, and checkpoint bodies. Beyond "no crash", it checks that:
 *  - a note that opens points its text and signatures back into the input,
 *    and opening without keys then answers PEL_ENOTE_UNVERIFIED;
 *  - a well-formed note cosigned by the fuzz key opens with that key and
 *    keeps its text;
 *  - a key string or checkpoint body that parses formats back to exactly
 *    the input (one value, one encoding);
 *  - a checkpoint note that verifies under the fuzz key parses the same. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "state/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pel_note_verifier key;
static uint8_t sk[PEL_SECKEY_LEN];

static void setup(void)
{
    static int done;
    uint8_t seed[PEL_SEED_LEN], pk[PEL_PUBKEY_LEN];
    if (done) return;
    memset(seed, 0x5a, sizeof seed);
    if (pel_sign_seed_keypair(pk, sk, seed) != 0 ||
        pel_note_verifier_from_key("fuzz.example/pel", pk, &key) != 0)
        abort();
    done = 1;
}

static int well_formed(int rc)
{
    return rc == PEL_ENOTE_UNVERIFIED;
}

static void fuzz_note(const char *s, size_t size)
{
    pel_note_opened o;
    pel_buf b;
    int rc = pel_note_open(s, size, &key, 1, &o);
    int rc0 = pel_note_open(s, size, NULL, 0, &o);
    if (rc0 != PEL_ENOTE && rc0 != PEL_ENOTE_TOOMANY && !well_formed(rc0)) abort();
    if (rc == 0 && !well_formed(rc0)) abort();
    if (!well_formed(rc0)) return;
    pel_buf_init(&b);
    rc = pel_note_add_signature(s, size, key.name, sk, &b);
    if (rc == 0) {
        if (pel_note_open((char *)b.data, b.len, &key, 1, &o) != 0) abort();
        if (o.text + o.text_len + 1 != o.sigs || o.text_len == 0 ||
            o.text[o.text_len - 1] != '\n' || o.text_len > size ||
            memcmp(o.text, s, o.text_len) != 0)
            abort();
    } else if (rc != PEL_ENOTE_TOOMANY) {
        abort();
    }
    pel_buf_free(&b);
}

static void fuzz_keys(const char *str)
{
    pel_note_verifier v;
    pel_note_signer k;
    char out[PEL_NOTE_SKEY_MAX];
    if (pel_note_verifier_parse(str, &v) == 0 &&
        (pel_note_verifier_format(v.name, v.pk, out, sizeof out) != 0 || strcmp(out, str) != 0))
        abort();
    if (pel_note_signer_parse(str, &k) == 0 &&
        (pel_note_signer_format(k.name, k.sk, out, sizeof out) != 0 || strcmp(out, str) != 0))
        abort();
    sodium_memzero(&k, sizeof k);
}

static void fuzz_checkpoint(const char *s, size_t size)
{
    pel_checkpoint c, d;
    pel_buf b;
    pel_buf_init(&b);
    if (pel_checkpoint_parse(s, size, &c) == 0 &&
        (pel_checkpoint_format(&c, &b) != 0 || b.len != size || memcmp(b.data, s, size) != 0))
        abort();
    pel_buf_free(&b);
    if (pel_checkpoint_verify(s, size, &key, &d) == 0) {
        pel_note_opened o;
        if (pel_note_open(s, size, &key, 1, &o) != 0 ||
            pel_checkpoint_parse(o.text, o.text_len, &c) != 0 || memcmp(&c, &d, sizeof c) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *str = malloc(size + 1);
    setup();
    if (!str) return 0;
    memcpy(str, data, size);
    str[size] = '\0';
    fuzz_note(str, size);
    fuzz_keys(str);
    fuzz_checkpoint(str, size);
    free(str);
    return 0;
}
