/*
 * registry.c - the research-object registry (registry.h): body codec and
 * validation, execution of register / version / maintainer, and the
 * queries over committed state.
 */
#include "modules/registry.h"

#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"
#include "core/text.h"
#include "modules/spdx.h"

const char *const pel_obj_kind_names[PEL_OBJ_KINDS] = {
    "hypothesis", "protocol", "dataset", "code", "analysis",
    "preprint", "article", "review", "software", "other"
};

const char *const pel_obj_relation_names[PEL_REL_COUNT] = {
    "cites", "uses-data", "derived-from", "replicates", "reviews", "supersedes"
};

/* The 14 roles of the CRediT taxonomy (credit.niso.org), in its order. */
const char *const pel_credit_roles[PEL_CREDIT_ROLES] = {
    "conceptualization", "data-curation", "formal-analysis", "funding-acquisition",
    "investigation", "methodology", "project-administration", "resources", "software",
    "supervision", "validation", "visualization", "writing-original-draft",
    "writing-review-editing"
};

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

int pel_obj_kind_parse(const char *s) { return find_name(pel_obj_kind_names, PEL_OBJ_KINDS, s); }
int pel_obj_relation_parse(const char *s) { return find_name(pel_obj_relation_names, PEL_REL_COUNT, s); }
int pel_credit_role_parse(const char *s) { return find_name(pel_credit_roles, PEL_CREDIT_ROLES, s); }

/* ==== ids ==== */

void pel_obj_id_of(const uint8_t txid[32], pel_obj_id *out)
{
    uint8_t h[32];
    if (pel_hash_tagged("PEL/obj-id", txid, 32, h)) memset(h, 0, sizeof h);
    memcpy(out->b, h, PEL_OBJ_ID_LEN);
}

void pel_obj_id_format(const pel_obj_id *id, char *out)
{
    memcpy(out, "pel:obj:", 8);
    pel_hex_encode(id->b, PEL_OBJ_ID_LEN, out + 8);
}

int pel_obj_id_parse(const char *s, pel_obj_id *id, uint32_t *version)
{
    size_t n;
    *version = 0;
    if (strncmp(s, "pel:obj:", 8) != 0 || strlen(s) < PEL_OBJ_ID_STR_LEN) return PEL_EINVAL;
    for (int i = 8; i < PEL_OBJ_ID_STR_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return PEL_EINVAL;
    if (pel_hex_decode(s + 8, 2 * PEL_OBJ_ID_LEN, id->b, PEL_OBJ_ID_LEN, &n)) return PEL_EINVAL;
    const char *v = s + PEL_OBJ_ID_STR_LEN;
    if (!*v) return 0;
    if (v[0] != '@' || v[1] != 'v' || v[2] < '1' || v[2] > '9') return PEL_EINVAL;
    uint64_t x = 0;
    for (v += 2; *v; v++) {
        if (*v < '0' || *v > '9') return PEL_EINVAL;
        x = x * 10 + (uint64_t)(*v - '0');
        if (x > UINT32_MAX) return PEL_EINVAL;
    }
    *version = (uint32_t)x;
    return 0;
}

/* ==== fields: validation ==== */

static int bad(const char **why, int code, const char *msg)
{
    if (why) *why = msg;
    return code;
}

static int uri_ok(const uint8_t *p, uint32_t n)
{
    static const char *const schemes[] = { "doi:10.", "https://", "http://", "ipfs://" };
    for (uint32_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e) return 0;
    for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; s++) {
        size_t l = strlen(schemes[s]);
        if (n > l && memcmp(p, schemes[s], l) == 0) return 1;
    }
    return 0;
}

/* Strictly ascending byte strings: a[0..al) < b[0..bl). */
static int less(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c < 0 || (c == 0 && al < bl);
}

