/*
 * licence.c - licences and royalties (licence.h): bodies, terms, purchase
 * with the upstream cascade, and the queries.
 */
#include "modules/licence.h"

#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "ledger/ledger.h"
#include "modules/shares.h"

/* ==== bodies ==== */

typedef struct terms_body { pel_obj_id id; pel_lic_terms t; } terms_body;

static int bad(const char **why, int code, const char *msg)
{
    if (why) *why = msg;
    return code;
}

static void get_id(pel_dec *d, pel_obj_id *id)
{
    const uint8_t *raw;
    if (pel_dec_raw(d, PEL_OBJ_ID_LEN, &raw) == 0) memcpy(id->b, raw, PEL_OBJ_ID_LEN);
}

/* The parties as stored and sent: u32 n ‖ (addr ‖ bps)*n, validated. */
static int decode_parties(pel_dec *d, pel_lic_terms *t, const char **why)
{
    const uint8_t *raw;
    uint32_t sum = 0;
    pel_dec_count(d, PEL_LIC_PARTIES_MAX, &t->n);
    for (uint32_t i = 0; !d->err && i < t->n; i++) {
        if (pel_dec_raw(d, PEL_ADDR_LEN, &raw) == 0) memcpy(t->party[i].addr.b, raw, PEL_ADDR_LEN);
        pel_dec_u16(d, &t->party[i].bps);
        sum += t->party[i].bps;
        if (!d->err && t->party[i].bps == 0) return bad(why, PEL_EINVAL, "every licence party needs a share of at least 1 basis point");
        if (!d->err && i && memcmp(t->party[i - 1].addr.b, t->party[i].addr.b, PEL_ADDR_LEN) >= 0)
            return bad(why, PEL_EINVAL, "licence parties must be distinct and in ascending address order");
    }
    if (d->err) return bad(why, d->err, "malformed licence parties");
    if (t->n == 0) return bad(why, PEL_EINVAL, "licence terms need at least one party");
    if (sum != PEL_LIC_BPS) return bad(why, PEL_EINVAL, "the parties' shares must sum to exactly 10000 basis points");
    return 0;
}

static int decode_terms(const uint8_t *p, uint32_t len, terms_body *b, const char **why)
{
    pel_dec d;
    memset(b, 0, sizeof *b);
    pel_dec_init(&d, p, len);
    get_id(&d, &b->id);
    pel_dec_u64(&d, &b->t.price);
    pel_dec_u16(&d, &b->t.upstream_bps);
    if (d.err) return bad(why, d.err, "malformed licence terms");
    if (b->t.price > INT64_MAX) return bad(why, PEL_EINVAL, "the licence price is at most 2^63-1");
    if (b->t.upstream_bps > PEL_LIC_BPS) return bad(why, PEL_EINVAL, "the upstream share is 0..10000 basis points");
    int rc = decode_parties(&d, &b->t, why);
    if (!rc && pel_dec_finish(&d)) rc = bad(why, PEL_ETRAILING, "bytes after the licence terms");
    return rc;
}

static int decode_buy(const uint8_t *p, uint32_t len, pel_obj_id *id, uint64_t *max, const char **why)
{
    pel_dec d;
    pel_dec_init(&d, p, len);
    get_id(&d, id);
    pel_dec_u64(&d, max);
    if (d.err || pel_dec_finish(&d)) return bad(why, d.err ? d.err : PEL_ETRAILING, "malformed licence purchase");
    return 0;
}

static int licence_check(uint16_t type, const uint8_t *p, uint32_t len, const char **why)
{
    if (type == PEL_TX_LIC_BUY) {
        pel_obj_id id;
        uint64_t max;
        return decode_buy(p, len, &id, &max, why);
    }
    terms_body b;
    return decode_terms(p, len, &b, why);
}

/* A purchase can take its maximum price (a price is at most 2^63-1). */
static uint64_t licence_spend(uint16_t type, const uint8_t *p, uint32_t len)
{
    const char *why;
    pel_obj_id id;
    uint64_t max;
    if (type != PEL_TX_LIC_BUY || decode_buy(p, len, &id, &max, &why)) return 0;
    return max > INT64_MAX ? INT64_MAX : max;
}

static int cmp_party(const void *a, const void *b)
{
    return memcmp(((const pel_lic_party *)a)->addr.b, ((const pel_lic_party *)b)->addr.b, PEL_ADDR_LEN);
}

