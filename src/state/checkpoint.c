/*
 * checkpoint.c - C2SP signed notes, note keys and PEL checkpoints.
 *
 * checkpoint.h gives the formats. The parsers follow the C2SP texts and
 * golang.org/x/mod/sumdb/note (Open, NewVerifier, NewSigner) rule by rule;
 * where we are stricter, the header says so. Nothing here keeps state, and
 * only pel_buf outputs allocate. Parsing never copies the note: a note is
 * split in place and its signature lines are read twice (syntax, then
 * verification), decoding base64 in small stack chunks, so a note costs no
 * memory however many bytes an unknown key's signature has.
 */
#include "state/checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/hash.h"
#include "core/hex.h"

/* U+2014 EM DASH and a space: the start of every signature line. */
static const char sig_prefix[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN 4
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

/* ============================================================ text rules */

/* Decodes the UTF-8 sequence at s[0..n) (n >= 1) into a code point, or -1
 * for what Go's utf8.DecodeRune calls invalid: a stray or truncated
 * sequence, an overlong form, a surrogate, or anything above U+10FFFF. */
static long utf8_next(const uint8_t *s, size_t n, size_t *len)
{
    size_t need;
    long cp, min;
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) need = 2, cp = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0) need = 3, cp = s[0] & 0x0f, min = 0x800;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) need = 4, cp = s[0] & 0x07, min = 0x10000;
    else return -1;
    if (n < need) return -1;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    *len = need;
    return cp;
}

/* Unicode White_Space, which is what Go's unicode.IsSpace tests. */
static int is_space(long cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
           cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

/* Valid UTF-8 with no control character other than "\n". */
static int text_ok(const char *s, size_t n)
{
    size_t i = 0, k = 0;
    while (i < n) {
        long cp = utf8_next((const uint8_t *)s + i, n - i, &k);
        if (cp < 0 || (cp < 0x20 && cp != '\n')) return 0;
        i += k;
    }
    return 1;
}

/* A key name: non-empty UTF-8, no white space, no "+", no control. */
static int name_ok(const char *s, size_t n)
{
    size_t i = 0, k = 0;
    if (n == 0) return 0;
    while (i < n) {
        long cp = utf8_next((const uint8_t *)s + i, n - i, &k);
        if (cp < 0x20 || cp == '+' || is_space(cp)) return 0;
        i += k;
    }
    return 1;
}

/* A NUL-terminated name inside cap bytes. */
static int cname_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n < cap && name_ok(s, n);
}

int pel_note_name_valid(const char *name)
{
    return cname_ok(name, PEL_NOTE_NAME_MAX + 1);
}

static int lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* ================================================================ base64 */

/* Strict base64 (standard alphabet, padded, canonical) of s[0..n): writes
 * the first min(total, cap) decoded bytes to out and the decoded length to
 * *total. Works in 64-character chunks, which decode independently; only
 * the last may hold "=". Each chunk must re-encode to itself, which rules
 * out stray bits in the last character whatever libsodium tolerates.
 * Returns 0 or -1. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                      size_t *total)
{
    uint8_t bin[48];
    char re[65];
    size_t got = 0, done = 0;
    if (n % 4 != 0) return -1;
    for (size_t off = 0; off < n; off += 64) {
        size_t m = n - off < 64 ? n - off : 64;
        if (off + m < n && memchr(s + off, '=', m)) return -1;
        if (sodium_base642bin(bin, sizeof bin, s + off, m, NULL, &got, NULL,
                              B64_VARIANT) != 0)
            return -1;
        sodium_bin2base64(re, sizeof re, bin, got, B64_VARIANT);
        if (strlen(re) != m || memcmp(re, s + off, m) != 0) return -1;
        if (done < cap) memcpy(out + done, bin, got < cap - done ? got : cap - done);
        done += got;
    }
    *total = done;
    return 0;
}

static int b64_append(pel_buf *b, const uint8_t *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, B64_VARIANT); /* NUL included */
    int rc = pel_buf_reserve(b, cap);
    if (rc) return rc;
    sodium_bin2base64((char *)b->data + b->len, cap, p, n, B64_VARIANT);
    b->len += cap - 1;
    return 0;
}

/* ================================================================== keys */