static int decode_lists(pel_dec *d, pel_obj_fields *f, const char **why)
{
    const uint8_t *p;
    size_t n;
    pel_dec_count(d, PEL_OBJ_DIGESTS_MAX, &f->n_digests);
    pel_dec_raw(d, (size_t)f->n_digests * 32, &f->digests);
    pel_dec_count(d, PEL_OBJ_URIS_MAX, &f->n_uris);
    for (uint32_t i = 0; !d->err && i < f->n_uris; i++) {
        pel_dec_bytes(d, PEL_OBJ_URI_MAX, &f->uri[i], &n);
        f->uri_len[i] = (uint32_t)n;
    }
    pel_dec_bytes(d, 64, &f->license, &n);
    f->license_len = (uint32_t)n;
    pel_dec_count(d, PEL_OBJ_CONTRIB_MAX, &f->n_contrib);
    for (uint32_t i = 0; !d->err && i < f->n_contrib; i++) {
        pel_dec_raw(d, PEL_ADDR_LEN, &p);
        if (!d->err) memcpy(f->contrib[i].addr.b, p, PEL_ADDR_LEN);
        pel_dec_u16(d, &f->contrib[i].roles);
    }
    pel_dec_count(d, PEL_OBJ_LINKS_MAX, &f->n_links);
    for (uint32_t i = 0; !d->err && i < f->n_links; i++) {
        pel_dec_u8(d, &f->links[i].relation);
        pel_dec_raw(d, PEL_OBJ_ID_LEN, &p);
        if (!d->err) memcpy(f->links[i].target.b, p, PEL_OBJ_ID_LEN);
        pel_dec_u32(d, &f->links[i].version);
    }
    return d->err ? bad(why, d->err, "malformed research-object fields") : 0;
}

static int link_less(const pel_obj_link *a, const pel_obj_link *b)
{
    if (a->relation != b->relation) return a->relation < b->relation;
    int c = memcmp(a->target.b, b->target.b, PEL_OBJ_ID_LEN);
    return c < 0 || (c == 0 && a->version < b->version);
}

static int check_lists(const pel_obj_fields *f, const char **why)
{
    if (f->n_digests == 0) return bad(why, PEL_EINVAL, "an object needs at least one content digest");
    for (uint32_t i = 1; i < f->n_digests; i++)
        if (!less(f->digests + 32 * (i - 1), 32, f->digests + 32 * i, 32))
            return bad(why, PEL_EINVAL, "content digests must be distinct and in ascending order");
    for (uint32_t i = 0; i < f->n_uris; i++) {
        if (!uri_ok(f->uri[i], f->uri_len[i]))
            return bad(why, PEL_EINVAL, "a URI must be printable ASCII starting doi:10., https://, http:// or ipfs://");
        if (i && !less(f->uri[i - 1], f->uri_len[i - 1], f->uri[i], f->uri_len[i]))
            return bad(why, PEL_EINVAL, "URIs must be distinct and in ascending order");
    }
    if (!pel_spdx_find((const char *)f->license, f->license_len))
        return bad(why, PEL_ELICENSE, "the licence is not an SPDX identifier (spdx.org/licenses, exact case)");
    for (uint32_t i = 0; i < f->n_contrib; i++) {
        uint16_t r = f->contrib[i].roles;
        if (r == 0 || (r >> PEL_CREDIT_ROLES) != 0)
            return bad(why, PEL_ECREDIT, "each contributor needs one or more of the 14 CRediT roles");
        if (i && !less(f->contrib[i - 1].addr.b, PEL_ADDR_LEN, f->contrib[i].addr.b, PEL_ADDR_LEN))
            return bad(why, PEL_EINVAL, "contributors must be distinct and in ascending address order");
    }
    for (uint32_t i = 0; i < f->n_links; i++) {
        if (f->links[i].relation >= PEL_REL_COUNT)
            return bad(why, PEL_EINVAL, "unknown link relation");
        if (i && !link_less(&f->links[i - 1], &f->links[i]))
            return bad(why, PEL_EINVAL, "links must be distinct and in ascending order");
    }
    return 0;
}

int pel_obj_fields_decode(pel_dec *d, pel_obj_fields *f, const char **why)
{
    size_t n;
    memset(f, 0, sizeof *f);
    pel_dec_u8(d, &f->kind);
    pel_dec_bytes(d, PEL_OBJ_TITLE_MAX, &f->title, &n);
    f->title_len = (uint32_t)n;
    int rc = decode_lists(d, f, why);
    if (rc) return rc;
    if (f->kind >= PEL_OBJ_KINDS) return bad(why, PEL_EINVAL, "unknown object kind");
    if (f->title_len == 0 || !pel_text_printable(f->title, f->title_len))
        return bad(why, PEL_EINVAL, "the title must be 1-300 bytes of UTF-8 without control characters");
    return check_lists(f, why);
}