static int encode_parties(const pel_lic_terms *t, pel_buf *out)
{
    int rc = pel_enc_u32(out, t->n);
    for (uint32_t i = 0; !rc && i < t->n; i++) {
        rc = pel_enc_raw(out, t->party[i].addr.b, PEL_ADDR_LEN);
        if (!rc) rc = pel_enc_u16(out, t->party[i].bps);
    }
    return rc;
}

int pel_lic_terms_body(const pel_obj_id *id, const pel_lic_terms *t, pel_buf *out)
{
    pel_lic_terms s = *t;
    if (s.n > PEL_LIC_PARTIES_MAX) return PEL_EINVAL;
    qsort(s.party, s.n, sizeof s.party[0], cmp_party);
    int rc = pel_enc_raw(out, id->b, PEL_OBJ_ID_LEN);
    if (!rc) rc = pel_enc_u64(out, s.price);
    if (!rc) rc = pel_enc_u16(out, s.upstream_bps);
    return rc ? rc : encode_parties(&s, out);
}

int pel_lic_buy_body(const pel_obj_id *id, uint64_t max_price, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_OBJ_ID_LEN);
    return rc ? rc : pel_enc_u64(out, max_price);
}

/* ==== state ==== */

static void key_id(const char *tag, const pel_obj_id *id, pel_key *k)
{
    if (pel_hash_tagged(tag, id->b, PEL_OBJ_ID_LEN, k->b)) memset(k, 0, sizeof *k);
}

void pel_licence_key(const pel_obj_id *id, const pel_addr *buyer, pel_key *k)
{
    uint8_t in[PEL_OBJ_ID_LEN + PEL_ADDR_LEN];
    memcpy(in, id->b, PEL_OBJ_ID_LEN);
    memcpy(in + PEL_OBJ_ID_LEN, buyer->b, PEL_ADDR_LEN);
    if (pel_hash_tagged("PEL/licence", in, sizeof in, k->b)) memset(k, 0, sizeof *k);
}

static int terms_decode(const uint8_t *p, size_t len, pel_lic_terms *t)
{
    pel_dec d;
    const char *why;
    memset(t, 0, sizeof *t);
    pel_dec_init(&d, p, len);
    pel_dec_u32(&d, &t->revision);
    pel_dec_u64(&d, &t->height);
    pel_dec_u64(&d, &t->price);
    pel_dec_u16(&d, &t->upstream_bps);
    if (d.err || decode_parties(&d, t, &why) || pel_dec_finish(&d)) return PEL_ECORRUPT;
    return 0;
}

static int terms_encode(const pel_lic_terms *t, pel_buf *out)
{
    int rc = pel_enc_u32(out, t->revision);
    if (!rc) rc = pel_enc_u64(out, t->height);
    if (!rc) rc = pel_enc_u64(out, t->price);
    if (!rc) rc = pel_enc_u16(out, t->upstream_bps);
    return rc ? rc : encode_parties(t, out);
}

enum { LIC_REC_LEN = 4 + 8 + 8 + 8 + 4 + 32 };

static int licence_decode(const uint8_t *p, size_t len, pel_licence *l)
{
    if (len != LIC_REC_LEN) return PEL_ECORRUPT;
    l->revision = (uint32_t)pel_le_load(p, 4);
    l->price = pel_le_load(p + 4, 8);
    l->height = pel_le_load(p + 12, 8);
    l->time_ms = pel_le_load(p + 20, 8);
    l->count = (uint32_t)pel_le_load(p + 28, 4);
    memcpy(l->txid, p + 32, 32);
    return 0;
}

static void licence_encode(const pel_licence *l, uint8_t out[LIC_REC_LEN])
{
    pel_le_store(out, l->revision, 4);
    pel_le_store(out + 4, l->price, 8);
    pel_le_store(out + 12, l->height, 8);
    pel_le_store(out + 20, l->time_ms, 8);
    pel_le_store(out + 28, l->count, 4);
    memcpy(out + 32, l->txid, 32);
}

static int terms_dec(const uint8_t *p, size_t len, void *t) { return terms_decode(p, len, t); }

/* terms_view - @return 0, PEL_ELIC_NONE, PEL_ECORRUPT, view errors. */
static int terms_view(pel_view *v, const pel_obj_id *id, pel_lic_terms *t)
{
    pel_key k;
    key_id("PEL/lic-terms", id, &k);
    return pel_module_get(v, &k, PEL_ELIC_NONE, terms_dec, t);
}