static void key_id(const char *name, size_t n, const uint8_t pk[PEL_PUBKEY_LEN],
                   uint8_t id[PEL_NOTE_KEY_ID_LEN])
{
    static const uint8_t sep[2] = {0x0a, PEL_NOTE_ALG_ED25519};
    uint8_t h[PEL_SHA256_LEN];
    pel_sha256_ctx c;
    pel_sha256_init(&c);
    pel_sha256_update(&c, name, n);
    pel_sha256_update(&c, sep, sizeof sep);
    pel_sha256_update(&c, pk, PEL_PUBKEY_LEN);
    pel_sha256_final(&c, h);
    memcpy(id, h, PEL_NOTE_KEY_ID_LEN);
}

void pel_note_key_id(const char *name, const uint8_t pk[PEL_PUBKEY_LEN],
                     uint8_t id[PEL_NOTE_KEY_ID_LEN])
{
    key_id(name, strlen(name), pk, id);
}

/* sk's public half is the one its seed gives (else every signature made
 * with it fails, and its key id names another key). */
static int sk_check(const uint8_t sk[PEL_SECKEY_LEN])
{
    uint8_t pk[PEL_PUBKEY_LEN], sk2[PEL_SECKEY_LEN];
    int rc = pel_sign_seed_keypair(pk, sk2, sk);
    if (!rc && sodium_memcmp(pk, sk + PEL_SEED_LEN, PEL_PUBKEY_LEN) != 0)
        rc = PEL_EINVAL;
    sodium_memzero(sk2, sizeof sk2);
    return rc;
}

/* The three fields of "<name>+<id hex>+<base64>", checked for layout. */
typedef struct keystr {
    char name[PEL_NOTE_NAME_MAX + 1];
    uint8_t id[PEL_NOTE_KEY_ID_LEN];    /* as written */
    uint8_t raw[1 + PEL_PUBKEY_LEN];    /* algorithm byte, key (or seed) */
} keystr;

static int parse_keystr(const char *s, keystr *k)
{
    const char *p1 = strchr(s, '+'), *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
    size_t nlen, total = 0, got = 0;
    if (!p2) return PEL_EVKEY;
    nlen = (size_t)(p1 - s);
    if (nlen > PEL_NOTE_NAME_MAX || !name_ok(s, nlen)) return PEL_ENOTE_NAME;
    if (p2 - p1 - 1 != 8 || !lower_hex(p1 + 1, 8) ||
        pel_hex_decode(p1 + 1, 8, k->id, sizeof k->id, &got) != 0)
        return PEL_EVKEY;
    if (b64_decode(p2 + 1, strlen(p2 + 1), k->raw, sizeof k->raw, &total) != 0 ||
        total == 0)
        return PEL_EVKEY;
    if (k->raw[0] != PEL_NOTE_ALG_ED25519) return PEL_EVKEY_ALG;
    if (total != sizeof k->raw) return PEL_EVKEY;
    memcpy(k->name, s, nlen);
    k->name[nlen] = '\0';
    return 0;
}

int pel_note_verifier_from_key(const char *name, const uint8_t pk[PEL_PUBKEY_LEN],
                               pel_note_verifier *out)
{
    int rc;
    memset(out, 0, sizeof *out);
    if (!pel_note_name_valid(name)) return PEL_ENOTE_NAME;
    if ((rc = pel_crypto_init()) != 0) return rc;
    if (!crypto_core_ed25519_is_valid_point(pk)) return PEL_EBADKEY;
    memcpy(out->name, name, strlen(name) + 1);
    memcpy(out->pk, pk, PEL_PUBKEY_LEN);
    pel_note_key_id(name, pk, out->id);
    return 0;
}

int pel_note_verifier_parse(const char *s, pel_note_verifier *out)
{
    keystr k;
    uint8_t id[PEL_NOTE_KEY_ID_LEN];
    int rc = parse_keystr(s, &k);
    memset(out, 0, sizeof *out);
    if (!rc) {
        pel_note_key_id(k.name, k.raw + 1, id);
        rc = memcmp(id, k.id, sizeof id) ? PEL_EVKEY_ID : 0;
    }
    if (!rc) rc = pel_note_verifier_from_key(k.name, k.raw + 1, out);
    return rc;
}