int pel_obj_fields_encode(const pel_obj_fields *f, pel_buf *out)
{
    size_t start = out->len;
    int rc = pel_enc_u8(out, f->kind);
    if (!rc) rc = pel_enc_bytes(out, f->title, f->title_len);
    if (!rc) rc = pel_enc_u32(out, f->n_digests);
    if (!rc) rc = pel_enc_raw(out, f->digests, (size_t)f->n_digests * 32);
    if (!rc) rc = pel_enc_u32(out, f->n_uris);
    for (uint32_t i = 0; !rc && i < f->n_uris; i++) rc = pel_enc_bytes(out, f->uri[i], f->uri_len[i]);
    if (!rc) rc = pel_enc_bytes(out, f->license, f->license_len);
    if (!rc) rc = pel_enc_u32(out, f->n_contrib);
    for (uint32_t i = 0; !rc && i < f->n_contrib; i++) {
        rc = pel_enc_raw(out, f->contrib[i].addr.b, PEL_ADDR_LEN);
        if (!rc) rc = pel_enc_u16(out, f->contrib[i].roles);
    }
    if (!rc) rc = pel_enc_u32(out, f->n_links);
    for (uint32_t i = 0; !rc && i < f->n_links; i++) {
        rc = pel_enc_u8(out, f->links[i].relation);
        if (!rc) rc = pel_enc_raw(out, f->links[i].target.b, PEL_OBJ_ID_LEN);
        if (!rc) rc = pel_enc_u32(out, f->links[i].version);
    }
    if (rc) out->len = start;
    return rc;
}

/* ---- sorting (the CLI's input into canonical order) ---- */

static int cmp_digest(const void *a, const void *b) { return memcmp(a, b, 32); }
static int cmp_contrib(const void *a, const void *b)
{
    return memcmp(((const pel_obj_contrib *)a)->addr.b, ((const pel_obj_contrib *)b)->addr.b, PEL_ADDR_LEN);
}
static int cmp_link(const void *a, const void *b)
{
    const pel_obj_link *x = a, *y = b;
    return link_less(x, y) ? -1 : link_less(y, x) ? 1 : 0;
}

void pel_obj_fields_sort(pel_obj_fields *f)
{
    if (f->n_digests > 1) qsort((void *)f->digests, f->n_digests, 32, cmp_digest);
    for (uint32_t i = 1; i < f->n_uris; i++)           /* insertion sort: at most 8 */
        for (uint32_t j = i; j > 0 && less(f->uri[j], f->uri_len[j], f->uri[j - 1], f->uri_len[j - 1]); j--) {
            const uint8_t *p = f->uri[j]; uint32_t l = f->uri_len[j];
            f->uri[j] = f->uri[j - 1]; f->uri_len[j] = f->uri_len[j - 1];
            f->uri[j - 1] = p; f->uri_len[j - 1] = l;
        }
    qsort(f->contrib, f->n_contrib, sizeof f->contrib[0], cmp_contrib);
    qsort(f->links, f->n_links, sizeof f->links[0], cmp_link);
}

/* ==== bodies ==== */

typedef struct body {
    pel_obj_id id;            /* version, maintainer */
    pel_obj_fields f;         /* register, version */
    const uint8_t *fields; size_t fields_len;   /* the encoded fields */
    uint8_t op;               /* maintainer */
    pel_addr who;
} body;

static int decode_body(uint16_t type, const uint8_t *p, uint32_t len, body *b, const char **why)
{
    pel_dec d;
    const uint8_t *raw;
    pel_dec_init(&d, p, len);
    if (type != PEL_TX_OBJ_REGISTER) {
        pel_dec_raw(&d, PEL_OBJ_ID_LEN, &raw);
        if (!d.err) memcpy(b->id.b, raw, PEL_OBJ_ID_LEN);
    }
    if (type == PEL_TX_OBJ_MAINTAINER) {
        pel_dec_u8(&d, &b->op);
        pel_dec_raw(&d, PEL_ADDR_LEN, &raw);
        if (!d.err) memcpy(b->who.b, raw, PEL_ADDR_LEN);
        if (d.err || pel_dec_finish(&d)) return bad(why, d.err, "malformed maintainer body");
        return b->op == 1 || b->op == 2 ? 0 : bad(why, PEL_EINVAL, "maintainer op must be 1 (add) or 2 (remove)");
    }
    b->fields = p + d.pos;
    int rc = d.err ? bad(why, d.err, "malformed research-object body") : pel_obj_fields_decode(&d, &b->f, why);
    if (!rc && pel_dec_finish(&d)) rc = bad(why, PEL_ETRAILING, "bytes after the research-object fields");
    b->fields_len = len - (size_t)(b->fields - p);
    return rc;
}

