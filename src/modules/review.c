/*
 * review.c - peer-review attestations (review.h).
 */
#include "modules/review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"
#include "core/text.h"
#include "modules/spdx.h"

const char *const pel_review_rec_names[PEL_REVIEW_RECS] = { "accept", "minor", "major", "reject", "comment" };

typedef struct body {
    pel_obj_id target;
    uint32_t version;
    uint8_t rec, pseudonymous;
    uint8_t digest[32];
    const uint8_t *ci; size_t ci_len;
    const uint8_t *license; size_t license_len;
} body;

static int decode(const uint8_t *p, uint32_t len, body *b, const char **why)
{
    pel_dec d;
    const uint8_t *raw;
    memset(b, 0, sizeof *b);
    pel_dec_init(&d, p, len);
    if (pel_dec_raw(&d, PEL_OBJ_ID_LEN, &raw) == 0) memcpy(b->target.b, raw, PEL_OBJ_ID_LEN);
    pel_dec_u32(&d, &b->version);
    pel_dec_u8(&d, &b->rec);
    if (pel_dec_raw(&d, 32, &raw) == 0) memcpy(b->digest, raw, 32);
    pel_dec_bytes(&d, PEL_REVIEW_CI_MAX, &b->ci, &b->ci_len);
    pel_dec_bytes(&d, 64, &b->license, &b->license_len);
    pel_dec_u8(&d, &b->pseudonymous);
    if (d.err || pel_dec_finish(&d)) { *why = "malformed review body"; return d.err ? d.err : PEL_ETRAILING; }
    if (b->version == 0) { *why = "a review is of one version (>= 1)"; return PEL_EINVAL; }
    if (b->rec >= PEL_REVIEW_RECS) { *why = "recommendation: accept, minor, major, reject or comment"; return PEL_EINVAL; }
    if (b->pseudonymous > 1) { *why = "pseudonymous is 0 or 1"; return PEL_EINVAL; }
    if (!pel_text_printable(b->ci, b->ci_len)) { *why = "competing interests: UTF-8 without control characters"; return PEL_EINVAL; }
    if (!pel_spdx_find((const char *)b->license, b->license_len)) {
        *why = "the licence is not an SPDX identifier (spdx.org/licenses, exact case)";
        return PEL_ELICENSE;
    }
    *why = NULL;
    return 0;
}

static int review_check(uint16_t type, const uint8_t *p, uint32_t len, const char **why)
{
    body b;
    (void)type;
    return decode(p, len, &b, why);
}

static void key_reviewed(const body *b, const pel_addr *who, pel_key *k)
{
    uint8_t in[PEL_OBJ_ID_LEN + 4 + PEL_ADDR_LEN];
    memcpy(in, b->target.b, PEL_OBJ_ID_LEN);
    pel_le_store(in + PEL_OBJ_ID_LEN, b->version, 4);
    memcpy(in + PEL_OBJ_ID_LEN + 4, who->b, PEL_ADDR_LEN);
    if (pel_hash_tagged("PEL/reviewed", in, sizeof in, k->b)) memset(k, 0, sizeof *k);
}

static void key_review(const pel_obj_id *id, pel_key *k)
{
    if (pel_hash_tagged("PEL/review", id->b, PEL_OBJ_ID_LEN, k->b)) memset(k, 0, sizeof *k);
}

/* Is `who` an author of version v of the object? */
static int is_author(pel_view *v, const body *b, const pel_obj_head *h, const pel_addr *who, int *author)
{
    pel_buf raw;
    pel_obj_version ver;
    *author = pel_registry_controls(h, who);
    if (*author) return 0;
    pel_buf_init(&raw);
    int rc = pel_registry_version_view(v, &b->target, b->version, &raw, &ver);
    for (uint32_t i = 0; !rc && i < ver.fields.n_contrib; i++)
        if (memcmp(ver.fields.contrib[i].addr.b, who->b, PEL_ADDR_LEN) == 0) *author = 1;
    pel_buf_free(&raw);
    return rc;
}