int pel_note_signer_parse(const char *s, pel_note_signer *out)
{
    static const char pfx[] = "PRIVATE+KEY+";
    keystr k;
    uint8_t pk[PEL_PUBKEY_LEN], id[PEL_NOTE_KEY_ID_LEN];
    int rc = strncmp(s, pfx, sizeof pfx - 1) ? PEL_EVKEY
                                              : parse_keystr(s + sizeof pfx - 1, &k);
    memset(out, 0, sizeof *out);
    if (!rc) rc = pel_sign_seed_keypair(pk, out->sk, k.raw + 1);
    if (!rc) {
        pel_note_key_id(k.name, pk, id);
        rc = memcmp(id, k.id, sizeof id) ? PEL_EVKEY_ID : 0;
    }
    if (!rc) {
        memcpy(out->name, k.name, sizeof out->name);
        memcpy(out->id, id, sizeof id);
    }
    sodium_memzero(&k, sizeof k);
    if (rc) sodium_memzero(out, sizeof *out);
    return rc;
}

/* prefix ‖ name ‖ "+" ‖ hex(id of pk) ‖ "+" ‖ base64(raw) into out. */
static int format_key(const char *prefix, const char *name,
                      const uint8_t pk[PEL_PUBKEY_LEN],
                      const uint8_t raw[1 + PEL_PUBKEY_LEN], char *out, size_t cap)
{
    uint8_t id[PEL_NOTE_KEY_ID_LEN];
    char hex[2 * PEL_NOTE_KEY_ID_LEN + 1], b64[45];
    size_t need;
    if (cap) out[0] = '\0';
    if (!pel_note_name_valid(name)) return PEL_ENOTE_NAME;
    need = strlen(prefix) + strlen(name) + 1 + 8 + 1 + 44 + 1;
    if (need > cap) return PEL_ERANGE;
    pel_note_key_id(name, pk, id);
    pel_hex_encode(id, sizeof id, hex);
    sodium_bin2base64(b64, sizeof b64, raw, 1 + PEL_PUBKEY_LEN, B64_VARIANT);
    snprintf(out, cap, "%s%s+%s+%s", prefix, name, hex, b64);
    sodium_memzero(b64, sizeof b64);
    return 0;
}

int pel_note_verifier_format(const char *name, const uint8_t pk[PEL_PUBKEY_LEN],
                             char *out, size_t cap)
{
    uint8_t raw[1 + PEL_PUBKEY_LEN];
    raw[0] = PEL_NOTE_ALG_ED25519;
    memcpy(raw + 1, pk, PEL_PUBKEY_LEN);
    return format_key("", name, pk, raw, out, cap);
}

int pel_note_signer_format(const char *name, const uint8_t sk[PEL_SECKEY_LEN],
                           char *out, size_t cap)
{
    uint8_t raw[1 + PEL_SEED_LEN];
    int rc = pel_note_name_valid(name) ? sk_check(sk) : PEL_ENOTE_NAME;
    raw[0] = PEL_NOTE_ALG_ED25519;
    memcpy(raw + 1, sk, PEL_SEED_LEN);
    if (!rc) rc = format_key("PRIVATE+KEY+", name, sk + PEL_SEED_LEN, raw, out, cap);
    sodium_memzero(raw, sizeof raw);
    if (rc && cap) sodium_memzero(out, cap);
    return rc;
}

/* ========================================================== note syntax */

/* A note split in place: text (final "\n" included) and signature lines. */
typedef struct note_parts {
    const char *text, *sigs;
    size_t text_len, sigs_len;
} note_parts;

/* One signature line, pointing into the note. raw holds the first bytes of
 * the decoded field (key id, then signature); raw_len is its full length. */
typedef struct sigline {
    const char *name;
    size_t name_len;
    uint8_t raw[PEL_NOTE_KEY_ID_LEN + PEL_SIG_LEN];
    size_t raw_len;
} sigline;

/* Parses the line at sigs[*pos] (every line ends in "\n": split_note made
 * sure) and moves *pos past it. Go's rules: the prefix, a name up to the
 * first space, then base64 of at least 5 bytes up to the end of the line. */
static int sig_at(const note_parts *p, size_t *pos, sigline *sl)
{
    const char *s = p->sigs + *pos;
    const char *nl = memchr(s, '\n', p->sigs_len - *pos);
    size_t n = (size_t)(nl - s);
    const char *sp;
    *pos += n + 1;
    if (n < SIG_PREFIX_LEN || memcmp(s, sig_prefix, SIG_PREFIX_LEN) != 0)
        return PEL_ENOTE;
    s += SIG_PREFIX_LEN, n -= SIG_PREFIX_LEN;
    if (!(sp = memchr(s, ' ', n))) return PEL_ENOTE;
    sl->name = s;
    sl->name_len = (size_t)(sp - s);
    n -= sl->name_len + 1;
    if (!name_ok(s, sl->name_len) || n == 0 ||
        b64_decode(sp + 1, n, sl->raw, sizeof sl->raw, &sl->raw_len) != 0 ||
        sl->raw_len < PEL_NOTE_KEY_ID_LEN + 1)
        return PEL_ENOTE;
    return 0;
}