static int emit_licence(pel_view *v, int op, const pel_obj_id *id, uint32_t revision,
                        const pel_addr *buyer, uint64_t price)
{
    uint8_t ev[1 + 1 + PEL_OBJ_ID_LEN + 4 + PEL_ADDR_LEN + 8];
    ev[0] = PEL_EV_LICENCE;
    ev[1] = (uint8_t)op;
    memcpy(ev + 2, id->b, PEL_OBJ_ID_LEN);
    pel_le_store(ev + 18, revision, 4);
    if (buyer) memcpy(ev + 22, buyer->b, PEL_ADDR_LEN);
    else memset(ev + 22, 0, PEL_ADDR_LEN);
    pel_le_store(ev + 42, price, 8);
    return pel_view_emit(v, ev, sizeof ev);
}

int pel_licence_event(const uint8_t *ev, size_t len, pel_obj_id *id, pel_addr *buyer,
                      uint64_t *price, uint32_t *revision)
{
    uint8_t op;
    return pel_licence_event_op(ev, len, &op, id, buyer, price, revision) && op == PEL_LIC_EV_BUY;
}

int pel_licence_event_op(const uint8_t *ev, size_t len, uint8_t *op, pel_obj_id *id, pel_addr *buyer,
                         uint64_t *price, uint32_t *revision)
{
    if (len != 50 || ev[0] != PEL_EV_LICENCE || (ev[1] != PEL_LIC_EV_BUY && ev[1] != PEL_LIC_EV_TERMS)) return 0;
    *op = ev[1];
    memcpy(id->b, ev + 2, PEL_OBJ_ID_LEN);
    *revision = (uint32_t)pel_le_load(ev + 18, 4);
    memcpy(buyer->b, ev + 22, PEL_ADDR_LEN);
    *price = pel_le_load(ev + 42, 8);
    return 1;
}

/* ==== terms ==== */

static int is_party_ok(const pel_obj_head *h, const pel_obj_fields *f, const pel_addr *a)
{
    if (pel_registry_controls(h, a)) return 1;
    for (uint32_t i = 0; i < f->n_contrib; i++)
        if (memcmp(f->contrib[i].addr.b, a->b, PEL_ADDR_LEN) == 0) return 1;
    return 0;
}

static int exec_terms(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, terms_body *b)
{
    pel_obj_head h;
    pel_obj_version ver;
    pel_lic_terms old;
    pel_buf raw, enc;
    pel_key k;
    int rc = pel_registry_head_view(v, &b->id, &h);
    if (rc) return rc;
    if (!pel_registry_controls(&h, &tx->from)) return PEL_EOBJ_PERM;
    pel_buf_init(&raw);
    pel_buf_init(&enc);
    rc = pel_registry_version_view(v, &b->id, h.versions, &raw, &ver);
    for (uint32_t i = 0; !rc && i < b->t.n; i++)
        if (!is_party_ok(&h, &ver.fields, &b->t.party[i].addr)) rc = PEL_ELIC_PARTY;
    if (!rc) {
        rc = terms_view(v, &b->id, &old);   /* old is set only when rc is 0 */
        if (rc == PEL_ELIC_NONE) { b->t.revision = 1; rc = 0; }
        else if (!rc && old.revision == UINT32_MAX) rc = PEL_ERANGE;
        else if (!rc) b->t.revision = old.revision + 1;
    }
    b->t.height = c->height;
    if (!rc) rc = terms_encode(&b->t, &enc);
    key_id("PEL/lic-terms", &b->id, &k);
    if (!rc) rc = pel_view_put(v, &k, enc.data, enc.len);
    if (!rc) rc = emit_licence(v, PEL_LIC_EV_TERMS, &b->id, b->t.revision, NULL, b->t.price);
    pel_buf_free(&raw);
    pel_buf_free(&enc);
    return rc;
}

/* ==== payment ==== */

typedef struct payee { pel_addr addr; uint64_t amount; } payee;
typedef struct hop { pel_obj_id id; uint64_t amount; uint32_t depth; } hop;

typedef struct payment {
    pel_view *v;
    hop q[PEL_LIC_HOPS_MAX];
    uint32_t head, tail;
    payee *p;
    uint32_t np, cap;
    pel_buf raw;
} payment;

static int owe(payment *pm, const pel_addr *a, uint64_t amount)
{
    if (amount == 0) return 0;
    if (pm->np == pm->cap) {
        uint32_t nc = pm->cap ? 2 * pm->cap : 32;
        payee *np = realloc(pm->p, nc * sizeof *np);
        if (!np) return PEL_ENOMEM;
        pm->p = np;
        pm->cap = nc;
    }
    pm->p[pm->np++] = (payee){ *a, amount };
    return 0;
}

/* a * bps / 10000 rounded down, exactly (a < 2^63). */
static uint64_t part(uint64_t a, uint32_t bps)
{
    return (uint64_t)((unsigned __int128)a * bps / PEL_LIC_BPS);
}