static int registry_check(uint16_t type, const uint8_t *p, uint32_t len, const char **why)
{
    body *b = malloc(sizeof *b);
    if (!b) return PEL_ENOMEM;
    int rc = decode_body(type, p, len, b, why);
    free(b);
    return rc;
}

/* ==== state ==== */

static void key_of(const char *tag, const void *a, size_t al, const void *c, size_t cl, pel_key *k)
{
    pel_hasher h;
    if (pel_hasher_init(&h, tag) == 0) {
        pel_hasher_update(&h, a, al);
        if (cl) pel_hasher_update(&h, c, cl);
        if (pel_hasher_final(&h, k->b) == 0) return;
    }
    memset(k, 0, sizeof *k);
}

static void key_head(const pel_obj_id *id, pel_key *k) { key_of("PEL/obj", id->b, PEL_OBJ_ID_LEN, NULL, 0, k); }
static void key_refs(const pel_obj_id *id, pel_key *k) { key_of("PEL/obj-refs", id->b, PEL_OBJ_ID_LEN, NULL, 0, k); }
static void key_digest(const uint8_t *dg, pel_key *k) { key_of("PEL/digest", dg, 32, NULL, 0, k); }
static void key_version(const pel_obj_id *id, uint32_t v, pel_key *k)
{
    uint8_t le[4];
    pel_le_store(le, v, 4);
    key_of("PEL/obj-ver", id->b, PEL_OBJ_ID_LEN, le, 4, k);
}

static int head_decode(const uint8_t *p, size_t len, pel_obj_head *h)
{
    pel_dec d;
    const uint8_t *raw;
    pel_dec_init(&d, p, len);
    pel_dec_u8(&d, &h->kind);
    pel_dec_raw(&d, PEL_ADDR_LEN, &raw);
    if (!d.err) memcpy(h->creator.b, raw, PEL_ADDR_LEN);
    pel_dec_u32(&d, &h->versions);
    pel_dec_count(&d, PEL_OBJ_MAINT_MAX, &h->n_maint);
    for (uint32_t i = 0; !d.err && i < h->n_maint; i++) {
        pel_dec_raw(&d, PEL_ADDR_LEN, &raw);
        if (!d.err) memcpy(h->maint[i].b, raw, PEL_ADDR_LEN);
    }
    return pel_dec_finish(&d) ? PEL_ECORRUPT : 0;
}

static int head_encode(const pel_obj_head *h, pel_buf *out)
{
    int rc = pel_enc_u8(out, h->kind);
    if (!rc) rc = pel_enc_raw(out, h->creator.b, PEL_ADDR_LEN);
    if (!rc) rc = pel_enc_u32(out, h->versions);
    if (!rc) rc = pel_enc_u32(out, h->n_maint);
    for (uint32_t i = 0; !rc && i < h->n_maint; i++) rc = pel_enc_raw(out, h->maint[i].b, PEL_ADDR_LEN);
    return rc;
}

/* ==== execution ==== */

static int head_dec(const uint8_t *p, size_t len, void *h) { return head_decode(p, len, h); }
static int head_enc(const void *h, pel_buf *out) { return head_encode(h, out); }

int pel_registry_head_view(pel_view *v, const pel_obj_id *id, pel_obj_head *h)
{
    pel_key k;
    key_head(id, &k);
    return pel_module_get(v, &k, PEL_EOBJ_UNKNOWN, head_dec, h);
}

static int put_head(pel_view *v, const pel_obj_id *id, const pel_obj_head *h)
{
    pel_key k;
    key_head(id, &k);
    return pel_module_put(v, &k, head_enc, h);
}

