/*
 * proof.c - PEL proof files: strict JSON reader, canonical writer, and the
 * verifier of the three claims (proof.h; docs/PROOFS.md section 4).
 *
 * Reading is two passes over the text. The first checks the whole text as
 * RFC 8259 JSON (strings validated as UTF-8, escapes decoded, surrogates
 * paired, nesting bounded) and records each top-level member's decoded
 * name, the kind of its value and where the value starts. The second pass,
 * after the member-level checks (duplicates, version, type, member set),
 * decodes only the values the type needs, in the canonical member order,
 * so the first fault reported is the first in that order. Nothing keeps a
 * pointer into the input.
 */
#include "state/proof.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/hex.h"

#define JBAD 1                 /* internal: not valid JSON */
#define JMANY 2                /* internal: more than PEL_PROOF_MEMBERS_MAX */
#define JSON_DEPTH_MAX 32      /* nesting of wrong-typed values we skip */

/* ============================================================== errors */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* fail - write the message (if the caller wants one) and return code. */
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* shown - s[0..n) for a message: printable ASCII as is, other bytes as
 * \xNN, cut at 40 bytes with "...". out has room for 4 * 40 + 4 bytes. */
#define SHOWN_MAX (4 * 40 + 4)
static const char *shown(const uint8_t *s, size_t n, char out[SHOWN_MAX])
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < 40; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            out[o++] = (char)s[i];
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", s[i]);
    }
    if (n > 40) memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
    return out;
}

/* ================================================================ UTF-8 */

/* utf8_len - length of the valid UTF-8 sequence at s[0..n) (n >= 1, s[0] >=
 * 0x80), or 0: a stray or truncated sequence, an overlong form, a
 * surrogate, or anything above U+10FFFF (what Python's strict decoder and
 * checkpoint.c's reject). */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    size_t need;
    uint32_t cp, min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) need = 2, cp = s[0] & 0x1fu, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0) need = 3, cp = s[0] & 0x0fu, min = 0x800;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) need = 4, cp = s[0] & 0x07u, min = 0x10000;
    else return 0;
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return need;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k) {
        k = s[i] < 0x80 ? 1 : utf8_len(s + i, n - i);
        if (!k) return false;
    }
    return true;
}

static int put_utf8(pel_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) u[0] = (uint8_t)cp, n = 1;
    else if (cp < 0x800) u[0] = (uint8_t)(0xc0 | cp >> 6), n = 2;
    else if (cp < 0x10000) u[0] = (uint8_t)(0xe0 | cp >> 12), n = 3;
    else u[0] = (uint8_t)(0xf0 | cp >> 18), n = 4;
    for (size_t i = 1; i < n; i++)
        u[i] = (uint8_t)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
    return pel_buf_append(b, u, n);
}

/* ========================================================= JSON reading */

typedef struct jtext {
    const uint8_t *s;
    size_t n, i;
} jtext;

enum { J_STRING, J_NULL, J_ARRAY, J_OTHER };   /* J_ARRAY: of strings only */

typedef struct jmember {
    pel_buf name;      /* decoded */
    int kind;
    size_t at;         /* offset of the value */
} jmember;

typedef struct jdoc {
    jmember m[PEL_PROOF_MEMBERS_MAX];
    size_t n;
} jdoc;

static int peek(const jtext *t) { return t->i < t->n ? t->s[t->i] : -1; }