/* Splits at the last blank line and checks every signature line's syntax
 * and their number, so that no crypto is spent on a malformed note. */
static int split_note(const char *note, size_t len, note_parts *p)
{
    size_t i, pos = 0, count = 0;
    sigline sl;
    int rc = 0;
    if (!text_ok(note, len)) return PEL_ENOTE;
    for (i = len; i >= 2; i--)
        if (note[i - 1] == '\n' && note[i - 2] == '\n') break;
    if (i < 2 || i == len || note[len - 1] != '\n') return PEL_ENOTE;
    p->text = note, p->text_len = i - 1;
    p->sigs = note + i, p->sigs_len = len - i;
    while (!rc && pos < p->sigs_len) {
        rc = sig_at(p, &pos, &sl);
        if (!rc && ++count > PEL_NOTE_MAX_SIGS) rc = PEL_ENOTE_TOOMANY;
    }
    return rc;
}

/* 1 and *idx if one key has the line's (name, id), 0 if none,
 * PEL_ENOTE_AMBIGUOUS if several. */
static int find_key(const pel_note_verifier *keys, size_t n_keys,
                    const sigline *sl, size_t *idx)
{
    int found = 0;
    if (sl->name_len > PEL_NOTE_NAME_MAX) return 0;
    for (size_t i = 0; i < n_keys; i++) {
        if (memcmp(keys[i].name, sl->name, sl->name_len) != 0 ||
            keys[i].name[sl->name_len] != '\0' ||
            memcmp(keys[i].id, sl->raw, PEL_NOTE_KEY_ID_LEN) != 0)
            continue;
        if (found) return PEL_ENOTE_AMBIGUOUS;
        found = 1, *idx = i;
    }
    return found;
}

static int verify_line(const pel_note_verifier *k, const note_parts *p,
                       const sigline *sl)
{
    int rc;
    if (sl->raw_len != PEL_NOTE_KEY_ID_LEN + PEL_SIG_LEN) return PEL_ENOTE_BADSIG;
    rc = pel_sign_verify(k->pk, p->text, p->text_len, sl->raw + PEL_NOTE_KEY_ID_LEN);
    return rc == PEL_EBADSIG ? PEL_ENOTE_BADSIG : rc;
}

/* Records key k as verified unless an earlier line did. */
static void mark_verified(pel_note_opened *o, size_t k)
{
    for (size_t i = 0; i < o->n_verified; i++)
        if (o->verified[i] == k) return;
    o->verified[o->n_verified++] = k;
}

int pel_note_open(const char *note, size_t len, const pel_note_verifier *keys,
                  size_t n_keys, pel_note_opened *out)
{
    note_parts p;
    sigline sl;
    size_t pos = 0, k = 0;
    int rc = split_note(note, len, &p);
    memset(out, 0, sizeof *out);
    while (!rc && pos < p.sigs_len) {
        out->n_sigs++;
        if ((rc = sig_at(&p, &pos, &sl)) != 0) break;
        rc = find_key(keys, n_keys, &sl, &k);
        if (rc == 0) out->n_unknown++;
        if (rc == 1 && (rc = verify_line(&keys[k], &p, &sl)) == 0)
            mark_verified(out, k);
    }
    if (!rc && out->n_verified == 0) rc = PEL_ENOTE_UNVERIFIED;
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->text = p.text, out->text_len = p.text_len;
    out->sigs = p.sigs, out->sigs_len = p.sigs_len;
    return 0;
}

/* ======================================================== note signing */

/* Appends "— <name> <base64(id ‖ signature of text)>\n". */
static int append_sigline(pel_buf *out, const char *text, size_t tlen,
                          const char *name, const uint8_t sk[PEL_SECKEY_LEN])
{
    uint8_t raw[PEL_NOTE_KEY_ID_LEN + PEL_SIG_LEN];
    size_t nlen = strlen(name);
    int rc;
    key_id(name, nlen, sk + PEL_SEED_LEN, raw);
    rc = pel_sign(sk, text, tlen, raw + PEL_NOTE_KEY_ID_LEN);
    if (!rc) rc = pel_buf_append(out, sig_prefix, SIG_PREFIX_LEN);
    if (!rc) rc = pel_buf_append(out, name, nlen);
    if (!rc) rc = pel_buf_append(out, " ", 1);
    if (!rc) rc = b64_append(out, raw, sizeof raw);
    if (!rc) rc = pel_buf_append(out, "\n", 1);
    return rc;
}