/* Links: targets exist (the version too, if named); count the reference. */
static int apply_links(pel_view *v, const pel_obj_fields *f, const pel_obj_id *self)
{
    for (uint32_t i = 0; i < f->n_links; i++) {
        const pel_obj_link *l = &f->links[i];
        pel_obj_head th;
        pel_key k;
        if (memcmp(l->target.b, self->b, PEL_OBJ_ID_LEN) == 0) return PEL_EINVAL;
        int rc = pel_registry_head_view(v, &l->target, &th);
        if (rc) return rc;
        if (l->version > th.versions) return PEL_EOBJ_VERSION;
        key_refs(&l->target, &k);
        rc = pel_view_delta_add(v, &k, 1, UINT64_MAX);
        if (rc) return rc;
    }
    return 0;
}

/* Digests: record the first registration of each; the mask says which. */
static int apply_digests(pel_view *v, const pel_tx *tx, const pel_obj_fields *f, const pel_obj_id *id,
                         uint32_t version, uint64_t height, uint16_t *mask)
{
    uint8_t rec[PEL_OBJ_ID_LEN + 4 + 8 + PEL_ADDR_LEN];
    memcpy(rec, id->b, PEL_OBJ_ID_LEN);
    pel_le_store(rec + 16, version, 4);
    pel_le_store(rec + 20, height, 8);
    memcpy(rec + 28, tx->from.b, PEL_ADDR_LEN);
    *mask = 0;
    for (uint32_t i = 0; i < f->n_digests; i++) {
        pel_key k;
        pel_val val;
        key_digest(f->digests + 32 * i, &k);
        int rc = pel_view_get(v, &k, &val);
        if (rc == PEL_ENOTFOUND) {
            rc = pel_view_put(v, &k, rec, sizeof rec);
            *mask |= (uint16_t)(1u << i);
        }
        if (rc) return rc;
    }
    return 0;
}

static int put_version(pel_view *v, const pel_tx *tx, const uint8_t *fields, size_t fields_len,
                       const pel_obj_id *id, uint32_t version, uint64_t height, uint16_t mask)
{
    pel_key k;
    pel_buf out;
    pel_buf_init(&out);
    int rc = pel_enc_raw(&out, tx->from.b, PEL_ADDR_LEN);
    if (!rc) rc = pel_enc_u64(&out, height);
    if (!rc) rc = pel_enc_raw(&out, tx->id, 32);
    if (!rc) rc = pel_enc_u16(&out, mask);
    if (!rc) rc = pel_enc_bytes(&out, fields, fields_len);
    key_version(id, version, &k);
    if (!rc) rc = pel_view_put(v, &k, out.data, out.len);
    pel_buf_free(&out);
    return rc;
}

static int emit(pel_view *v, const pel_obj_id *id, uint32_t version, uint16_t mask)
{
    uint8_t ev[1 + PEL_OBJ_ID_LEN + 4 + 2];
    ev[0] = PEL_EV_OBJECT;
    memcpy(ev + 1, id->b, PEL_OBJ_ID_LEN);
    pel_le_store(ev + 17, version, 4);
    pel_le_store(ev + 21, mask, 2);
    return pel_view_emit(v, ev, sizeof ev);
}

int pel_registry_controls(const pel_obj_head *h, const pel_addr *a)
{
    if (memcmp(h->creator.b, a->b, PEL_ADDR_LEN) == 0) return 1;
    for (uint32_t i = 0; i < h->n_maint; i++)
        if (memcmp(h->maint[i].b, a->b, PEL_ADDR_LEN) == 0) return 1;
    return 0;
}

/* A new version (1 for register) of the object with these fields. */
static int publish(pel_view *v, const pel_module_ctx *c, const pel_tx *tx, const pel_obj_fields *f,
                   const uint8_t *enc, size_t enc_len, const pel_obj_id *id, pel_obj_head *h)
{
    uint16_t mask;
    uint32_t version = h->versions + 1;
    if (version == 0) return PEL_ERANGE;
    int rc = apply_links(v, f, id);
    if (!rc) rc = apply_digests(v, tx, f, id, version, c->height, &mask);
    if (!rc) rc = put_version(v, tx, enc, enc_len, id, version, c->height, mask);
    h->versions = version;
    if (!rc) rc = put_head(v, id, h);
    return rc ? rc : emit(v, id, version, mask);
}