static void skip_ws(jtext *t)
{
    while (t->i < t->n && (t->s[t->i] == ' ' || t->s[t->i] == '\t' ||
                           t->s[t->i] == '\n' || t->s[t->i] == '\r'))
        t->i++;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* u_escape - the 4 hex digits after "\u" at s[i] (i at the backslash). */
static long u_escape(const jtext *t, size_t i)
{
    long v = 0;
    if (t->n - i < 6 || t->s[i] != '\\' || t->s[i + 1] != 'u') return -1;
    for (size_t k = 2; k < 6; k++) {
        int h = hexval(t->s[i + k]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

/* escape - decode the escape at t->i (a backslash) into out (may be NULL).
 * A high surrogate must be followed by an escaped low one; a lone one of
 * either kind is refused (it has no UTF-8 form). */
static int escape(jtext *t, pel_buf *out)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (t->n - t->i < 2) return JBAD;
    const char *e = memchr(from, t->s[t->i + 1], sizeof from - 1);
    if (e) {
        t->i += 2;
        return out ? pel_buf_append(out, &to[e - from], 1) : 0;
    }
    long cp = u_escape(t, t->i);
    if (cp < 0 || (cp >= 0xdc00 && cp <= 0xdfff)) return JBAD;
    t->i += 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        long lo = u_escape(t, t->i);
        if (lo < 0xdc00 || lo > 0xdfff) return JBAD;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        t->i += 6;
    }
    return out ? put_utf8(out, (uint32_t)cp) : 0;
}

/* read_string - the string at t->i (a quote); appends its decoded bytes to
 * out (NULL: only checks). JBAD on a syntax error, PEL_ENOMEM. */
static int read_string(jtext *t, pel_buf *out)
{
    t->i++;
    for (;;) {
        size_t start = t->i;
        while (t->i < t->n) {
            uint8_t c = t->s[t->i];
            if (c >= 0x80) {
                size_t k = utf8_len(t->s + t->i, t->n - t->i);
                if (!k) return JBAD;
                t->i += k;
            } else if (c >= 0x20 && c != '"' && c != '\\') {
                t->i++;
            } else {
                break;
            }
        }
        if (out && pel_buf_append(out, t->s + start, t->i - start)) return PEL_ENOMEM;
        int c = peek(t), rc;
        if (c == '"') { t->i++; return 0; }
        if (c != '\\') return JBAD;             /* end of text, control char */
        if ((rc = escape(t, out)) != 0) return rc;
    }
}

static void digits(jtext *t)
{
    while (t->i < t->n && t->s[t->i] >= '0' && t->s[t->i] <= '9') t->i++;
}

static int read_number(jtext *t)
{
    if (peek(t) == '-') t->i++;
    if (peek(t) == '0') t->i++;
    else if (peek(t) >= '1' && peek(t) <= '9') digits(t);
    else return JBAD;
    if (peek(t) == '.') {
        t->i++;
        if (peek(t) < '0' || peek(t) > '9') return JBAD;
        digits(t);
    }
    if (peek(t) == 'e' || peek(t) == 'E') {
        t->i++;
        if (peek(t) == '+' || peek(t) == '-') t->i++;
        if (peek(t) < '0' || peek(t) > '9') return JBAD;
        digits(t);
    }
    return 0;
}

static int read_literal(jtext *t, const char *w)
{
    size_t n = strlen(w);
    if (t->n - t->i < n || memcmp(t->s + t->i, w, n) != 0) return JBAD;
    t->i += n;
    return 0;
}

static int read_object(jtext *t, int depth, jdoc *d);
static int read_value(jtext *t, int depth, int *kind);

/* read_array - the array at t->i; *kind is J_ARRAY if every element is a
 * string, else J_OTHER. Containers nest at most JSON_DEPTH_MAX deep (the
 * top-level object is depth 1), so hostile nesting costs no stack. */
static int read_array(jtext *t, int depth, int *kind)
{
    int all = 1, k, rc;
    if (depth > JSON_DEPTH_MAX) return JBAD;
    t->i++;
    skip_ws(t);
    if (peek(t) == ']') { t->i++; *kind = J_ARRAY; return 0; }
    for (;;) {
        if ((rc = read_value(t, depth, &k)) != 0) return rc;
        all &= k == J_STRING;
        skip_ws(t);
        int c = peek(t);
        t->i++;
        if (c == ']') break;
        if (c != ',') return JBAD;
        skip_ws(t);
    }
    *kind = all ? J_ARRAY : J_OTHER;
    return 0;
}

/* read_value - any JSON value at t->i (no leading white space). */
static int read_value(jtext *t, int depth, int *kind)
{
    int c = peek(t);
    *kind = J_OTHER;
    if (c == '"') { *kind = J_STRING; return read_string(t, NULL); }
    if (c == '[') return read_array(t, depth + 1, kind);
    if (c == '{') return read_object(t, depth + 1, NULL);
    if (c == 'n') { *kind = J_NULL; return read_literal(t, "null"); }
    if (c == 't') return read_literal(t, "true");
    if (c == 'f') return read_literal(t, "false");
    if (c == '-' || (c >= '0' && c <= '9')) return read_number(t);
    return JBAD;
}

/* read_object - the object at t->i. With d (the top level), each member's
 * name, value kind and value offset are recorded; JMANY past the limit. */
static int read_object(jtext *t, int depth, jdoc *d)
{
    int rc, kind;
    if (depth > JSON_DEPTH_MAX) return JBAD;
    t->i++;
    skip_ws(t);
    if (peek(t) == '}') { t->i++; return 0; }
    for (;;) {
        if (peek(t) != '"') return JBAD;
        if (d && d->n == PEL_PROOF_MEMBERS_MAX) return JMANY;
        if ((rc = read_string(t, d ? &d->m[d->n].name : NULL)) != 0) return rc;
        skip_ws(t);
        if (peek(t) != ':') return JBAD;
        t->i++;
        skip_ws(t);
        size_t at = t->i;
        if ((rc = read_value(t, depth, &kind)) != 0) return rc;
        if (d) d->m[d->n].kind = kind, d->m[d->n].at = at, d->n++;
        skip_ws(t);
        int c = peek(t);
        t->i++;
        if (c == '}') return 0;
        if (c != ',') return JBAD;
        skip_ws(t);
    }
}

/* read_doc - pass 1: the text is one JSON object (white space around). */
static int read_doc(const uint8_t *s, size_t n, jdoc *d, char *err, size_t errlen)
{
    jtext t = { s, n, 0 };
    if (n > PEL_PROOF_TEXT_MAX)
        return fail(err, errlen, PEL_EPROOF_FORMAT,
                    "proof file is %zu bytes, over the limit of %u", n, PEL_PROOF_TEXT_MAX);
    skip_ws(&t);
    if (peek(&t) != '{')
        return fail(err, errlen, PEL_EPROOF_FORMAT, "not a JSON object");
    int rc = read_object(&t, 1, d);
    if (rc == 0) {
        skip_ws(&t);
        if (t.i != n) rc = JBAD;
    }
    if (rc == PEL_ENOMEM) return fail(err, errlen, rc, "out of memory");
    if (rc == JMANY)
        return fail(err, errlen, PEL_EPROOF_FORMAT, "more than %d members",
                    PEL_PROOF_MEMBERS_MAX);
    if (rc)
        return fail(err, errlen, PEL_EPROOF_FORMAT, "not valid JSON (at byte %zu)",
                    t.i < n ? t.i : n);
    return 0;
}

/* ============================================================== members */

enum {
    M_PEL_PROOF, M_TYPE, M_CHECKPOINT, M_HEIGHT, M_INDEX, M_LEAF_INDEX, M_TX,
    M_RECEIPT, M_INCLUSION, M_KEY, M_VALUE, M_STATE_PROOF, M_OLD_CHECKPOINT,
    M_CONSISTENCY, M_COUNT, M_END = M_COUNT
};

static const char *const member_name[M_COUNT] = {
    "pel_proof", "type", "checkpoint", "height", "index", "leaf_index", "tx",
    "receipt", "inclusion", "key", "value", "state_proof", "old_checkpoint",
    "consistency"
};

/* Each type's members in canonical order (the writer's and the checks'). */
static const uint8_t members_of[4][10] = {
    [PEL_PROOF_TX] = { M_PEL_PROOF, M_TYPE, M_CHECKPOINT, M_HEIGHT, M_INDEX,
                       M_LEAF_INDEX, M_TX, M_RECEIPT, M_INCLUSION, M_END },
    [PEL_PROOF_STATE] = { M_PEL_PROOF, M_TYPE, M_CHECKPOINT, M_KEY, M_VALUE,
                          M_STATE_PROOF, M_END },
    [PEL_PROOF_CONSISTENCY] = { M_PEL_PROOF, M_TYPE, M_CHECKPOINT,
                                M_OLD_CHECKPOINT, M_CONSISTENCY, M_END },
};

const char *pel_proof_type_name(int type)
{
    switch (type) {
    case PEL_PROOF_TX: return "tx";
    case PEL_PROOF_STATE: return "state";
    case PEL_PROOF_CONSISTENCY: return "consistency";
    default: return NULL;
    }
}

static bool buf_is(const pel_buf *b, const char *s)
{
    size_t n = strlen(s);
    return b->len == n && (n == 0 || memcmp(b->data, s, n) == 0);
}

static int known_member(const pel_buf *name)
{
    for (int k = 0; k < M_COUNT; k++)
        if (buf_is(name, member_name[k])) return k;
    return -1;
}

static bool type_has(int type, int k)
{
    for (const uint8_t *m = members_of[type]; *m != M_END; m++)
        if (*m == k) return true;
    return false;
}

/* The reading context of pass 2. */
typedef struct preader {
    const uint8_t *s;
    size_t n;
    const jdoc *d;
    int at[M_COUNT];       /* index into d->m, or -1 */
    pel_buf tmp;           /* a decoded string */
    char *err;
    size_t errlen;
} preader;

/* member_string - decode member k, which must be a string, into r->tmp. */
static int member_string(preader *r, int k)
{
    const jmember *m = &r->d->m[r->at[k]];
    if (m->kind != J_STRING)
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                    "member \"%s\" must be a JSON string", member_name[k]);
    jtext t = { r->s, r->n, m->at };
    pel_buf_reset(&r->tmp);
    if (read_string(&t, &r->tmp)) return fail(r->err, r->errlen, PEL_ENOMEM, "out of memory");
    return 0;
}

/* check_members - duplicates, version, type, then the member set. */
static int check_members(preader *r, pel_proof_type *type)
{
    char a[SHOWN_MAX];
    const jdoc *d = r->d;
    int rc;
    for (size_t i = 0; i < d->n; i++)
        for (size_t j = 0; j < i; j++)
            if (d->m[i].name.len == d->m[j].name.len &&
                (d->m[i].name.len == 0 ||
                 memcmp(d->m[i].name.data, d->m[j].name.data, d->m[i].name.len) == 0))
                return fail(r->err, r->errlen, PEL_EPROOF_FORMAT, "duplicate member \"%s\"",
                            shown(d->m[i].name.data, d->m[i].name.len, a));
    for (int k = 0; k < M_COUNT; k++) r->at[k] = -1;
    for (size_t i = 0; i < d->n; i++) {
        int k = known_member(&d->m[i].name);
        if (k >= 0) r->at[k] = (int)i;
    }
    if (r->at[M_PEL_PROOF] < 0)
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                    "missing member \"pel_proof\" (not a PEL proof file)");
    if ((rc = member_string(r, M_PEL_PROOF)) != 0) return rc;
    if (!buf_is(&r->tmp, "1"))
        return fail(r->err, r->errlen, PEL_EPROOF_VERSION,
                    "proof file version \"%s\" is not supported (this verifier reads "
                    "version 1)", shown(r->tmp.data, r->tmp.len, a));
    if (r->at[M_TYPE] < 0)
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT, "missing member \"type\"");
    if ((rc = member_string(r, M_TYPE)) != 0) return rc;
    *type = 0;
    for (int t = PEL_PROOF_TX; t <= PEL_PROOF_CONSISTENCY; t++)
        if (buf_is(&r->tmp, pel_proof_type_name(t))) *type = (pel_proof_type)t;
    if (!*type)
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                    "unknown proof type \"%s\" (tx, state or consistency)",
                    shown(r->tmp.data, r->tmp.len, a));
    for (size_t i = 0; i < d->n; i++) {
        int k = known_member(&d->m[i].name);
        if (k < 0 || !type_has(*type, k))
            return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                        "unknown member \"%s\" in a %s proof",
                        shown(d->m[i].name.data, d->m[i].name.len, a),
                        pel_proof_type_name(*type));
    }
    for (const uint8_t *m = members_of[*type]; *m != M_END; m++)
        if (r->at[*m] < 0)
            return fail(r->err, r->errlen, PEL_EPROOF_FORMAT, "missing member \"%s\"",
                        member_name[*m]);
    return 0;
}