static int signer_ok(const char *name, const uint8_t sk[PEL_SECKEY_LEN])
{
    return pel_note_name_valid(name) ? sk_check(sk) : PEL_ENOTE_NAME;
}

int pel_note_sign(const char *text, size_t len, const char *name,
                  const uint8_t sk[PEL_SECKEY_LEN], pel_buf *out)
{
    size_t mark = out->len;
    int rc = 0;
    if (len == 0 || !text || text[len - 1] != '\n' || !text_ok(text, len))
        rc = PEL_ENOTE_TEXT;
    if (!rc) rc = signer_ok(name, sk);
    if (!rc) rc = pel_buf_append(out, text, len);
    if (!rc) rc = pel_buf_append(out, "\n", 1);
    if (!rc) rc = append_sigline(out, text, len, name, sk);
    if (rc) out->len = mark;
    return rc;
}

static int same_key(const sigline *sl, const char *name,
                    const uint8_t id[PEL_NOTE_KEY_ID_LEN])
{
    return sl->name_len == strlen(name) && memcmp(sl->name, name, sl->name_len) == 0 &&
           memcmp(sl->raw, id, PEL_NOTE_KEY_ID_LEN) == 0;
}

int pel_note_add_signature(const char *note, size_t len, const char *name,
                           const uint8_t sk[PEL_SECKEY_LEN], pel_buf *out)
{
    note_parts p;
    sigline sl;
    uint8_t id[PEL_NOTE_KEY_ID_LEN];
    size_t pos = 0, start, kept = 0, mark = out->len;
    int rc = split_note(note, len, &p);
    if (!rc) rc = signer_ok(name, sk);
    if (!rc) {
        key_id(name, strlen(name), sk + PEL_SEED_LEN, id);
        rc = pel_buf_append(out, p.text, p.text_len + 1); /* and the blank line */
    }
    while (!rc && pos < p.sigs_len) {
        start = pos;
        if ((rc = sig_at(&p, &pos, &sl)) != 0 || same_key(&sl, name, id)) continue;
        kept++;
        rc = pel_buf_append(out, p.sigs + start, pos - start);
    }
    if (!rc && kept >= PEL_NOTE_MAX_SIGS) rc = PEL_ENOTE_TOOMANY;
    if (!rc) rc = append_sigline(out, p.text, p.text_len, name, sk);
    if (rc) out->len = mark;
    return rc;
}

/* =========================================================== checkpoints */

#define CKPT_LINES 6
static const char *const ext_key[3] = {"height ", "state-root ", "timestamp-ms "};

int pel_checkpoint_origin(const char *chain_id, char out[PEL_CKPT_ORIGIN_MAX + 1])
{
    static const char sfx[] = PEL_CKPT_ORIGIN_SUFFIX;
    size_t n = strnlen(chain_id, PEL_CKPT_ORIGIN_MAX);
    out[0] = '\0';
    if (n + sizeof sfx - 1 > PEL_CKPT_ORIGIN_MAX || !name_ok(chain_id, n))
        return PEL_ECKPT_ORIGIN;
    memcpy(out, chain_id, n);
    memcpy(out + n, sfx, sizeof sfx);
    return 0;
}

static int put_str(pel_buf *b, const char *s)
{
    return pel_buf_append(b, s, strlen(s));
}

/* Appends key ‖ decimal v ‖ "\n". */
static int put_u64(pel_buf *b, const char *key, uint64_t v)
{
    char num[24];
    int rc = put_str(b, key);
    snprintf(num, sizeof num, "%" PRIu64 "\n", v);
    return rc ? rc : put_str(b, num);
}

int pel_checkpoint_format(const pel_checkpoint *c, pel_buf *body)
{
    char hex[2 * 32 + 1];
    size_t mark = body->len;
    int rc;
    if (!cname_ok(c->origin, sizeof c->origin)) return PEL_ECKPT_ORIGIN;
    if (c->size > INT64_MAX) return PEL_ERANGE;
    pel_hex_encode(c->state_root, sizeof c->state_root, hex);
    rc = put_str(body, c->origin);
    if (!rc) rc = put_u64(body, "\n", c->size);
    if (!rc) rc = b64_append(body, c->root, sizeof c->root);
    if (!rc) rc = put_u64(body, "\nheight ", c->height);
    if (!rc) rc = put_str(body, ext_key[1]);
    if (!rc) rc = put_str(body, hex);
    if (!rc) rc = put_u64(body, "\ntimestamp-ms ", c->timestamp_ms);
    if (rc) body->len = mark;
    return rc;
}