static int maintainer(pel_view *v, const body *b, pel_obj_head *h)
{
    uint32_t at = 0;
    while (at < h->n_maint && memcmp(h->maint[at].b, b->who.b, PEL_ADDR_LEN) < 0) at++;
    int present = at < h->n_maint && memcmp(h->maint[at].b, b->who.b, PEL_ADDR_LEN) == 0;
    if (b->op == 1) {
        if (present || h->n_maint == PEL_OBJ_MAINT_MAX ||
            memcmp(h->creator.b, b->who.b, PEL_ADDR_LEN) == 0) return PEL_EOBJ_MAINT;
        memmove(&h->maint[at + 1], &h->maint[at], (h->n_maint - at) * sizeof h->maint[0]);
        h->maint[at] = b->who;
        h->n_maint++;
    } else {
        if (!present) return PEL_EOBJ_MAINT;
        memmove(&h->maint[at], &h->maint[at + 1], (h->n_maint - at - 1) * sizeof h->maint[0]);
        h->n_maint--;
    }
    int rc = put_head(v, &b->id, h);
    return rc ? rc : emit(v, &b->id, 0, 0);
}

static int registry_exec(const pel_module_ctx *c, const pel_tx *tx, pel_view *v)
{
    const char *why;
    pel_obj_head h;
    body *b = malloc(sizeof *b);
    if (!b) return PEL_ENOMEM;
    int rc = decode_body(tx->type, tx->body, tx->body_len, b, &why);
    if (!rc && tx->type == PEL_TX_OBJ_REGISTER) {
        pel_obj_id id;
        pel_obj_id_of(tx->id, &id);
        memset(&h, 0, sizeof h);
        h.kind = b->f.kind;
        h.creator = tx->from;
        rc = publish(v, c, tx, &b->f, b->fields, b->fields_len, &id, &h);
    } else if (!rc) {
        rc = pel_registry_head_view(v, &b->id, &h);
        if (!rc && !pel_registry_controls(&h, &tx->from)) rc = PEL_EOBJ_PERM;
        if (!rc && tx->type == PEL_TX_OBJ_VERSION)
            rc = b->f.kind != h.kind ? PEL_EOBJ_KIND : publish(v, c, tx, &b->f, b->fields, b->fields_len, &b->id, &h);
        else if (!rc)
            rc = maintainer(v, b, &h);
    }
    free(b);
    return rc;
}

int pel_registry_create(pel_view *v, const pel_module_ctx *c, const pel_tx *tx,
                        const pel_obj_fields *f, pel_obj_id *id)
{
    pel_obj_head h;
    pel_buf enc;
    pel_dec d;
    const char *why;
    pel_obj_fields check;
    pel_buf_init(&enc);
    pel_obj_id_of(tx->id, id);
    memset(&h, 0, sizeof h);
    h.kind = f->kind;
    h.creator = tx->from;
    int rc = pel_obj_fields_encode(f, &enc);
    if (!rc) {                         /* the same rules as a registration */
        pel_dec_init(&d, enc.data, enc.len);
        rc = pel_obj_fields_decode(&d, &check, &why);
    }
    if (!rc) rc = publish(v, c, tx, f, enc.data, enc.len, id, &h);
    pel_buf_free(&enc);
    return rc;
}

const pel_tx_module pel_registry_module = {
    .name = "registry",
    .first_type = PEL_TX_OBJ_REGISTER,
    .last_type = PEL_TX_OBJ_MAINTAINER,
    .check = registry_check,
    .exec = registry_exec,
};


/* ==== queries ==== */

int pel_registry_head(const pel_state *st, const pel_obj_id *id, pel_obj_head *out)
{
    pel_key k;
    pel_val val;
    key_head(id, &k);
    memset(out, 0, sizeof *out);
    int rc = pel_state_get(st, &k, &val);
    if (rc == PEL_ENOTFOUND) return PEL_EOBJ_UNKNOWN;
    return rc ? rc : head_decode(val.p, val.len, out);
}