/* ---- member values ---- */

static bool hex_lower(const uint8_t *s, size_t n)
{
    if (n % 2) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* decimal - canonical decimal s[0..n) up to max. */
static bool decimal(const uint8_t *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || (n > 1 && s[0] == '0')) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        unsigned dg = (unsigned)(s[i] - '0');
        if (x > (max - dg) / 10) return false;
        x = x * 10 + dg;
    }
    *v = x;
    return true;
}

static int get_u64(preader *r, int k, uint64_t max, uint64_t *v)
{
    char a[SHOWN_MAX];
    int rc = member_string(r, k);
    if (rc) return rc;
    if (!decimal(r->tmp.data, r->tmp.len, max, v))
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                    "member \"%s\": \"%s\" is not canonical decimal from 0 to %" PRIu64
                    " (no sign, no leading zero)", member_name[k],
                    shown(r->tmp.data, r->tmp.len, a), max);
    return 0;
}

/* get_bytes - member k as lowercase hex, decoded into out (reset first). */
static int get_bytes(preader *r, int k, pel_buf *out)
{
    int rc = member_string(r, k);
    size_t got;
    if (rc) return rc;
    if (!hex_lower(r->tmp.data, r->tmp.len))
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                    "member \"%s\" is not lowercase hex of even length", member_name[k]);
    pel_buf_reset(out);
    if (pel_buf_reserve(out, r->tmp.len / 2 + 1))
        return fail(r->err, r->errlen, PEL_ENOMEM, "out of memory");
    if (r->tmp.len && pel_hex_decode((const char *)r->tmp.data, r->tmp.len, out->data,
                                     r->tmp.len / 2, &got))
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT, "member \"%s\": bad hex",
                    member_name[k]);
    out->len = r->tmp.len / 2;
    return 0;
}