static int cmp_id(const void *a, const void *b) { return memcmp(a, b, PEL_OBJ_ID_LEN); }

/* The distinct derived-from / uses-data targets of f, in id order. */
static uint32_t parents_of(const pel_obj_fields *f, pel_obj_id *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->n_links; i++)
        if (f->links[i].relation == PEL_REL_DERIVED_FROM || f->links[i].relation == PEL_REL_USES_DATA)
            out[n++] = f->links[i].target;
    qsort(out, n, sizeof *out, cmp_id);
    uint32_t u = 0;
    for (uint32_t i = 0; i < n; i++)
        if (u == 0 || memcmp(out[u - 1].b, out[i].b, PEL_OBJ_ID_LEN) != 0) out[u++] = out[i];
    return u;
}

/* An object's own part: to its share holders if it has a share class
 * (shares.h), else split by its terms, or all to its creator without. */
static int pay_own(payment *pm, const pel_obj_id *id, uint64_t own, const pel_lic_terms *t,
                   const pel_obj_head *head)
{
    int rc = pel_shares_exists_view(pm->v, id);
    if (rc == 1) {
        rc = pel_shares_deposit_delta(pm->v, id, own);
        if (rc == 0) {
            pel_addr pool;
            pel_shares_pool(id, &pool);
            return owe(pm, &pool, own);
        }
        if (rc != PEL_EBOUND) return rc;    /* accumulator full: the parties are paid */
    }
    if (rc < 0 && rc != PEL_EBOUND) return rc;
    if (!t) return owe(pm, &head->creator, own);
    uint64_t given = 0;
    for (uint32_t i = 0; i < t->n; i++) given += part(own, t->party[i].bps);
    for (uint32_t i = 0; i < t->n; i++) {
        rc = owe(pm, &t->party[i].addr, part(own, t->party[i].bps) + (i == 0 ? own - given : 0));
        if (rc) return rc;
    }
    return 0;
}

/* Pay one object: its own part, and its parents' shares queued. */
static int pay_object(payment *pm, const hop *h, const pel_lic_terms *t, const pel_obj_head *head)
{
    pel_obj_id parents[PEL_OBJ_LINKS_MAX];
    pel_obj_version ver;
    uint32_t np = 0;
    uint64_t up = 0;
    if (t->upstream_bps && h->depth < PEL_LIC_DEPTH_MAX) {
        int rc = pel_registry_version_view(pm->v, &h->id, head->versions, &pm->raw, &ver);
        if (rc) return rc;
        np = parents_of(&ver.fields, parents);
        if (np > PEL_LIC_HOPS_MAX - pm->tail) np = 0;      /* out of hops: keep it here */
        if (np) up = part(h->amount, t->upstream_bps);
    }
    int rc = pay_own(pm, &h->id, h->amount - up, t, head);
    if (rc) return rc;
    for (uint32_t i = 0; i < np; i++) {
        uint64_t x = up / np + (i == 0 ? up % np : 0);
        if (x) pm->q[pm->tail++] = (hop){ parents[i], x, h->depth + 1 };
    }
    return 0;
}

static int cmp_payee(const void *a, const void *b)
{
    return memcmp(((const payee *)a)->addr.b, ((const payee *)b)->addr.b, PEL_ADDR_LEN);
}

/* Credit what is owed, merged per payee in address order, with events. */
static int settle(payment *pm, const pel_addr *from)
{
    qsort(pm->p, pm->np, sizeof *pm->p, cmp_payee);
    for (uint32_t i = 0; i < pm->np;) {
        uint64_t sum = 0;
        uint32_t j = i;
        for (; j < pm->np && memcmp(pm->p[j].addr.b, pm->p[i].addr.b, PEL_ADDR_LEN) == 0; j++)
            sum += pm->p[j].amount;
        int rc = pel_ledger_credit(pm->v, from, &pm->p[i].addr, sum);
        if (rc) return rc;
        i = j;
    }
    return 0;
}

