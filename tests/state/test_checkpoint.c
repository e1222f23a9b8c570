/* test_checkpoint.c - C2SP signed notes, note keys and PEL checkpoints.
 *
 * Interoperability rests on vectors made by other implementations:
 *  - golang.org/x/mod/sumdb/note, note.go and note_test.go: the PeterNeumann
 *    signer and verifier keys and signed note, the EnochRoot verifier key
 *    and cosignature, and every malformed note of TestOpen;
 *  - golang.org/x/mod/sumdb/client_test.go: the localhost.localdev/sumdb
 *    signer and verifier keys;
 *  - c2sp.org/signed-note: the example.com/foo verifier key and note;
 *  - github.com/transparency-dev/formats log/note_test.go: a real checkpoint
 *    of sum.golang.org (tree size 6476701) with the production verifier key
 *    of sum.golang.org, and Go-generated signer/verifier key pairs (Log,
 *    Known, KnownAgain, Unknown).
 * Ed25519 is deterministic, so signing Go's texts with Go's keys must give
 * Go's notes byte for byte; the golden checkpoint at the end was checked
 * against an independent reimplementation of Go's note.Open rules. */
#include <sodium.h>

#include "core/hash.h"
#include "core/hex.h"
#include "state/checkpoint.h"
#include "test.h"

#define DASH "\xe2\x80\x94 "

#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define PETER_TEXT "If you think cryptography is the answer to your problem,\n" \
                   "then you don't know what your problem is.\n"
#define PETER_SIG_LINE DASH "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
#define PETER_SIG PETER_SIG_LINE "\n"
#define ENOCH_SIG DASH "EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

#define SUMDB_VKEY "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
#define SUMDB_NOTE "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n" \
                   DASH "sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"

/* Go-generated key pairs: (signer key, verifier key). */
static const char *const go_pairs[][2] = {
    {PETER_SKEY, PETER_VKEY},
    {"PRIVATE+KEY+localhost.localdev/sumdb+00000c67+AXu6+oaVaOYuQOFrf1V59JK1owcFlJcHwwXHDfDGxSPk",
     "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6"},
    {"PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
     "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs"},
    {"PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
     "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH"},
    {"PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
     "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj"},
    {"PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
     "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots"},
};

/* 1 if p[0..n) is exactly want[0..wn): safe when a failed call left p NULL. */
static int bytes_are(const void *p, size_t n, const void *want, size_t wn)
{
    return p && n == wn && memcmp(p, want, n) == 0;
}

static pel_note_verifier vkey(const char *s)
{
    pel_note_verifier v;
    CHECK_EQ_INT(pel_note_verifier_parse(s, &v), 0);
    return v;
}

static pel_note_signer skey(const char *s)
{
    pel_note_signer k;
    CHECK_EQ_INT(pel_note_signer_parse(s, &k), 0);
    return k;
}

static int open_str(const char *note, const pel_note_verifier *keys, size_t n,
                    pel_note_opened *o)
{
    return pel_note_open(note, strlen(note), keys, n, o);
}

/* A note built from pieces, for the malformation tables (each call gets
 * its own buffer: the tables keep every result). */
static char *cat(const char *a, const char *b, const char *c)
{
    static char buf[64][1024];
    static int next;
    char *out = buf[next++ % 64];
    snprintf(out, sizeof buf[0], "%s%s%s", a, b ? b : "", c ? c : "");
    return out;
}

static void seeded_key(uint8_t fill, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    memset(seed, fill, sizeof seed);
    CHECK_EQ_INT(pel_sign_seed_keypair(pk, sk, seed), 0);
}

/* ============================================================ keys */

/* Go's PeterNeumann verifier key: id c74f20a3, formatting it back from the
 * public key gives the same string, and pel_note_key_id agrees. */
static void go_verifier_key_parses_and_formats_back(void)
{
    static const uint8_t want_id[4] = {0xc7, 0x4f, 0x20, 0xa3};
    pel_note_verifier v = vkey(PETER_VKEY);
    uint8_t id[4];
    char s[PEL_NOTE_VKEY_MAX];
    CHECK(strcmp(v.name, "PeterNeumann") == 0);
    CHECK_MEM(v.id, want_id, 4);
    pel_note_key_id("PeterNeumann", v.pk, id);
    CHECK_MEM(id, want_id, 4);
    CHECK_EQ_INT(pel_note_verifier_format("PeterNeumann", v.pk, s, sizeof s), 0);
    CHECK(strcmp(s, PETER_VKEY) == 0);
}

/* Every Go signer key gives the public key and id of its Go verifier key,
 * and both strings format back byte for byte. */
static void go_key_pairs_agree(void)
{
    char s[PEL_NOTE_SKEY_MAX];
    for (size_t i = 0; i < sizeof go_pairs / sizeof go_pairs[0]; i++) {
        pel_note_signer k = skey(go_pairs[i][0]);
        pel_note_verifier v = vkey(go_pairs[i][1]);
        CHECK(strcmp(k.name, v.name) == 0);
        CHECK_MEM(k.id, v.id, 4);
        CHECK_MEM(k.sk + 32, v.pk, 32);
        CHECK_EQ_INT(pel_note_verifier_format(k.name, k.sk + 32, s, sizeof s), 0);
        CHECK(strcmp(s, go_pairs[i][1]) == 0);
        CHECK_EQ_INT(pel_note_signer_format(k.name, k.sk, s, sizeof s), 0);
        CHECK(strcmp(s, go_pairs[i][0]) == 0);
        sodium_memzero(&k, sizeof k);
    }
}

/* Go's TestNewVerifier: no proper substring and no single incremented
 * byte of the key parses; plus its two crafted keys, with our codes. */