static bool hash_text(const pel_buf *b, uint8_t out[32])
{
    size_t got;
    return b->len == 64 && hex_lower(b->data, 64) &&
           pel_hex_decode((const char *)b->data, 64, out, 32, &got) == 0;
}

static int get_hash(preader *r, int k, uint8_t out[32])
{
    int rc = member_string(r, k);
    if (rc) return rc;
    if (!hash_text(&r->tmp, out))
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                    "member \"%s\" is not 64 lowercase hex digits", member_name[k]);
    return 0;
}

/* get_path - member k: an array of at most PEL_HISTORY_MAX_PATH hashes. */
static int get_path(preader *r, int k, pel_proof *p)
{
    const jmember *m = &r->d->m[r->at[k]];
    if (m->kind != J_ARRAY)
        return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                    "member \"%s\" must be an array of strings", member_name[k]);
    jtext t = { r->s, r->n, m->at + 1 };
    skip_ws(&t);
    for (size_t i = 0; peek(&t) == '"'; i++) {
        if (i == PEL_HISTORY_MAX_PATH)
            return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                        "member \"%s\" has more than %d hashes", member_name[k],
                        PEL_HISTORY_MAX_PATH);
        pel_buf_reset(&r->tmp);
        if (read_string(&t, &r->tmp)) return fail(r->err, r->errlen, PEL_ENOMEM, "out of memory");
        if (!hash_text(&r->tmp, p->path[i]))
            return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                        "member \"%s\": element %zu is not 64 lowercase hex digits",
                        member_name[k], i);
        p->path_len = i + 1;
        skip_ws(&t);
        if (peek(&t) == ',') t.i++;             /* pass 1 checked the syntax */
        skip_ws(&t);
    }
    return 0;
}

static int get_state_proof(preader *r, pel_proof *p)
{
    pel_buf enc;
    pel_buf_init(&enc);
    int rc = get_bytes(r, M_STATE_PROOF, &enc);
    if (!rc && (rc = pel_smt_proof_decode(enc.data, enc.len, &p->state_proof)) != 0)
        rc = fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                  "member \"state_proof\" is not a canonical state-tree proof encoding (%s)",
                  pel_strerror(rc));
    pel_buf_free(&enc);
    return rc;
}