static int version_decode(const uint8_t *p, size_t len, pel_obj_version *out)
{
    pel_dec d, fd;
    const uint8_t *raw, *fields;
    size_t flen;
    const char *why;
    pel_dec_init(&d, p, len);
    pel_dec_raw(&d, PEL_ADDR_LEN, &raw);
    if (!d.err) memcpy(out->registrant.b, raw, PEL_ADDR_LEN);
    pel_dec_u64(&d, &out->height);
    pel_dec_raw(&d, 32, &raw);
    if (!d.err) memcpy(out->txid, raw, 32);
    pel_dec_u16(&d, &out->first_mask);
    pel_dec_bytes(&d, PEL_TX_BODY_MAX, &fields, &flen);
    if (pel_dec_finish(&d)) return PEL_ECORRUPT;
    pel_dec_init(&fd, fields, flen);
    if (pel_obj_fields_decode(&fd, &out->fields, &why) || pel_dec_finish(&fd)) return PEL_ECORRUPT;
    return 0;
}

/* A version record just read (rc, val): copied into raw and decoded. */
static int version_copy(int rc, const pel_val *val, pel_buf *raw, pel_obj_version *out)
{
    if (rc == PEL_ENOTFOUND) return PEL_EOBJ_VERSION;
    pel_buf_reset(raw);
    if (!rc) rc = pel_buf_append(raw, val->p, val->len);
    return rc ? rc : version_decode(raw->data, raw->len, out);
}

int pel_registry_version_get(const pel_state *st, const pel_obj_id *id, uint32_t v, pel_buf *raw,
                             pel_obj_version *out)
{
    pel_key k;
    pel_val val;
    key_version(id, v, &k);
    return version_copy(pel_state_get(st, &k, &val), &val, raw, out);
}

int pel_registry_version(const pel_state *st, const pel_obj_id *id, uint32_t v, pel_buf *raw,
                         pel_obj_version *out)
{
    pel_obj_head h;
    int rc = pel_registry_head(st, id, &h);
    if (rc) return rc;
    if (v == 0) v = h.versions;
    if (v > h.versions) return PEL_EOBJ_VERSION;
    rc = pel_registry_version_get(st, id, v, raw, out);
    return rc == PEL_EOBJ_VERSION ? PEL_ECORRUPT : rc;     /* the head counts it */
}

int pel_registry_version_view(pel_view *v, const pel_obj_id *id, uint32_t version, pel_buf *raw,
                              pel_obj_version *out)
{
    pel_key k;
    pel_val val;
    key_version(id, version, &k);
    return version_copy(pel_view_get(v, &k, &val), &val, raw, out);
}

int pel_registry_first(const pel_state *st, const uint8_t digest[32], pel_digest_first *out)
{
    pel_key k;
    pel_val val;
    key_digest(digest, &k);
    memset(out, 0, sizeof *out);
    int rc = pel_state_get(st, &k, &val);
    if (rc) return rc;
    if (val.len != PEL_OBJ_ID_LEN + 4 + 8 + PEL_ADDR_LEN) return PEL_ECORRUPT;
    memcpy(out->id.b, val.p, PEL_OBJ_ID_LEN);
    out->version = (uint32_t)pel_le_load(val.p + 16, 4);
    out->height = pel_le_load(val.p + 20, 8);
    memcpy(out->registrant.b, val.p + 28, PEL_ADDR_LEN);
    return 0;
}

int pel_registry_refs(const pel_state *st, const pel_obj_id *id, uint64_t *out)
{
    pel_key k;
    key_refs(id, &k);
    return pel_state_get_counter(st, &k, out);
}

/* ---- provenance ---- */

typedef struct walk_item { pel_obj_id id; uint32_t v, depth; } walk_item;

typedef struct walk {
    walk_item *q;
    size_t head, tail, cap;
    pel_obj_id *seen;
    size_t n_seen, cap_seen;
    const pel_obj_graph *g;
    uint32_t depth;                     /* the walk's limit */
    const walk_item *at;                /* the object being expanded */
    int (*fn)(void *, const pel_obj_edge *);
    void *arg;
} walk;