static void verifier_key_manglings_rejected(void)
{
    char b[sizeof PETER_VKEY], sub[sizeof PETER_VKEY];
    pel_note_verifier v;
    size_t n = strlen(PETER_VKEY), accepted = 0;
    memcpy(b, PETER_VKEY, sizeof b);
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i + 1; j <= n; j++) {
            if (i == 0 && j == n) continue;
            memcpy(sub, b + i, j - i);
            sub[j - i] = '\0';
            if (pel_note_verifier_parse(sub, &v) == 0) accepted++;
        }
    for (size_t i = 0; i < n; i++) {
        b[i]++;
        if (pel_note_verifier_parse(b, &v) == 0) accepted++;
        b[i]--;
    }
    CHECK_EQ_INT(accepted, 0);
    /* wrong key length, with the id adjusted to match */
    CHECK_EQ_INT(pel_note_verifier_parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &v), PEL_EVKEY);
    /* unknown algorithm, with the id adjusted to match */
    CHECK_EQ_INT(pel_note_verifier_parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), PEL_EVKEY_ALG);
    CHECK_EQ_INT(pel_note_verifier_parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), PEL_EVKEY_ID);
    CHECK_EQ_INT(pel_note_verifier_parse("PeterNeumannX+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), PEL_EVKEY_ID);
    /* Go accepts upper-case hex; the spec says lower case, and so do we */
    CHECK_EQ_INT(pel_note_verifier_parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), PEL_EVKEY);
    CHECK_EQ_INT(pel_note_verifier_parse("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), PEL_ENOTE_NAME);
    CHECK_EQ_INT(pel_note_verifier_parse("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v), PEL_ENOTE_NAME);
    CHECK_EQ_INT(pel_note_verifier_parse(PETER_VKEY "\n", &v), PEL_EVKEY);
    CHECK_EQ_INT(pel_note_verifier_parse("PeterNeumann+c74f20a3", &v), PEL_EVKEY);
    /* and *out is left zeroed */
    pel_note_verifier zero;
    memset(&zero, 0, sizeof zero);
    CHECK_MEM(&v, &zero, sizeof v);
}

/* "<name>+<Go's key hash of raw>+<base64(raw)>": a key string whose id is
 * right by Go's rule (the hash covers all the decoded bytes). */
static void go_style_vkey(const char *name, const uint8_t *raw, size_t n, char *out, size_t cap)
{
    uint8_t h[32];
    char b64[128];
    pel_sha256_ctx c;
    pel_sha256_init(&c);
    pel_sha256_update(&c, name, strlen(name));
    pel_sha256_update(&c, "\n", 1);
    pel_sha256_update(&c, raw, n);
    pel_sha256_final(&c, h);
    sodium_bin2base64(b64, sizeof b64, raw, n, sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", name, h[0], h[1], h[2], h[3], b64);
}

/* Keys of 31 and 33 bytes after the algorithm byte, ids right: refused for
 * their length; the same construction at 32 bytes is Go's own key. */
static void verifier_key_length_checked(void)
{
    pel_note_verifier peter = vkey(PETER_VKEY), v;
    uint8_t raw[34];
    char s[256];
    raw[0] = 1;
    memcpy(raw + 1, peter.pk, 32);
    raw[33] = 0x42;
    go_style_vkey("PeterNeumann", raw, 33, s, sizeof s);
    CHECK(strcmp(s, PETER_VKEY) == 0);
    go_style_vkey("PeterNeumann", raw, 34, s, sizeof s);
    CHECK_EQ_INT(pel_note_verifier_parse(s, &v), PEL_EVKEY);
    go_style_vkey("PeterNeumann", raw, 32, s, sizeof s);
    CHECK_EQ_INT(pel_note_verifier_parse(s, &v), PEL_EVKEY);
    go_style_vkey("PeterNeumann", raw, 1, s, sizeof s);
    CHECK_EQ_INT(pel_note_verifier_parse(s, &v), PEL_EVKEY);
}

/* Go's TestNewSigner, the same manglings on the signer key. */
static void signer_key_manglings_rejected(void)
{
    char b[sizeof PETER_SKEY], sub[sizeof PETER_SKEY];
    pel_note_signer k;
    size_t n = strlen(PETER_SKEY), accepted = 0;
    memcpy(b, PETER_SKEY, sizeof b);
    for (size_t i = 0; i <= n; i++)
        for (size_t j = i + 1; j <= n; j++) {
            if (i == 0 && j == n) continue;
            memcpy(sub, b + i, j - i);
            sub[j - i] = '\0';
            if (pel_note_signer_parse(sub, &k) == 0) accepted++;
        }
    for (size_t i = 0; i < n; i++) {
        b[i]++;
        if (pel_note_signer_parse(b, &k) == 0) accepted++;
        b[i]--;
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(pel_note_signer_parse(PETER_VKEY, &k), PEL_EVKEY);
    CHECK_EQ_INT(pel_note_signer_parse("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &k), PEL_EVKEY_ID);
    uint8_t zero[sizeof k];
    memset(zero, 0, sizeof zero);
    CHECK_MEM(&k, zero, sizeof k);
}

/* Our own keys round-trip through both strings, names in UTF-8 included. */
static void key_strings_round_trip(void)
{
    static const char *names[] = {"pel-devnet/pel", "Se\xc3\xb1or-1", "a",
                                  "example.com/log42", "\xe2\x82\xac/\xf0\x9f\x94\x91"};
    char s[PEL_NOTE_SKEY_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint8_t pk[32], sk[64], id[4];
        pel_note_verifier v;
        pel_note_signer k;
        seeded_key((uint8_t)(i + 1), pk, sk);
        pel_note_key_id(names[i], pk, id);
        CHECK_EQ_INT(pel_note_verifier_format(names[i], pk, s, sizeof s), 0);
        CHECK_EQ_INT(pel_note_verifier_parse(s, &v), 0);
        CHECK(strcmp(v.name, names[i]) == 0);
        CHECK_MEM(v.pk, pk, 32);
        CHECK_MEM(v.id, id, 4);
        CHECK_EQ_INT(pel_note_signer_format(names[i], sk, s, sizeof s), 0);
        CHECK_EQ_INT(pel_note_signer_parse(s, &k), 0);
        CHECK_MEM(k.sk, sk, 64);
        CHECK_MEM(k.id, id, 4);
        sodium_memzero(sk, sizeof sk);
        sodium_memzero(&k, sizeof k);
    }
}

/* Key name rules: non-empty, UTF-8, no Unicode space, no "+", no control,
 * at most PEL_NOTE_NAME_MAX bytes. */
static void key_name_rules(void)
{
    static const char *bad[] = {
        "", "a b", "a+b", "a\tb", "a\nb", "a\x01", "a\xc2\xa0" "b" /* NBSP */,
        "a\xe3\x80\x80" "b" /* U+3000 */, "a\xe2\x80\xa8" /* U+2028 */,
        "a\xc2\x85" /* NEL */, "\xff", "\xc0\xaf" /* overlong */,
        "\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80" /* > U+10FFFF */,
        "\xe2\x80" /* truncated */,
    };
    uint8_t pk[32], sk[64];
    char s[PEL_NOTE_VKEY_MAX + 8], longname[PEL_NOTE_NAME_MAX + 2];
    pel_note_verifier v;
    seeded_key(7, pk, sk);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(pel_note_name_valid(bad[i]), 0);
        CHECK_EQ_INT(pel_note_verifier_format(bad[i], pk, s, sizeof s), PEL_ENOTE_NAME);
        CHECK_EQ_INT(pel_note_verifier_from_key(bad[i], pk, &v), PEL_ENOTE_NAME);
    }
    CHECK_EQ_INT(pel_note_name_valid("\xef\xbf\xbd"), 1); /* U+FFFD itself is fine */
    memset(longname, 'n', sizeof longname);
    longname[PEL_NOTE_NAME_MAX] = '\0';
    CHECK_EQ_INT(pel_note_verifier_format(longname, pk, s, sizeof s), 0);
    CHECK_EQ_INT(strlen(s) + 1, PEL_NOTE_VKEY_MAX);
    CHECK_EQ_INT(pel_note_verifier_parse(s, &v), 0);
    CHECK_EQ_INT(pel_note_verifier_format(longname, pk, s, PEL_NOTE_VKEY_MAX - 1), PEL_ERANGE);
    CHECK_EQ_INT(s[0], 0);
    longname[PEL_NOTE_NAME_MAX] = 'n';
    longname[PEL_NOTE_NAME_MAX + 1] = '\0';
    CHECK_EQ_INT(pel_note_name_valid(longname), 0);
    sodium_memzero(sk, sizeof sk);
}

/* A weak public key is refused as a verifier; an sk whose halves disagree
 * is refused for signing. */
static void weak_or_inconsistent_keys_refused(void)
{
    uint8_t ident[32] = {1}, pk[32], sk[64];
    char s[PEL_NOTE_VKEY_MAX];
    pel_note_verifier v;
    pel_buf b;
    CHECK_EQ_INT(pel_note_verifier_from_key("x", ident, &v), PEL_EBADKEY);
    CHECK_EQ_INT(pel_note_verifier_format("x", ident, s, sizeof s), 0);
    CHECK_EQ_INT(pel_note_verifier_parse(s, &v), PEL_EBADKEY);
    seeded_key(9, pk, sk);
    sk[40] ^= 1;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_note_sign("t\n", 2, "x", sk, &b), PEL_EINVAL);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(pel_note_signer_format("x", sk, s, sizeof s), PEL_EINVAL);
    pel_buf_free(&b);
    sodium_memzero(sk, sizeof sk);
}

/* =========================================================== notes */

/* Go's signed note opens with Go's verifier key. */
static void go_note_opens(void)
{
    pel_note_verifier peter = vkey(PETER_VKEY);
    pel_note_opened o;
    CHECK_EQ_INT(open_str(PETER_TEXT "\n" PETER_SIG, &peter, 1, &o), 0);
    CHECK_EQ_INT(o.text_len, strlen(PETER_TEXT));
    CHECK(bytes_are(o.text, o.text_len, PETER_TEXT, strlen(PETER_TEXT)));
    CHECK_EQ_INT(o.sigs_len, strlen(PETER_SIG));
    CHECK_EQ_INT(o.n_sigs, 1);
    CHECK_EQ_INT(o.n_verified, 1);
    CHECK_EQ_INT(o.n_unknown, 0);
    CHECK_EQ_INT(o.verified[0], 0);
}

/* Our signature over Go's text with Go's key is Go's note, byte for byte. */
static void our_signature_is_gos(void)
{
    pel_note_signer k = skey(PETER_SKEY);
    pel_buf b;
    const char *want = PETER_TEXT "\n" PETER_SIG;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_note_sign(PETER_TEXT, strlen(PETER_TEXT), k.name, k.sk, &b), 0);
    CHECK_EQ_INT(b.len, strlen(want));
    CHECK(bytes_are(b.data, b.len, want, strlen(want)));
    pel_buf_free(&b);
    sodium_memzero(&k, sizeof k);
}

/* The C2SP signed-note example verifies. */
static void c2sp_example_opens(void)
{
    pel_note_verifier foo = vkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
    pel_note_opened o;
    const char *note = "This is an example message.\n\n" DASH "example.com/foo "
        "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    CHECK_EQ_INT(open_str(note, &foo, 1, &o), 0);
    CHECK_EQ_INT(o.text_len, strlen("This is an example message.\n"));
}

/* A real sum.golang.org checkpoint verifies; it is a plain three-line
 * checkpoint, so PEL's parser wants the extension lines it lacks. */
static void sumdb_checkpoint_opens(void)
{
    pel_note_verifier sum = vkey(SUMDB_VKEY);
    pel_note_opened o;
    pel_checkpoint c;
    char note[] = SUMDB_NOTE;
    CHECK_EQ_INT(open_str(note, &sum, 1, &o), 0);
    CHECK_EQ_INT(o.n_verified, 1);
    CHECK_EQ_INT(pel_checkpoint_parse(o.text, o.text_len, &c), PEL_ECKPT_EXT);
    CHECK_EQ_INT(pel_checkpoint_verify(note, strlen(note), &sum, &c), PEL_ECKPT_EXT);
    note[22] = '5'; /* tree size 6476701 -> 6576701 */
    CHECK_EQ_INT(open_str(note, &sum, 1, &o), PEL_ENOTE_BADSIG);
}

/* Go's TestOpen, one known and one unknown key, both known, none known. */
static void known_and_unknown_signatures(void)
{
    pel_note_verifier keys[2] = {vkey(PETER_VKEY), vkey(ENOCH_VKEY)};
    pel_note_opened o;
    const char *both = PETER_TEXT "\n" PETER_SIG ENOCH_SIG;
    CHECK_EQ_INT(open_str(both, keys, 1, &o), 0);
    CHECK_EQ_INT(o.n_sigs, 2);
    CHECK_EQ_INT(o.n_verified, 1);
    CHECK_EQ_INT(o.n_unknown, 1);
    CHECK_EQ_INT(open_str(both, keys + 1, 1, &o), 0);
    CHECK_EQ_INT(o.n_verified, 1);
    CHECK_EQ_INT(o.verified[0], 0);
    CHECK_EQ_INT(open_str(both, keys, 2, &o), 0);
    CHECK_EQ_INT(o.n_verified, 2);
    CHECK_EQ_INT(o.verified[0], 0);
    CHECK_EQ_INT(o.verified[1], 1);
    CHECK_EQ_INT(o.n_unknown, 0);
    CHECK_EQ_INT(open_str(both, NULL, 0, &o), PEL_ENOTE_UNVERIFIED);
    CHECK_EQ_INT(o.n_sigs, 0); /* cleared on failure */
    CHECK(o.text == NULL);
    /* Go's misnamed and wrong-hash lines are simply unknown keys here */
    CHECK_EQ_INT(open_str(PETER_TEXT "\n" DASH "CarmenSandiego x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
                          keys, 2, &o), PEL_ENOTE_UNVERIFIED);
    CHECK_EQ_INT(open_str(PETER_TEXT "\n" DASH "PeterNeumann xxxxo/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
                          keys, 2, &o), PEL_ENOTE_UNVERIFIED);
}

/* A known key's bad signature rejects the note, whatever else verifies. */
static void known_bad_signature_rejects(void)
{
    pel_note_verifier keys[2] = {vkey(PETER_VKEY), vkey(ENOCH_VKEY)};
    pel_note_opened o;
    char longer[512], flipped[512];
    size_t p = strlen(PETER_TEXT "\n");
    /* Go: peterSig[:60] + "ABCD" + peterSig[60:], a 71-byte signature */
    snprintf(longer, sizeof longer, "%s\n%.60s%s%s", PETER_TEXT, PETER_SIG, "ABCD", &PETER_SIG[60]);
    CHECK_EQ_INT(open_str(longer, keys, 1, &o), PEL_ENOTE_BADSIG);
    /* same length, one signature character changed */
    snprintf(flipped, sizeof flipped, "%s\n%s", PETER_TEXT, PETER_SIG);
    flipped[p + 40] = flipped[p + 40] == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(open_str(flipped, keys, 1, &o), PEL_ENOTE_BADSIG);
    /* still rejected with a good signature by another known key */
    strcat(flipped, ENOCH_SIG);
    CHECK_EQ_INT(open_str(flipped, keys, 2, &o), PEL_ENOTE_BADSIG);
    /* but ignored when that key is unknown */
    CHECK_EQ_INT(open_str(flipped, keys + 1, 1, &o), 0);
}

/* Repeats: Go's duplicated verified and unverified lines open (a key counts
 * once); a repeated line of a known key that does not verify rejects the
 * note (Go would skip it; the spec says verify every known key's line). */
static void repeated_signatures(void)
{
    pel_note_verifier peter = vkey(PETER_VKEY);
    pel_note_opened o;
    char note[1024], bad[256];
    snprintf(note, sizeof note, "%s\n%s%s%s%s%.60sABCD%s", PETER_TEXT, PETER_SIG, PETER_SIG,
             ENOCH_SIG, ENOCH_SIG, ENOCH_SIG, &ENOCH_SIG[60]);
    CHECK_EQ_INT(open_str(note, &peter, 1, &o), 0);
    CHECK_EQ_INT(o.n_sigs, 5);
    CHECK_EQ_INT(o.n_verified, 1);
    CHECK_EQ_INT(o.n_unknown, 3);
    snprintf(bad, sizeof bad, "%s", PETER_SIG);
    bad[40] = bad[40] == 'A' ? 'B' : 'A';
    snprintf(note, sizeof note, "%s\n%s%s", PETER_TEXT, PETER_SIG, bad);
    CHECK_EQ_INT(open_str(note, &peter, 1, &o), PEL_ENOTE_BADSIG);
}

/* Two known keys with the same name and id: refused when a line hits them
 * (Go's "ambiguous key"), fine when none does. */
static void ambiguous_keys(void)
{
    pel_note_verifier keys[3] = {vkey(ENOCH_VKEY), vkey(PETER_VKEY), vkey(ENOCH_VKEY)};
    pel_note_opened o;
    CHECK_EQ_INT(open_str(PETER_TEXT "\n" ENOCH_SIG, keys, 3, &o), PEL_ENOTE_AMBIGUOUS);
    CHECK_EQ_INT(open_str(PETER_TEXT "\n" PETER_SIG, keys, 3, &o), 0);
}

/* At most 100 signature lines (Go's limit), counted before any crypto. */
static void too_many_signatures(void)
{
    pel_note_verifier peter = vkey(PETER_VKEY);
    pel_note_opened o;
    size_t sl = strlen(PETER_SIG), tl = strlen(PETER_TEXT "\n");
    char *note = malloc(tl + 101 * sl + 1);
    memcpy(note, PETER_TEXT "\n", tl);
    for (size_t i = 0; i < 101; i++) memcpy(note + tl + i * sl, PETER_SIG, sl);
    CHECK_EQ_INT(pel_note_open(note, tl + 101 * sl, &peter, 1, &o), PEL_ENOTE_TOOMANY);
    CHECK_EQ_INT(pel_note_open(note, tl + 101 * sl, NULL, 0, &o), PEL_ENOTE_TOOMANY);
    CHECK_EQ_INT(pel_note_open(note, tl + 100 * sl, &peter, 1, &o), 0);
    CHECK_EQ_INT(o.n_sigs, 100);
    CHECK_EQ_INT(o.n_verified, 1);
    free(note);
}

/* Go's badMsgs and the rest of the syntax: each is PEL_ENOTE. */
static void malformed_notes_rejected(void)
{
    pel_note_verifier peter = vkey(PETER_VKEY);
    pel_note_opened o;
    const char *T = PETER_TEXT, *S = PETER_SIG;
    const char *bad[] = {
        T,                                   /* no signatures */
        cat(T, "\n", NULL),                  /* blank line, no signatures */
        cat(T, PETER_SIG, NULL),             /* missing blank line */
        cat("\x01", T, cat("\n", S, NULL)),  /* control character */
        cat("\xff", T, cat("\n", S, NULL)),  /* invalid UTF-8 */
        cat(T, "a\rb\n\n", S),               /* CR */
        cat(T, "\n" DASH "Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=", NULL),
        cat(T, "\n", cat(S, "Unexpected line.\n", NULL)),
        cat(T, "\n", "- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
        cat(T, "\n", "\xe2\x80\x93 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"), /* en dash */
        cat(T, "\n", "\xe2\x80\x94PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"), /* no space */
        cat(T, "\n", DASH " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"), /* empty name */
        cat(T, "\n", DASH "PeterNeumann  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"), /* two spaces */
        cat(T, "\n", DASH "PeterNeumann\n"),                  /* no signature */
        cat(T, "\n", DASH "PeterNeumann \n"),                 /* empty signature */
        cat(T, "\n", DASH "Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
        cat(T, "\n", DASH "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n"), /* padding missing */
        cat(T, "\n", DASH "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n"), /* stray bits */
        cat(T, "\n", DASH "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM==\n"),
        cat(T, "\n", DASH "PeterNeumann x08go_ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"), /* URL alphabet */
        cat(T, "\n", DASH "PeterNeumann x08go/ZJ=uBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
        cat(T, "\n", DASH "PeterNeumann AAAAAA==\n"),         /* 4 bytes: id only */
        cat(T, "\n", PETER_SIG_LINE),                        /* no final newline */
        cat(T, "\n", cat(S, " ", NULL)),                      /* no final newline */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = open_str(bad[i], &peter, 1, &o);
        if (rc != PEL_ENOTE) fprintf(stderr, "malformed note %zu: %d\n", i, rc);
        CHECK_EQ_INT(rc, PEL_ENOTE);
    }
    /* 5 bytes is well-formed; for a known key it is a bad signature */
    CHECK_EQ_INT(open_str(cat(T, "\n", DASH "PeterNeumann x08go/A=\n"), &peter, 1, &o), PEL_ENOTE_BADSIG);
    CHECK_EQ_INT(open_str(cat(T, "\n", DASH "Other x08go/A=\n"), &peter, 1, &o), PEL_ENOTE_UNVERIFIED);
    /* a blank line between signatures moves the split: the first line
     * becomes text, so Peter's signature no longer covers what it signs */
    CHECK_EQ_INT(open_str(cat(T, "\n", cat(S, "\n", S)), &peter, 1, &o), PEL_ENOTE_BADSIG);
    CHECK_EQ_INT(open_str(cat(T, "\n", cat(S, "\n", S)), NULL, 0, &o), PEL_ENOTE_UNVERIFIED);
    CHECK_EQ_INT(pel_note_open("", 0, &peter, 1, &o), PEL_ENOTE);
    /* "=" may only end the whole field, also past the first 64 characters
     * (where the decoder works in chunks): 60 + "AA==" + 64 characters */
    char pad[256], field[140];
    memset(field, 'A', 128);
    memcpy(field + 60, "AA==", 4);
    field[128] = '\0';
    snprintf(pad, sizeof pad, "%s\n%sOther %s\n", T, DASH, field);
    CHECK_EQ_INT(open_str(pad, NULL, 0, &o), PEL_ENOTE);
    memcpy(field + 60, "AAAA", 4); /* and without it the line is fine */
    snprintf(pad, sizeof pad, "%s\n%sOther %s\n", T, DASH, field);
    CHECK_EQ_INT(open_str(pad, NULL, 0, &o), PEL_ENOTE_UNVERIFIED);
    /* a UTF-8 sequence cut by the end of the input is not read past it
     * (the buffer is exactly the note: ASan would see an over-read) */
    char *cut = malloc(strlen(T) + 1);
    memcpy(cut, T, strlen(T) - 1);
    cut[strlen(T) - 1] = '\xe2';
    CHECK_EQ_INT(pel_note_open(cut, strlen(T), &peter, 1, &o), PEL_ENOTE);
    pel_checkpoint c;
    CHECK_EQ_INT(pel_checkpoint_parse(cut, strlen(T), &c), PEL_ECKPT);
    free(cut);
}

/* Flipping any bit of a signed note (several bits per byte tried) never
 * leaves a note that opens. */
static void any_byte_flip_fails(void)
{
    pel_note_verifier peter = vkey(PETER_VKEY);
    pel_note_opened o;
    static const uint8_t masks[] = {0x01, 0x02, 0x20, 0x80};
    char note[] = PETER_TEXT "\n" PETER_SIG;
    size_t n = strlen(note), opened = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            note[i] ^= (char)masks[m];
            if (pel_note_open(note, n, &peter, 1, &o) == 0) {
                fprintf(stderr, "flip %zu/%02x opened\n", i, masks[m]);
                opened++;
            }
            note[i] ^= (char)masks[m];
        }
    CHECK_EQ_INT(opened, 0);
    CHECK_EQ_INT(pel_note_open(note, n, &peter, 1, &o), 0);
    CHECK_EQ_INT(pel_note_open(note, n - 1, &peter, 1, &o), PEL_ENOTE);
}

/* Text the signer refuses, and the buffer left as it was. */
static void sign_refuses_bad_text_and_names(void)
{
    pel_note_signer k = skey(PETER_SKEY);
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_buf_append(&b, "keep", 4), 0);
    CHECK_EQ_INT(pel_note_sign("abc", 3, k.name, k.sk, &b), PEL_ENOTE_TEXT);
    CHECK_EQ_INT(pel_note_sign("", 0, k.name, k.sk, &b), PEL_ENOTE_TEXT);
    CHECK_EQ_INT(pel_note_sign("a\rb\n", 4, k.name, k.sk, &b), PEL_ENOTE_TEXT);
    CHECK_EQ_INT(pel_note_sign("a\0b\n", 4, k.name, k.sk, &b), PEL_ENOTE_TEXT);
    CHECK_EQ_INT(pel_note_sign("\xff\n", 2, k.name, k.sk, &b), PEL_ENOTE_TEXT);
    CHECK_EQ_INT(pel_note_sign("a\n", 2, "bad name", k.sk, &b), PEL_ENOTE_NAME);
    CHECK_EQ_INT(pel_note_sign("a\n", 2, "a+b", k.sk, &b), PEL_ENOTE_NAME);
    CHECK_EQ_INT(b.len, 4);
    CHECK(bytes_are(b.data, 4, "keep", 4));
    /* output is appended */
    CHECK_EQ_INT(pel_note_sign(PETER_TEXT, strlen(PETER_TEXT), k.name, k.sk, &b), 0);
    CHECK_EQ_INT(b.len, 4 + strlen(PETER_TEXT "\n" PETER_SIG));
    CHECK(b.data && bytes_are(b.data + 4, b.len - 4, PETER_TEXT "\n" PETER_SIG, strlen(PETER_TEXT "\n" PETER_SIG)));
    pel_buf_free(&b);
    sodium_memzero(&k, sizeof k);
}

/* Blank lines inside the text are fine: the split is at the last one. */
static void text_with_blank_lines(void)
{
    uint8_t pk[32], sk[64];
    pel_note_verifier v;
    pel_note_opened o;
    pel_buf b;
    const char *text = "\n\na\n\n\nb\n\n";
    seeded_key(3, pk, sk);
    CHECK_EQ_INT(pel_note_verifier_from_key("k", pk, &v), 0);
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_note_sign(text, strlen(text), "k", sk, &b), 0);
    CHECK_EQ_INT(pel_note_open((const char *)b.data, b.len, &v, 1, &o), 0);
    CHECK_EQ_INT(o.text_len, strlen(text));
    CHECK(bytes_are(o.text, o.text_len, text, strlen(text)));
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_note_sign("\n", 1, "k", sk, &b), 0);
    CHECK_EQ_INT(pel_note_open((const char *)b.data, b.len, &v, 1, &o), 0);
    CHECK_EQ_INT(o.text_len, 1);
    pel_buf_free(&b);
    sodium_memzero(sk, sizeof sk);
}

/* Cosigning: a second key adds its line, both verify; re-signing by the same
 * key replaces its line; a cosignature added to Go's note keeps Peter's. */
static void cosign_note(void)
{
    uint8_t pk[2][32], sk[2][64];
    pel_note_verifier keys[3];
    pel_note_opened o;
    pel_buf a, b, c;
    const char *text = "origin/pel\n1\n";
    seeded_key(11, pk[0], sk[0]);
    seeded_key(12, pk[1], sk[1]);
    CHECK_EQ_INT(pel_note_verifier_from_key("node", pk[0], &keys[0]), 0);
    CHECK_EQ_INT(pel_note_verifier_from_key("witness", pk[1], &keys[1]), 0);
    keys[2] = vkey(PETER_VKEY);
    pel_buf_init(&a), pel_buf_init(&b), pel_buf_init(&c);
    CHECK_EQ_INT(pel_note_sign(text, strlen(text), "node", sk[0], &a), 0);
    CHECK_EQ_INT(pel_note_add_signature((char *)a.data, a.len, "witness", sk[1], &b), 0);
    CHECK_EQ_INT(pel_note_open((char *)b.data, b.len, keys, 2, &o), 0);
    CHECK_EQ_INT(o.n_verified, 2);
    CHECK_EQ_INT(o.verified[0], 0);
    CHECK_EQ_INT(o.verified[1], 1);
    CHECK(b.len > a.len && memcmp(b.data, a.data, a.len) == 0); /* appended */
    CHECK_EQ_INT(pel_note_add_signature((char *)b.data, b.len, "witness", sk[1], &c), 0);
    CHECK_EQ_INT(c.len, b.len);
    CHECK(bytes_are(c.data, c.len, b.data, b.len));
    pel_buf_reset(&c);
    CHECK_EQ_INT(pel_note_add_signature(PETER_TEXT "\n" PETER_SIG, strlen(PETER_TEXT "\n" PETER_SIG),
                                        "witness", sk[1], &c), 0);
    CHECK_EQ_INT(pel_note_open((char *)c.data, c.len, keys + 1, 2, &o), 0);
    CHECK_EQ_INT(o.n_verified, 2);
    CHECK(c.len > strlen(PETER_TEXT "\n" PETER_SIG) &&
          bytes_are(c.data, strlen(PETER_TEXT "\n" PETER_SIG), PETER_TEXT "\n" PETER_SIG, strlen(PETER_TEXT "\n" PETER_SIG)));
    pel_buf_reset(&c);
    CHECK_EQ_INT(pel_note_add_signature(PETER_TEXT, strlen(PETER_TEXT), "w", sk[1], &c), PEL_ENOTE);
    CHECK_EQ_INT(c.len, 0);
    pel_buf_free(&a), pel_buf_free(&b), pel_buf_free(&c);
    sodium_memzero(sk, sizeof sk);
}

/* A note already at 100 lines takes no 101st, unless it replaces a line by
 * the same key. */
static void cosign_respects_limit(void)
{
    pel_note_signer k = skey(PETER_SKEY);
    uint8_t pk[32], sk[64];
    size_t tl = strlen(PETER_TEXT "\n"), pl = strlen(PETER_SIG), el = strlen(ENOCH_SIG);
    size_t len = tl + pl + 99 * el;
    char *note = malloc(len + 1);
    pel_buf b;
    seeded_key(5, pk, sk);
    memcpy(note, PETER_TEXT "\n" PETER_SIG, tl + pl);
    for (size_t i = 0; i < 99; i++) memcpy(note + tl + pl + i * el, ENOCH_SIG, el);
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_note_add_signature(note, len, "x", sk, &b), PEL_ENOTE_TOOMANY);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(pel_note_add_signature(note, len, k.name, k.sk, &b), 0);
    CHECK_EQ_INT(b.len, len); /* Peter's line moved to the end, same bytes */
    CHECK(b.len == len && bytes_are(b.data + len - pl, pl, PETER_SIG, pl));
    pel_buf_free(&b);
    free(note);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(&k, sizeof k);
}

/* ===================================================== checkpoints */

#define EXAMPLE_BODY_HEAD "pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
#define EXAMPLE_BODY EXAMPLE_BODY_HEAD \
    "height 7\nstate-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n" \
    "timestamp-ms 1700000000123\n"

static pel_checkpoint example_checkpoint(void)
{
    pel_checkpoint c;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(pel_checkpoint_origin("pel-devnet", c.origin), 0);
    c.size = 42;
    for (int i = 0; i < 32; i++) c.root[i] = (uint8_t)i, c.state_root[i] = (uint8_t)(32 + i);
    c.height = 7;
    c.timestamp_ms = 1700000000123ull;
    return c;
}

/* The documented example, exactly, and back. */
static void checkpoint_format_example(void)
{
    pel_checkpoint c = example_checkpoint(), d;
    pel_buf b;
    pel_buf_init(&b);
    CHECK(strcmp(c.origin, "pel-devnet/pel") == 0);
    CHECK_EQ_INT(pel_checkpoint_format(&c, &b), 0);
    CHECK_EQ_INT(b.len, strlen(EXAMPLE_BODY));
    CHECK(bytes_are(b.data, b.len, EXAMPLE_BODY, strlen(EXAMPLE_BODY)));
    CHECK_EQ_INT(pel_checkpoint_parse((char *)b.data, b.len, &d), 0);
    CHECK_MEM(&c, &d, sizeof c);
    pel_buf_free(&b);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Property: parse(format(c)) == c and the body's first three lines are a
 * standard checkpoint, for random values with the edges mixed in. */
static void checkpoint_round_trip_random(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", 0x9e3779b97f4a7c15ull), s = seed | 1;
    uint64_t iters = test_env_u64("PEL_TEST_ITERS", 2000), bad = 0;
    static const uint64_t edge[] = {0, 1, 9, 10, 99, 100, INT64_MAX, UINT64_MAX};
    printf("checkpoint_round_trip_random: seed %" PRIu64 "\n", seed);
    for (uint64_t it = 0; it < iters; it++) {
        pel_checkpoint c, d;
        pel_buf b;
        memset(&c, 0, sizeof c);
        snprintf(c.origin, sizeof c.origin, "chain-%" PRIu64 "/pel", rng_next(&s) % 1000);
        c.size = (it % 3 == 0 ? edge[it % 7] : rng_next(&s)) & INT64_MAX;
        c.height = it % 5 == 0 ? edge[it % 8] : rng_next(&s) >> (it % 64);
        c.timestamp_ms = it % 7 == 0 ? edge[(it / 7) % 8] : rng_next(&s);
        for (int i = 0; i < 32; i++) c.root[i] = (uint8_t)rng_next(&s), c.state_root[i] = (uint8_t)rng_next(&s);
        pel_buf_init(&b);
        if (pel_checkpoint_format(&c, &b) != 0 || pel_checkpoint_parse((char *)b.data, b.len, &d) != 0 ||
            memcmp(&c, &d, sizeof c) != 0)
            bad++;
        pel_buf_free(&b);
    }
    CHECK_EQ_INT(bad, 0);
}

/* Each mutation of the example body and the code it must get. */
static void checkpoint_parse_strict(void)
{
    static const struct { const char *body; int rc; } cases[] = {
#define HEAD "pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
#define EXT "height 7\nstate-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\ntimestamp-ms 1700000000123\n"
#define ROOT "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define SR "state-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
        {HEAD EXT, 0},
        {"pel-devnet/pel\n042\n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {"pel-devnet/pel\n00\n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {"pel-devnet/pel\n0\n" ROOT "\n" EXT, 0},
        {"pel-devnet/pel\n+5\n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {"pel-devnet/pel\n-1\n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {"pel-devnet/pel\n 5\n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {"pel-devnet/pel\n5 \n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {"pel-devnet/pel\n0x5\n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {"pel-devnet/pel\n9223372036854775807\n" ROOT "\n" EXT, 0},
        {"pel-devnet/pel\n9223372036854775808\n" ROOT "\n" EXT, PEL_ECKPT_NUM},
        {HEAD "height 18446744073709551615\n" SR "timestamp-ms 0\n", 0},
        {HEAD "height 18446744073709551616\n" SR "timestamp-ms 0\n", PEL_ECKPT_NUM},
        {HEAD "height 99999999999999999999\n" SR "timestamp-ms 0\n", PEL_ECKPT_NUM},
        {HEAD "height 07\n" SR "timestamp-ms 0\n", PEL_ECKPT_NUM},
        {HEAD "height \n" SR "timestamp-ms 0\n", PEL_ECKPT_NUM},
        {HEAD "height  7\n" SR "timestamp-ms 0\n", PEL_ECKPT_NUM},
        {HEAD "height 7\n" SR "timestamp-ms -3\n", PEL_ECKPT_NUM},
        /* 31 and 33 bytes, no padding, stray bits, URL alphabet, hex */
        {"pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n" EXT, PEL_ECKPT_HASH},
        {"pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n" EXT, PEL_ECKPT_HASH},
        {"pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n" EXT, PEL_ECKPT_HASH},
        {"pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n" EXT, PEL_ECKPT_HASH},
        {"pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-=\n" EXT, PEL_ECKPT_HASH},
        {"pel-devnet/pel\n42\n000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n" EXT, PEL_ECKPT_HASH},
        {HEAD "height 7\nstate-root 202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F\ntimestamp-ms 1\n", PEL_ECKPT_HASH},
        {HEAD "height 7\nstate-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e\ntimestamp-ms 1\n", PEL_ECKPT_HASH},
        {HEAD "height 7\nstate-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40\ntimestamp-ms 1\n", PEL_ECKPT_HASH},
        {HEAD "height 7\nstate-root 0x2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\ntimestamp-ms 1\n", PEL_ECKPT_HASH},
        /* layout */
        {HEAD, PEL_ECKPT_EXT},
        {HEAD "height 7\n" SR, PEL_ECKPT_EXT},
        {"pel-devnet/pel\n42\n", PEL_ECKPT},
        {"", PEL_ECKPT},
        {"pel-devnet/pel\n42\n" ROOT, PEL_ECKPT},
        {HEAD EXT "\n", PEL_ECKPT},
        {HEAD "\n" EXT, PEL_ECKPT},
        {"pel-devnet/pel\r\n42\n" ROOT "\n" EXT, PEL_ECKPT},
        {HEAD "height 7\n" SR "timestamp-ms 1\x01\n", PEL_ECKPT},
        {HEAD EXT "witness 1\n", PEL_ECKPT_EXT},
        {HEAD "foo 1\n" SR "timestamp-ms 1\n", PEL_ECKPT_EXT},
        {HEAD "Height 7\n" SR "timestamp-ms 1\n", PEL_ECKPT_EXT},
        {HEAD "height7\n" SR "timestamp-ms 1\n", PEL_ECKPT_EXT},
        {HEAD SR "height 7\ntimestamp-ms 1\n", PEL_ECKPT_EXT},
        {HEAD "height 7\nheight 7\n" SR, PEL_ECKPT_EXT},
        {HEAD "height 7\n" SR "timestamp-ms 1\ntimestamp-ms 1\n", PEL_ECKPT_EXT},
        /* origin */
        {"pel devnet/pel\n42\n" ROOT "\n" EXT, PEL_ECKPT_ORIGIN},
        {"pel+devnet/pel\n42\n" ROOT "\n" EXT, PEL_ECKPT_ORIGIN},
        {"\xff/pel\n42\n" ROOT "\n" EXT, PEL_ECKPT},
    };
    pel_checkpoint c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = pel_checkpoint_parse(cases[i].body, strlen(cases[i].body), &c);
        if (rc != cases[i].rc) fprintf(stderr, "checkpoint case %zu: %d, want %d\n", i, rc, cases[i].rc);
        CHECK_EQ_INT(rc, cases[i].rc);
    }
    /* a failed parse leaves *out zeroed */
    pel_checkpoint zero;
    memset(&zero, 0, sizeof zero);
    CHECK_MEM(&c, &zero, sizeof c);
}

/* Values the formatter refuses, and chain ids the origin refuses. */
static void checkpoint_format_refuses(void)
{
    pel_checkpoint c = example_checkpoint();
    char origin[PEL_CKPT_ORIGIN_MAX + 1], longid[PEL_CKPT_ORIGIN_MAX + 1];
    pel_buf b;
    pel_buf_init(&b);
    c.size = (uint64_t)INT64_MAX + 1;
    CHECK_EQ_INT(pel_checkpoint_format(&c, &b), PEL_ERANGE);
    c = example_checkpoint();
    strcpy(c.origin, "pel devnet/pel");
    CHECK_EQ_INT(pel_checkpoint_format(&c, &b), PEL_ECKPT_ORIGIN);
    c.origin[0] = '\0';
    CHECK_EQ_INT(pel_checkpoint_format(&c, &b), PEL_ECKPT_ORIGIN);
    memset(c.origin, 'a', sizeof c.origin); /* no NUL inside */
    CHECK_EQ_INT(pel_checkpoint_format(&c, &b), PEL_ECKPT_ORIGIN);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(pel_checkpoint_origin("", origin), PEL_ECKPT_ORIGIN);
    CHECK_EQ_INT(pel_checkpoint_origin("a+b", origin), PEL_ECKPT_ORIGIN);
    CHECK_EQ_INT(origin[0], 0);
    memset(longid, 'c', sizeof longid);
    longid[PEL_CKPT_ORIGIN_MAX - 4] = '\0';
    CHECK_EQ_INT(pel_checkpoint_origin(longid, origin), 0);
    CHECK_EQ_INT(strlen(origin), PEL_CKPT_ORIGIN_MAX);
    longid[PEL_CKPT_ORIGIN_MAX - 4] = 'c';
    longid[PEL_CKPT_ORIGIN_MAX - 3] = '\0';
    CHECK_EQ_INT(pel_checkpoint_origin(longid, origin), PEL_ECKPT_ORIGIN);
    pel_buf_free(&b);
}

/* Sign and verify; a witness cosignature is ignored; tampering, the wrong
 * key, and a key named other than the origin are refused. */
static void checkpoint_sign_verify(void)
{
    pel_checkpoint c = example_checkpoint(), d;
    uint8_t pk[32], sk[64], wpk[32], wsk[64];
    pel_note_verifier v, other;
    pel_buf n, w, body;
    seeded_key(21, pk, sk);
    seeded_key(22, wpk, wsk);
    CHECK_EQ_INT(pel_note_verifier_from_key("pel-devnet/pel", pk, &v), 0);
    CHECK_EQ_INT(pel_note_verifier_from_key("pel-devnet/pel", wpk, &other), 0);
    pel_buf_init(&n), pel_buf_init(&w), pel_buf_init(&body);
    CHECK_EQ_INT(pel_checkpoint_sign(&c, sk, &n), 0);
    CHECK_EQ_INT(pel_checkpoint_verify((char *)n.data, n.len, &v, &d), 0);
    CHECK_MEM(&c, &d, sizeof c);
    CHECK_EQ_INT(pel_checkpoint_verify((char *)n.data, n.len, &other, &d), PEL_ENOTE_UNVERIFIED);
    CHECK_EQ_INT(pel_note_add_signature((char *)n.data, n.len, "witness.example/w1", wsk, &w), 0);
    CHECK_EQ_INT(pel_checkpoint_verify((char *)w.data, w.len, &v, &d), 0);
    CHECK_MEM(&c, &d, sizeof c);
    n.data[strlen(EXAMPLE_BODY_HEAD "height ")] ^= 1; /* height 7 -> 6 */
    CHECK_EQ_INT(pel_checkpoint_verify((char *)n.data, n.len, &v, &d), PEL_ENOTE_BADSIG);
    /* the origin must be the key's name */
    CHECK_EQ_INT(pel_checkpoint_format(&c, &body), 0);
    pel_buf_reset(&n);
    CHECK_EQ_INT(pel_note_sign((char *)body.data, body.len, "other/pel", sk, &n), 0);
    CHECK_EQ_INT(pel_note_verifier_from_key("other/pel", pk, &other), 0);
    CHECK_EQ_INT(pel_checkpoint_verify((char *)n.data, n.len, &other, &d), PEL_ECKPT_ORIGIN);
    CHECK_EQ_INT(d.size, 0);
    pel_buf_free(&n), pel_buf_free(&w), pel_buf_free(&body);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(wsk, sizeof wsk);
}

/* Golden: the example checkpoint signed with the key of seed 0x01 x 32.
 * These bytes were checked with an independent implementation of Go's
 * note.Open and tlog checkpoint rules (Python, OpenSSL's Ed25519). */
#define GOLDEN_VKEY "pel-devnet/pel+412fcbd5+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
static void checkpoint_golden(void)
{
    static const char want[] = EXAMPLE_BODY "\n" DASH "pel-devnet/pel "
        "QS/L1ZrGInJmJYzuC+D7z9rMWHAtUqeWNV2ERqHvQM385c8LpLXSl7c2H7r+Cp8x0XXS8LLwSaIGxObSij9oCthStA4=\n";
    uint8_t pk[32], sk[64];
    char s[PEL_NOTE_VKEY_MAX];
    pel_checkpoint c = example_checkpoint();
    pel_buf b;
    seeded_key(1, pk, sk);
    CHECK_EQ_INT(pel_note_verifier_format("pel-devnet/pel", pk, s, sizeof s), 0);
    CHECK(strcmp(s, GOLDEN_VKEY) == 0);
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_checkpoint_sign(&c, sk, &b), 0);
    CHECK_EQ_INT(b.len, strlen(want));
    CHECK(bytes_are(b.data, b.len, want, strlen(want)));
    if (getenv("PEL_PRINT_GOLDEN")) {
        printf("%s\n", s);
        fwrite(b.data, 1, b.len, stdout);
    }
    pel_buf_free(&b);
    sodium_memzero(sk, sizeof sk);
}

/* Every new code has its own name. */
static void error_names(void)
{
    for (int c = PEL_ENOTE; c >= PEL_ECKPT_EXT; c--) {
        CHECK(strcmp(pel_strerror(c), "unknown error") != 0);
        for (int d = c - 1; d >= PEL_ECKPT_EXT; d--)
            CHECK(strcmp(pel_strerror(c), pel_strerror(d)) != 0);
    }
}

int main(void)
{
    RUN(go_verifier_key_parses_and_formats_back);
    RUN(go_key_pairs_agree);
    RUN(verifier_key_manglings_rejected);
    RUN(verifier_key_length_checked);
    RUN(signer_key_manglings_rejected);
    RUN(key_strings_round_trip);
    RUN(key_name_rules);
    RUN(weak_or_inconsistent_keys_refused);
    RUN(go_note_opens);
    RUN(our_signature_is_gos);
    RUN(c2sp_example_opens);
    RUN(sumdb_checkpoint_opens);
    RUN(known_and_unknown_signatures);
    RUN(known_bad_signature_rejects);
    RUN(repeated_signatures);
    RUN(ambiguous_keys);
    RUN(too_many_signatures);
    RUN(malformed_notes_rejected);
    RUN(any_byte_flip_fails);
    RUN(sign_refuses_bad_text_and_names);
    RUN(text_with_blank_lines);
    RUN(cosign_note);
    RUN(cosign_respects_limit);
    RUN(checkpoint_format_example);
    RUN(checkpoint_round_trip_random);
    RUN(checkpoint_parse_strict);
    RUN(checkpoint_format_refuses);
    RUN(checkpoint_sign_verify);
    RUN(checkpoint_golden);
    RUN(error_names);
    return TEST_END("test_checkpoint");
}