/* get_member - decode member k into p. */
static int get_member(preader *r, int k, pel_proof *p)
{
    uint64_t v = 0;
    int rc;
    switch (k) {
    case M_CHECKPOINT:
    case M_OLD_CHECKPOINT: {
        pel_buf *dst = k == M_CHECKPOINT ? &p->checkpoint : &p->old_checkpoint;
        if ((rc = member_string(r, k)) != 0) return rc;
        pel_buf_reset(dst);
        return pel_buf_append(dst, r->tmp.data, r->tmp.len)
               ? fail(r->err, r->errlen, PEL_ENOMEM, "out of memory") : 0;
    }
    case M_HEIGHT: return get_u64(r, k, UINT64_MAX, &p->height);
    case M_INDEX:
        rc = get_u64(r, k, UINT32_MAX, &v);
        p->index = (uint32_t)v;
        return rc;
    case M_LEAF_INDEX: return get_u64(r, k, UINT64_MAX, &p->leaf_index);
    case M_TX: return get_bytes(r, k, &p->tx);
    case M_RECEIPT: return get_bytes(r, k, &p->receipt);
    case M_INCLUSION:
    case M_CONSISTENCY: return get_path(r, k, p);
    case M_KEY: return get_hash(r, k, p->key.b);
    case M_VALUE:
        if (r->d->m[r->at[k]].kind == J_NULL) return 0;
        if (r->d->m[r->at[k]].kind != J_STRING)
            return fail(r->err, r->errlen, PEL_EPROOF_FORMAT,
                        "member \"value\" must be a hex string or null");
        p->has_value = 1;
        return get_bytes(r, k, &p->value);
    case M_STATE_PROOF: return get_state_proof(r, p);
    default: return 0;                     /* pel_proof, type: done */
    }
}

/* ================================================================ API */

void pel_proof_init(pel_proof *p)
{
    memset(p, 0, sizeof *p);
    pel_buf_init(&p->checkpoint);
    pel_buf_init(&p->tx);
    pel_buf_init(&p->receipt);
    pel_buf_init(&p->value);
    pel_buf_init(&p->old_checkpoint);
}

void pel_proof_free(pel_proof *p)
{
    pel_buf_free(&p->checkpoint);
    pel_buf_free(&p->tx);
    pel_buf_free(&p->receipt);
    pel_buf_free(&p->value);
    pel_buf_free(&p->old_checkpoint);
    pel_proof_init(p);
}

int pel_proof_parse(const char *json, size_t len, pel_proof *out, char *err, size_t errlen)
{
    jdoc *d = NULL;
    preader r = { (const uint8_t *)(json ? json : ""), json ? len : 0, NULL, { 0 },
                  { NULL, 0, 0 }, err, errlen };
    pel_proof_type type = 0;
    int rc;
    pel_proof_free(out);
    if (err && errlen) err[0] = '\0';
    /* the member table holds 16 buffers: on the heap, for small stacks */
    if (!(d = calloc(1, sizeof *d))) return fail(err, errlen, PEL_ENOMEM, "out of memory");
    r.d = d;
    rc = read_doc(r.s, r.n, d, err, errlen);
    if (!rc) rc = check_members(&r, &type);
    if (!rc) out->type = type;
    for (const uint8_t *m = members_of[type]; !rc && type && *m != M_END; m++)
        rc = get_member(&r, *m, out);
    for (size_t i = 0; i < PEL_PROOF_MEMBERS_MAX; i++) pel_buf_free(&d->m[i].name);
    free(d);
    pel_buf_free(&r.tmp);
    if (rc) pel_proof_free(out);
    return rc;
}

/* ============================================================= writing */

/* A writer that remembers its first failure, so the layout code reads as a
 * list of members. */
typedef struct jw {
    pel_buf *b;
    int rc;
    int members;
} jw;

static void w_raw(jw *w, const void *s, size_t n)
{
    if (!w->rc) w->rc = pel_buf_append(w->b, s, n);
}

static void w_cstr(jw *w, const char *s) { w_raw(w, s, strlen(s)); }

static void w_fmt(jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_fmt(jw *w, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) { if (!w->rc) w->rc = PEL_EINVAL; return; }
    w_raw(w, tmp, (size_t)n);
}

/* w_hex - lowercase hex of p[0..n), straight into the buffer. */
static void w_hex(jw *w, const uint8_t *p, size_t n)
{
    if (w->rc) return;
    if (n > (SIZE_MAX - 1) / 2 || (w->rc = pel_buf_reserve(w->b, 2 * n + 1)) != 0) {
        w->rc = PEL_ENOMEM;
        return;
    }
    pel_hex_encode(p, n, (char *)w->b->data + w->b->len);
    w->b->len += 2 * n;
}