/* Splits a body into its six non-empty lines. */
static int split_lines(const char *t, size_t len, const char *line[CKPT_LINES],
                       size_t llen[CKPT_LINES])
{
    size_t n = 0, pos = 0;
    if (len == 0 || t[len - 1] != '\n' || !text_ok(t, len)) return PEL_ECKPT;
    while (pos < len) {
        const char *nl = memchr(t + pos, '\n', len - pos);
        size_t l = (size_t)(nl - (t + pos));
        if (l == 0) return PEL_ECKPT;
        if (n == CKPT_LINES) return PEL_ECKPT_EXT;
        line[n] = t + pos, llen[n++] = l;
        pos += l + 1;
    }
    return n < 3 ? PEL_ECKPT : n < CKPT_LINES ? PEL_ECKPT_EXT : 0;
}

/* Canonical decimal: digits only, no leading zero, at most max. */
static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || (s[0] == '0' && n > 1)) return PEL_ECKPT_NUM;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9 || x > (max - d) / 10) return PEL_ECKPT_NUM;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* The value of extension line i, which must start with ext_key[i]. */
static int ext_value(const char *l, size_t n, int i, const char **v, size_t *vn)
{
    size_t k = strlen(ext_key[i]);
    if (n < k || memcmp(l, ext_key[i], k) != 0) return PEL_ECKPT_EXT;
    *v = l + k, *vn = n - k;
    return 0;
}

static int parse_head(const char *const l[], const size_t n[], pel_checkpoint *c)
{
    size_t got = 0;
    if (n[0] > PEL_CKPT_ORIGIN_MAX || !name_ok(l[0], n[0])) return PEL_ECKPT_ORIGIN;
    memcpy(c->origin, l[0], n[0]);
    c->origin[n[0]] = '\0';
    if (parse_u64(l[1], n[1], INT64_MAX, &c->size)) return PEL_ECKPT_NUM;
    if (b64_decode(l[2], n[2], c->root, sizeof c->root, &got) != 0 ||
        got != sizeof c->root)
        return PEL_ECKPT_HASH;
    return 0;
}

static int parse_exts(const char *const l[], const size_t n[], pel_checkpoint *c)
{
    const char *v;
    size_t vn = 0, got = 0;
    int rc = ext_value(l[3], n[3], 0, &v, &vn);
    if (!rc) rc = parse_u64(v, vn, UINT64_MAX, &c->height);
    if (!rc) rc = ext_value(l[4], n[4], 1, &v, &vn);
    if (!rc && (vn != 64 || !lower_hex(v, vn) ||
                pel_hex_decode(v, vn, c->state_root, sizeof c->state_root, &got)))
        rc = PEL_ECKPT_HASH;
    if (!rc) rc = ext_value(l[5], n[5], 2, &v, &vn);
    if (!rc) rc = parse_u64(v, vn, UINT64_MAX, &c->timestamp_ms);
    return rc;
}

int pel_checkpoint_parse(const char *text, size_t len, pel_checkpoint *out)
{
    const char *l[CKPT_LINES];
    size_t n[CKPT_LINES];
    int rc = split_lines(text, len, l, n);
    memset(out, 0, sizeof *out);
    if (!rc) rc = parse_head(l, n, out);
    if (!rc) rc = parse_exts(l, n, out);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

int pel_checkpoint_sign(const pel_checkpoint *c, const uint8_t sk[PEL_SECKEY_LEN],
                        pel_buf *note)
{
    pel_buf body;
    int rc;
    pel_buf_init(&body);
    rc = pel_checkpoint_format(c, &body);
    if (!rc) rc = pel_note_sign((const char *)body.data, body.len, c->origin, sk, note);
    pel_buf_free(&body);
    return rc;
}

int pel_checkpoint_verify(const char *note, size_t len, const pel_note_verifier *key,
                          pel_checkpoint *out)
{
    pel_note_opened o;
    int rc = pel_note_open(note, len, key, 1, &o);
    memset(out, 0, sizeof *out);
    if (!rc) rc = pel_checkpoint_parse(o.text, o.text_len, out);
    if (!rc && strcmp(out->origin, key->name) != 0) rc = PEL_ECKPT_ORIGIN;
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}