/* record_encode - the review record of body b (review.h, State). */
static int record_encode(const void *arg, pel_buf *out)
{
    const body *b = arg;
    int rc = pel_enc_u8(out, b->rec);
    if (!rc) rc = pel_enc_raw(out, b->target.b, PEL_OBJ_ID_LEN);
    if (!rc) rc = pel_enc_u32(out, b->version);
    if (!rc) rc = pel_enc_u8(out, b->pseudonymous);
    if (!rc) rc = pel_enc_bytes(out, b->ci, b->ci_len);
    return rc;
}

static int put_record(pel_view *v, const pel_obj_id *rid, const body *b)
{
    pel_key k;
    key_review(rid, &k);
    return pel_module_put(v, &k, record_encode, b);
}

/* The review object: kind review, the digest, one "reviews" link. */
static int create_object(pel_view *v, const pel_module_ctx *c, const pel_tx *tx, const body *b,
                         pel_obj_id *rid)
{
    pel_obj_fields *f = calloc(1, sizeof *f);
    char title[64];
    if (!f) return PEL_ENOMEM;
    memcpy(title, "Review of pel:obj:", 18);
    pel_hex_encode(b->target.b, PEL_OBJ_ID_LEN, title + 18);   /* (a snprintf a byte cost 6 % of a science block) */
    snprintf(title + 18 + 2 * PEL_OBJ_ID_LEN, sizeof title - 18 - 2 * PEL_OBJ_ID_LEN, "@v%u", b->version);
    f->kind = PEL_OBJ_REVIEW;
    f->title = (const uint8_t *)title;
    f->title_len = (uint32_t)strlen(title);
    f->n_digests = 1;
    f->digests = b->digest;
    f->license = b->license;
    f->license_len = (uint32_t)b->license_len;
    f->n_links = 1;
    f->links[0] = (pel_obj_link){ PEL_REL_REVIEWS, b->target, b->version };
    int rc = pel_registry_create(v, c, tx, f, rid);
    free(f);
    return rc;
}

/* The body is decoded once, here: the ledger does not call check first. */
static int review_exec(const pel_module_ctx *c, const pel_tx *tx, pel_view *v)
{
    body b;
    const char *why;
    pel_obj_head h;
    pel_obj_id rid;
    pel_key k;
    pel_val val;
    int author = 0;
    int rc = decode(tx->body, tx->body_len, &b, &why);
    if (!rc) rc = pel_registry_head_view(v, &b.target, &h);
    if (!rc && b.version > h.versions) rc = PEL_EOBJ_VERSION;
    if (!rc) rc = is_author(v, &b, &h, &tx->from, &author);
    if (!rc && author) rc = PEL_EREVIEW_AUTHOR;
    if (!rc) {
        key_reviewed(&b, &tx->from, &k);
        rc = pel_view_get(v, &k, &val);
        rc = rc == PEL_ENOTFOUND ? 0 : rc ? rc : PEL_EREVIEW_DUP;
    }
    if (!rc) rc = create_object(v, c, tx, &b, &rid);
    if (!rc) rc = pel_view_put(v, &k, rid.b, PEL_OBJ_ID_LEN);
    if (!rc) rc = put_record(v, &rid, &b);
    return rc;
}

const pel_tx_module pel_review_module = {
    .name = "review",
    .first_type = PEL_TX_REVIEW,
    .last_type = PEL_TX_REVIEW,
    .check = review_check,
    .exec = review_exec,
};

int pel_review_get(const pel_state *st, const pel_obj_id *id, pel_review *out)
{
    pel_key k;
    pel_val val;
    pel_dec d;
    const uint8_t *p;
    size_t n;
    memset(out, 0, sizeof *out);
    key_review(id, &k);
    int rc = pel_state_get(st, &k, &val);
    if (rc) return rc;
    pel_dec_init(&d, val.p, val.len);
    pel_dec_u8(&d, &out->recommendation);
    if (pel_dec_raw(&d, PEL_OBJ_ID_LEN, &p) == 0) memcpy(out->target.b, p, PEL_OBJ_ID_LEN);
    pel_dec_u32(&d, &out->version);
    uint8_t ps = 0;
    pel_dec_u8(&d, &ps);
    out->pseudonymous = ps;
    if (pel_dec_bytes(&d, PEL_REVIEW_CI_MAX, &p, &n) == 0) { memcpy(out->competing, p, n); out->competing[n] = 0; }
    return pel_dec_finish(&d) ? PEL_ECORRUPT : 0;
}