/* w_string - s[0..n) as a JSON string (s must be valid UTF-8). */
static void w_string(jw *w, const uint8_t *s, size_t n)
{
    static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
    size_t start = 0;
    w_cstr(w, "\"");
    if (n == 0) { w_cstr(w, "\""); return; }
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') continue;
        w_raw(w, s + start, i - start);
        const char *e = memchr(from, s[i], sizeof from - 1);
        if (e) { char esc[2] = { '\\', to[e - from] }; w_raw(w, esc, 2); }
        else w_fmt(w, "\\u%04x", s[i]);
        start = i + 1;
    }
    w_raw(w, s + start, n - start);
    w_cstr(w, "\"");
}

static void w_member(jw *w, int k)
{
    w_cstr(w, w->members++ ? ",\n  \"" : "{\n  \"");
    w_cstr(w, member_name[k]);
    w_cstr(w, "\": ");
}

static void w_hexstr(jw *w, const uint8_t *p, size_t n)
{
    w_cstr(w, "\"");
    w_hex(w, p, n);
    w_cstr(w, "\"");
}

static void w_path(jw *w, const pel_proof *p)
{
    if (p->path_len == 0) { w_cstr(w, "[]"); return; }
    w_cstr(w, "[");
    for (size_t i = 0; i < p->path_len; i++) {
        w_cstr(w, i ? ",\n    " : "\n    ");
        w_hexstr(w, p->path[i], PEL_HISTORY_HASH_LEN);
    }
    w_cstr(w, "\n  ]");
}

static void w_note(jw *w, const pel_buf *note)
{
    if (!utf8_valid(note->data, note->len)) { if (!w->rc) w->rc = PEL_EINVAL; return; }
    w_string(w, note->data, note->len);
}

/* w_value - member k of p. */
static void w_value(jw *w, const pel_proof *p, int k, const pel_buf *sp)
{
    w_member(w, k);
    switch (k) {
    case M_PEL_PROOF: w_cstr(w, "\"1\""); break;
    case M_TYPE: w_fmt(w, "\"%s\"", pel_proof_type_name(p->type)); break;
    case M_CHECKPOINT: w_note(w, &p->checkpoint); break;
    case M_OLD_CHECKPOINT: w_note(w, &p->old_checkpoint); break;
    case M_HEIGHT: w_fmt(w, "\"%" PRIu64 "\"", p->height); break;
    case M_INDEX: w_fmt(w, "\"%" PRIu32 "\"", p->index); break;
    case M_LEAF_INDEX: w_fmt(w, "\"%" PRIu64 "\"", p->leaf_index); break;
    case M_TX: w_hexstr(w, p->tx.data, p->tx.len); break;
    case M_RECEIPT: w_hexstr(w, p->receipt.data, p->receipt.len); break;
    case M_INCLUSION:
    case M_CONSISTENCY: w_path(w, p); break;
    case M_KEY: w_hexstr(w, p->key.b, PEL_KEY_LEN); break;
    case M_VALUE:
        if (p->has_value) w_hexstr(w, p->value.data, p->value.len);
        else w_cstr(w, "null");
        break;
    case M_STATE_PROOF: w_hexstr(w, sp->data, sp->len); break;
    default: break;
    }
}

int pel_proof_format(const pel_proof *p, pel_buf *out)
{
    pel_buf sp;
    jw w = { out, 0, 0 };
    size_t start = out->len;
    if (!pel_proof_type_name(p->type) || p->path_len > PEL_HISTORY_MAX_PATH)
        return PEL_EINVAL;
    pel_buf_init(&sp);
    if (p->type == PEL_PROOF_STATE) w.rc = pel_smt_proof_encode(&p->state_proof, &sp);
    for (const uint8_t *m = members_of[p->type]; *m != M_END; m++)
        w_value(&w, p, *m, &sp);
    w_cstr(&w, "\n}\n");
    pel_buf_free(&sp);
    if (w.rc) out->len = start;
    return w.rc;
}

/* ========================================================== verifying */

/* ckpt_fault - what pel_checkpoint_verify's code means, for a message. */
static const char *ckpt_fault(int rc)
{
    switch (rc) {
    case PEL_ENOTE: return "not a well-formed signed note";
    case PEL_ENOTE_UNVERIFIED: return "not signed by the key";
    case PEL_ENOTE_BADSIG: return "signature does not verify with the key";
    case PEL_ENOTE_TOOMANY: return "more signature lines than the limit of 100";
    case PEL_ECKPT: return "signed text is not a checkpoint (lines)";
    case PEL_ECKPT_ORIGIN: return "origin is invalid or not the key's name";
    case PEL_ECKPT_NUM: return "a number in the checkpoint is not canonical decimal";
    case PEL_ECKPT_HASH: return "a hash in the checkpoint is badly encoded";
    case PEL_ECKPT_EXT: return "an extension line (height, state-root, timestamp-ms) "
                               "is missing or wrong";
    default: return pel_strerror(rc);
    }
}

static int open_checkpoint(const pel_buf *note, const pel_note_verifier *key,
                           const char *which, pel_checkpoint *c, char *err, size_t errlen)
{
    int rc = pel_checkpoint_verify(note->data ? (const char *)note->data : "", note->len,
                                   key, c);
    return rc ? fail(err, errlen, rc, "%s: %s", which, ckpt_fault(rc)) : 0;
}