static int seen_add(walk *w, const pel_obj_id *id)
{
    for (size_t i = 0; i < w->n_seen; i++)
        if (memcmp(w->seen[i].b, id->b, PEL_OBJ_ID_LEN) == 0) return 0;
    if (w->n_seen == w->cap_seen) {
        size_t nc = w->cap_seen ? 2 * w->cap_seen : 64;
        pel_obj_id *ns = realloc(w->seen, nc * sizeof *ns);
        if (!ns) return PEL_ENOMEM;
        w->seen = ns;
        w->cap_seen = nc;
    }
    w->seen[w->n_seen++] = *id;
    return 1;
}

static int push(walk *w, const pel_obj_id *id, uint32_t v, uint32_t depth)
{
    if (w->tail == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 64;
        walk_item *nq = realloc(w->q, nc * sizeof *nq);
        if (!nq) return PEL_ENOMEM;
        w->q = nq;
        w->cap = nc;
    }
    w->q[w->tail++] = (walk_item){ *id, v, depth };
    return 0;
}

/* One edge of the object being expanded: report it, queue its far end
 * the first time the walk meets that object. */
static int walk_edge(void *arg, const pel_obj_edge *e)
{
    walk *w = arg;
    pel_obj_edge out = *e;
    out.depth = w->at->depth + 1;
    int rc = w->fn(w->arg, &out);
    if (rc) return rc;
    const pel_obj_id *far = w->g->down ? &e->from : &e->to;
    uint32_t far_v = w->g->down ? 0 : e->to_v;
    int fresh = seen_add(w, far);
    if (fresh < 0) return fresh;
    return fresh && out.depth < w->depth ? push(w, far, far_v, out.depth) : 0;
}

int pel_obj_walk(const pel_obj_graph *g, const pel_obj_id *id, uint32_t v, uint32_t depth,
                 int (*fn)(void *arg, const pel_obj_edge *e), void *arg)
{
    walk w = { .g = g, .depth = depth, .fn = fn, .arg = arg };
    int rc = seen_add(&w, id);
    rc = rc < 0 ? rc : push(&w, id, v, 0);
    while (!rc && w.head < w.tail && depth > 0) {
        walk_item it = w.q[w.head++];
        w.at = &it;
        rc = g->edges(g->ctx, &it.id, it.v, walk_edge, &w);
    }
    free(w.q);
    free(w.seen);
    return rc > 0 ? 0 : rc;
}

/* Upstream edges of (id, v): the links of that version (the latest for 0). */
typedef struct up_ctx { const pel_state *st; pel_buf raw; } up_ctx;

static int up_edges(void *ctx, const pel_obj_id *id, uint32_t v,
                    int (*edge)(void *w, const pel_obj_edge *e), void *w)
{
    up_ctx *u = ctx;
    pel_obj_version ver;
    pel_obj_head h;
    int rc = 0;
    if (v == 0) {                 /* the latest: report its number, as downstream edges do */
        rc = pel_registry_head(u->st, id, &h);
        v = h.versions;
    }
    if (!rc) rc = pel_registry_version(u->st, id, v, &u->raw, &ver);
    for (uint32_t i = 0; !rc && i < ver.fields.n_links; i++) {
        const pel_obj_link *l = &ver.fields.links[i];
        pel_obj_edge e = { *id, v, l->relation, l->target, l->version, 0 };
        rc = edge(w, &e);
    }
    return rc;
}

int pel_registry_upstream(const pel_state *st, const pel_obj_id *id, uint32_t v, uint32_t depth,
                          int (*fn)(void *arg, const pel_obj_edge *e), void *arg)
{
    pel_obj_head h;
    int rc = pel_registry_head(st, id, &h);
    if (rc) return rc;
    up_ctx u = { st, { 0 } };
    pel_buf_init(&u.raw);
    pel_obj_graph g = { up_edges, 0, &u };
    rc = pel_obj_walk(&g, id, v, depth, fn, arg);
    pel_buf_free(&u.raw);
    return rc;
}

/* ---- events ---- */

int pel_registry_event(const uint8_t *ev, size_t len, pel_obj_id *id, uint32_t *version)
{
    if (len != 1 + PEL_OBJ_ID_LEN + 4 + 2 || ev[0] != PEL_EV_OBJECT) return 0;
    memcpy(id->b, ev + 1, PEL_OBJ_ID_LEN);
    *version = (uint32_t)pel_le_load(ev + 1 + PEL_OBJ_ID_LEN, 4);
    return *version != 0;
}