/* Pay `amount` to object id (terms t), breadth first up its sources. */
static int pay(pel_view *v, const pel_tx *tx, const pel_obj_id *id, const pel_lic_terms *t, uint64_t amount)
{
    payment pm = { .v = v };
    int rc = 0;
    pel_buf_init(&pm.raw);
    pm.q[pm.tail++] = (hop){ *id, amount, 0 };
    while (!rc && pm.head < pm.tail) {
        const hop *h = &pm.q[pm.head++];
        pel_obj_head head;
        pel_lic_terms pt;
        rc = pel_registry_head_view(v, &h->id, &head);
        if (rc) break;
        if (h->depth == 0) rc = pay_object(&pm, h, t, &head);
        else if ((rc = terms_view(v, &h->id, &pt)) == PEL_ELIC_NONE) rc = pay_own(&pm, &h->id, h->amount, NULL, &head);
        else if (!rc) rc = pay_object(&pm, h, &pt, &head);
    }
    if (!rc) rc = settle(&pm, &tx->from);
    free(pm.p);
    pel_buf_free(&pm.raw);
    return rc;
}

static int exec_buy(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, const pel_obj_id *id,
                    uint64_t max)
{
    pel_lic_terms t;
    pel_licence l;
    pel_key k;
    pel_val val;
    uint8_t rec[LIC_REC_LEN];
    int rc = terms_view(v, id, &t);
    if (rc) return rc;
    if (t.price > max) return PEL_ELIC_PRICE;
    pel_key_balance(&tx->from, &k);
    rc = pel_view_delta_add(v, &k, -(int64_t)t.price, UINT64_MAX);
    if (rc == PEL_EBOUND) return PEL_EFUNDS;
    if (!rc) rc = pay(v, tx, id, &t, t.price);
    if (rc) return rc;
    pel_licence_key(id, &tx->from, &k);
    rc = pel_view_get(v, &k, &val);
    memset(&l, 0, sizeof l);
    if (rc == PEL_ENOTFOUND) rc = 0;
    else if (!rc) rc = licence_decode(val.p, val.len, &l);
    if (rc) return rc;
    l.count = l.count == UINT32_MAX ? l.count : l.count + 1;
    l.revision = t.revision;
    l.price = t.price;
    l.height = c->height;
    l.time_ms = c->time_ms;
    memcpy(l.txid, tx->id, 32);
    licence_encode(&l, rec);
    rc = pel_view_put(v, &k, rec, sizeof rec);
    key_id("PEL/lic-sold", id, &k);
    if (!rc) rc = pel_view_delta_add(v, &k, 1, UINT64_MAX);
    key_id("PEL/lic-revenue", id, &k);
    if (!rc) rc = pel_view_delta_add(v, &k, (int64_t)t.price, UINT64_MAX);
    if (rc == PEL_EBOUND) rc = 0;        /* a counter at its ceiling stays there */
    return rc ? rc : emit_licence(v, PEL_LIC_EV_BUY, id, t.revision, &tx->from, t.price);
}

static int licence_exec(const pel_module_ctx *c, const pel_tx *tx, pel_view *v)
{
    const char *why;
    if (tx->type == PEL_TX_LIC_BUY) {
        pel_obj_id id;
        uint64_t max;
        int rc = decode_buy(tx->body, tx->body_len, &id, &max, &why);
        return rc ? rc : exec_buy(c, tx, v, &id, max);
    }
    terms_body b;
    int rc = decode_terms(tx->body, tx->body_len, &b, &why);
    return rc ? rc : exec_terms(c, tx, v, &b);
}

const pel_tx_module pel_licence_module = {
    .name = "licence",
    .first_type = PEL_TX_LIC_TERMS,
    .last_type = PEL_TX_LIC_BUY,
    .check = licence_check,
    .exec = licence_exec,
    .spend = licence_spend,
};

/* ==== queries ==== */

int pel_licence_terms(const pel_state *st, const pel_obj_id *id, pel_lic_terms *out)
{
    pel_key k;
    pel_val val;
    key_id("PEL/lic-terms", id, &k);
    int rc = pel_state_get(st, &k, &val);
    if (rc == PEL_ENOTFOUND) return PEL_ELIC_NONE;
    return rc ? rc : terms_decode(val.p, val.len, out);
}

int pel_licence_get(const pel_state *st, const pel_obj_id *id, const pel_addr *buyer, pel_licence *out)
{
    pel_key k;
    pel_val val;
    pel_licence_key(id, buyer, &k);
    int rc = pel_state_get(st, &k, &val);
    return rc ? rc : licence_decode(val.p, val.len, out);
}

static int counter(const pel_state *st, const char *tag, const pel_obj_id *id, uint64_t *out)
{
    pel_key k;
    key_id(tag, id, &k);
    return pel_state_get_counter(st, &k, out);
}

int pel_licence_totals(const pel_state *st, const pel_obj_id *id, uint64_t *sold, uint64_t *revenue)
{
    int rc = counter(st, "PEL/lic-sold", id, sold);
    return rc ? rc : counter(st, "PEL/lic-revenue", id, revenue);
}