static int verify_tx(const pel_proof *p, const pel_note_verifier *key, pel_proof_result *r,
                     char *err, size_t errlen)
{
    int rc = open_checkpoint(&p->checkpoint, key, "checkpoint", &r->ckpt, err, errlen);
    if (rc) return rc;
    if (p->height > r->ckpt.height)
        return fail(err, errlen, PEL_EPROOF,
                    "height %" PRIu64 " is above the checkpoint's height %" PRIu64,
                    p->height, r->ckpt.height);
    if (p->leaf_index >= r->ckpt.size)
        return fail(err, errlen, PEL_EPROOF,
                    "leaf_index %" PRIu64 " is not below the checkpoint's tree size %" PRIu64,
                    p->leaf_index, r->ckpt.size);
    if ((rc = pel_hash_tagged("PEL/txid", p->tx.data, p->tx.len, r->txid)) != 0 ||
        (rc = pel_hash_tagged("PEL/receipt", p->receipt.data, p->receipt.len,
                              r->receipt_digest)) != 0)
        return fail(err, errlen, rc, "hashing failed");
    pel_history_leaf(p->height, p->index, r->txid, r->receipt_digest, r->leaf_hash);
    if (pel_history_verify_inclusion(r->leaf_hash, p->leaf_index, r->ckpt.size,
                                     (const uint8_t (*)[32])p->path, p->path_len,
                                     r->ckpt.root))
        return fail(err, errlen, PEL_EPROOF,
                    "inclusion proof does not lead to the checkpoint's root (leaf %" PRIu64
                    " of %" PRIu64 ", %zu hashes)", p->leaf_index, r->ckpt.size, p->path_len);
    return 0;
}

/* prefix_eq - a and b agree in nibbles 0 .. n-1. */
static bool prefix_eq(const uint8_t a[32], const uint8_t b[32], unsigned n)
{
    if (memcmp(a, b, n / 2) != 0) return false;
    return n % 2 == 0 || (a[n / 2] >> 4) == (b[n / 2] >> 4);
}

static int verify_state(const pel_proof *p, const pel_note_verifier *key, pel_proof_result *r,
                        char *err, size_t errlen)
{
    const pel_smt_proof *sp = &p->state_proof;
    uint8_t path[32];
    int rc = open_checkpoint(&p->checkpoint, key, "checkpoint", &r->ckpt, err, errlen);
    if (rc) return rc;
    if (p->has_value && sp->kind != PEL_SMT_PRESENT)
        return fail(err, errlen, PEL_EPROOF, "the state proof shows the key absent, "
                    "but the file gives it a value");
    if (!p->has_value && sp->kind == PEL_SMT_PRESENT)
        return fail(err, errlen, PEL_EPROOF, "the state proof shows the key present, "
                    "but the file says it has no value");
    if ((rc = pel_smt_path(&p->key, path)) != 0) return fail(err, errlen, rc, "hashing failed");
    if (sp->kind == PEL_SMT_ABSENT_LEAF && sp->depth <= PEL_SMT_MAX_DEPTH &&
        (memcmp(sp->leaf_path, path, 32) == 0 || !prefix_eq(sp->leaf_path, path, sp->depth)))
        return fail(err, errlen, PEL_EPROOF, "the state proof's other leaf is not on the "
                    "key's path (or is the key's own)");
    rc = pel_smt_verify(r->ckpt.state_root, &p->key,
                        p->has_value ? (p->value.data ? (const void *)p->value.data : "") : NULL,
                        p->value.len, sp);
    if (rc == PEL_EPROOF)
        return fail(err, errlen, rc, "state proof does not lead to the checkpoint's state root");
    return rc ? fail(err, errlen, rc, "state proof: %s", pel_strerror(rc)) : 0;
}

static int verify_consistency(const pel_proof *p, const pel_note_verifier *key,
                              pel_proof_result *r, char *err, size_t errlen)
{
    pel_checkpoint *n = &r->ckpt, *o = &r->old;
    uint8_t empty[32];
    int rc = open_checkpoint(&p->checkpoint, key, "checkpoint", n, err, errlen);
    if (!rc) rc = open_checkpoint(&p->old_checkpoint, key, "old checkpoint", o, err, errlen);
    if (rc) return rc;
    if (strcmp(o->origin, n->origin) != 0)
        return fail(err, errlen, PEL_EPROOF, "the checkpoints have different origins");
    if (o->height > n->height)
        return fail(err, errlen, PEL_EPROOF, "old checkpoint's height %" PRIu64
                    " is above the new one's %" PRIu64, o->height, n->height);
    if (o->size > n->size)
        return fail(err, errlen, PEL_EPROOF, "old checkpoint's tree size %" PRIu64
                    " is above the new one's %" PRIu64, o->size, n->size);
    if (o->height == n->height &&
        (o->size != n->size || memcmp(o->root, n->root, 32) != 0 ||
         memcmp(o->state_root, n->state_root, 32) != 0 || o->timestamp_ms != n->timestamp_ms))
        return fail(err, errlen, PEL_EPROOF, "two different checkpoints for height %" PRIu64
                    ", both signed by the key: the signer equivocated", n->height);
    if (o->size > 0) {
        if (pel_history_verify_consistency(o->size, n->size, o->root, n->root,
                                           (const uint8_t (*)[32])p->path, p->path_len))
            return fail(err, errlen, PEL_EPROOF, "consistency proof does not lead from the "
                        "old checkpoint's root to the new one's (sizes %" PRIu64 " and %"
                        PRIu64 ", %zu hashes)", o->size, n->size, p->path_len);
        return 0;
    }
    pel_history_empty_root(empty);
    if (p->path_len)
        return fail(err, errlen, PEL_EPROOF, "a consistency proof from tree size 0 must be "
                    "empty (it has %zu hashes)", p->path_len);
    if (memcmp(o->root, empty, 32) != 0)
        return fail(err, errlen, PEL_EPROOF, "old checkpoint has tree size 0 but its root "
                    "is not the empty tree's");
    if (n->size == 0 && memcmp(n->root, empty, 32) != 0)
        return fail(err, errlen, PEL_EPROOF, "checkpoint has tree size 0 but its root "
                    "is not the empty tree's");
    return 0;
}

int pel_proof_verify(const pel_proof *p, const pel_note_verifier *key,
                     pel_proof_result *res, char *err, size_t errlen)
{
    pel_proof_result r;
    int rc;
    memset(&r, 0, sizeof r);
    if (err && errlen) err[0] = '\0';
    if (p->path_len > PEL_HISTORY_MAX_PATH) {
        rc = fail(err, errlen, PEL_EINVAL, "path_len over %d", PEL_HISTORY_MAX_PATH);
    } else if (p->type == PEL_PROOF_TX) {
        rc = verify_tx(p, key, &r, err, errlen);
    } else if (p->type == PEL_PROOF_STATE) {
        rc = verify_state(p, key, &r, err, errlen);
    } else if (p->type == PEL_PROOF_CONSISTENCY) {
        rc = verify_consistency(p, key, &r, err, errlen);
    } else {
        rc = fail(err, errlen, PEL_EINVAL, "unknown proof type %d", (int)p->type);
    }
    if (!rc) {
        r.type = p->type;
        memcpy(r.key_name, key->name, sizeof r.key_name);
        r.key_name[sizeof r.key_name - 1] = '\0';
        memcpy(r.key_id, key->id, sizeof r.key_id);
    } else {
        memset(&r, 0, sizeof r);
    }
    if (res) *res = r;
    return rc;
}

/* ========================================================== describing */

static void w_signer(jw *w, const pel_proof_result *r)
{
    w_cstr(w, "signed by ");
    w_cstr(w, r->key_name);
    w_cstr(w, "+");
    w_hex(w, r->key_id, sizeof r->key_id);
}

int pel_proof_describe(const pel_proof *p, const pel_proof_result *r, pel_buf *out)
{
    jw w = { out, 0, 0 };
    size_t start = out->len;
    const pel_checkpoint *c = &r->ckpt;
    switch (p->type) {
    case PEL_PROOF_TX:
        w_cstr(&w, "transaction ");
        w_hex(&w, r->txid, 32);
        w_fmt(&w, " is leaf %" PRIu64, p->leaf_index);
        w_fmt(&w, " of the ledger of %" PRIu64 " transactions ", c->size);
        w_signer(&w, r);
        w_fmt(&w, " at height %" PRIu64, c->height);
        w_fmt(&w, " (block %" PRIu64 ", position %" PRIu32 "); receipt digest ",
              p->height, p->index);
        w_hex(&w, r->receipt_digest, 32);
        break;
    case PEL_PROOF_STATE:
        w_cstr(&w, "state key ");
        w_hex(&w, p->key.b, PEL_KEY_LEN);
        if (p->has_value && p->value.len == 0) {
            w_cstr(&w, " has the empty value (0 bytes)");
        } else if (p->has_value) {
            w_cstr(&w, " has value ");
            w_hex(&w, p->value.data, p->value.len);
            w_fmt(&w, " (%zu bytes)", p->value.len);
        } else {
            w_cstr(&w, " has no value");
        }
        w_fmt(&w, " after block %" PRIu64 ", state root ", c->height);
        w_hex(&w, c->state_root, 32);
        w_cstr(&w, ", ");
        w_signer(&w, r);
        break;
    case PEL_PROOF_CONSISTENCY:
        w_fmt(&w, "the ledger of %" PRIu64 " transactions", c->size);
        w_fmt(&w, " at height %" PRIu64 " extends", c->height);
        w_fmt(&w, " the ledger of %" PRIu64 " transactions", r->old.size);
        w_fmt(&w, " at height %" PRIu64 ", ", r->old.height);
        w_signer(&w, r);
        break;
    default:
        return PEL_EINVAL;
    }
    w_cstr(&w, "\n");
    if (w.rc) out->len = start;
    return w.rc;
}
