/*
 * shares.c - fractional IP shares (shares.h): share classes, transfers
 * that settle first, claims, and the O(1) deposit used by licence.c.
 */
#include "modules/shares.h"

#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "ledger/ledger.h"

typedef unsigned __int128 u128;

/* ==== bodies ==== */

typedef struct body { pel_obj_id id; pel_addr to; uint64_t n; } body;

static int decode(uint16_t type, const uint8_t *p, uint32_t len, body *b, const char **why)
{
    pel_dec d;
    const uint8_t *raw;
    memset(b, 0, sizeof *b);
    pel_dec_init(&d, p, len);
    if (pel_dec_raw(&d, PEL_OBJ_ID_LEN, &raw) == 0) memcpy(b->id.b, raw, PEL_OBJ_ID_LEN);
    if (type == PEL_TX_SHARES_TRANSFER && pel_dec_raw(&d, PEL_ADDR_LEN, &raw) == 0)
        memcpy(b->to.b, raw, PEL_ADDR_LEN);
    if (type != PEL_TX_SHARES_CLAIM) pel_dec_u64(&d, &b->n);
    if (d.err || pel_dec_finish(&d)) { *why = "malformed share transaction"; return d.err ? d.err : PEL_ETRAILING; }
    if (type == PEL_TX_SHARES_CREATE && (b->n == 0 || b->n > PEL_SHARES_MAX)) {
        *why = "a share class has 1 to 2^40 shares";
        return PEL_EINVAL;
    }
    if (type == PEL_TX_SHARES_TRANSFER && b->n == 0) { *why = "transfer at least one share"; return PEL_EINVAL; }
    *why = NULL;
    return 0;
}

static int shares_check(uint16_t type, const uint8_t *p, uint32_t len, const char **why)
{
    body b;
    return decode(type, p, len, &b, why);
}

int pel_shares_create_body(const pel_obj_id *id, uint64_t shares, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_OBJ_ID_LEN);
    return rc ? rc : pel_enc_u64(out, shares);
}

int pel_shares_transfer_body(const pel_obj_id *id, const pel_addr *to, uint64_t amount, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_OBJ_ID_LEN);
    if (!rc) rc = pel_enc_raw(out, to->b, PEL_ADDR_LEN);
    return rc ? rc : pel_enc_u64(out, amount);
}

int pel_shares_claim_body(const pel_obj_id *id, pel_buf *out)
{
    return pel_enc_raw(out, id->b, PEL_OBJ_ID_LEN);
}

/* ==== state ==== */

static void key_id(const char *tag, const pel_obj_id *id, pel_key *k)
{
    if (pel_hash_tagged(tag, id->b, PEL_OBJ_ID_LEN, k->b)) memset(k, 0, sizeof *k);
}

static void key_hold(const pel_obj_id *id, const pel_addr *a, pel_key *k)
{
    uint8_t in[PEL_OBJ_ID_LEN + PEL_ADDR_LEN];
    memcpy(in, id->b, PEL_OBJ_ID_LEN);
    memcpy(in + PEL_OBJ_ID_LEN, a->b, PEL_ADDR_LEN);
    if (pel_hash_tagged("PEL/share-hold", in, sizeof in, k->b)) memset(k, 0, sizeof *k);
}

void pel_shares_pool(const pel_obj_id *id, pel_addr *out)
{
    uint8_t h[32];
    if (pel_hash_tagged("PEL/share-pool", id->b, PEL_OBJ_ID_LEN, h)) memset(h, 0, sizeof h);
    memcpy(out->b, h, PEL_ADDR_LEN);
}

enum { CLASS_LEN = 8 + PEL_ADDR_LEN + 8, HOLD_LEN = 8 + 8 + 16 + 8 };

static int class_decode(const uint8_t *p, size_t len, pel_share_class *c)
{
    if (len != CLASS_LEN) return PEL_ECORRUPT;
    c->shares = pel_le_load(p, 8);
    memcpy(c->creator.b, p + 8, PEL_ADDR_LEN);
    c->height = pel_le_load(p + 8 + PEL_ADDR_LEN, 8);
    return c->shares ? 0 : PEL_ECORRUPT;
}

static int hold_decode(const uint8_t *p, size_t len, pel_share_holding *h)
{
    if (len != HOLD_LEN) return PEL_ECORRUPT;
    h->shares = pel_le_load(p, 8);
    h->snapshot = pel_le_load(p + 8, 8);
    h->owed = (u128)pel_le_load(p + 24, 8) << 64 | pel_le_load(p + 16, 8);
    h->lock_until = pel_le_load(p + 32, 8);
    return 0;
}

static void hold_encode(const pel_share_holding *h, uint8_t out[HOLD_LEN])
{
    pel_le_store(out, h->shares, 8);
    pel_le_store(out + 8, h->snapshot, 8);
    pel_le_store(out + 16, (uint64_t)h->owed, 8);
    pel_le_store(out + 24, (uint64_t)(h->owed >> 64), 8);
    pel_le_store(out + 32, h->lock_until, 8);
}

/* settle - bring a holding up to acc. */
static void settle(pel_share_holding *h, uint64_t acc)
{
    h->owed += (u128)h->shares * (acc - h->snapshot);
    h->snapshot = acc;
}

/* ==== execution ==== */

static int class_dec(const uint8_t *p, size_t len, void *c) { return class_decode(p, len, c); }

static int class_view(pel_view *v, const pel_obj_id *id, pel_share_class *c)
{
    pel_key k;
    key_id("PEL/share-class", id, &k);
    return pel_module_get(v, &k, PEL_ESHARE_NONE, class_dec, c);
}

int pel_shares_exists_view(pel_view *v, const pel_obj_id *id)
{
    pel_share_class c;
    int rc = class_view(v, id, &c);
    return rc == PEL_ESHARE_NONE ? 0 : rc ? rc : 1;
}

int pel_shares_class_view(pel_view *v, const pel_obj_id *id, pel_share_class *out)
{
    return class_view(v, id, out);
}

int pel_shares_deposit_delta(pel_view *v, const pel_obj_id *id, uint64_t amount)
{
    pel_share_class c;
    pel_key k;
    int rc = class_view(v, id, &c);
    if (rc) return rc;
    u128 d = ((u128)amount << PEL_SHARES_SCALE_BITS) / c.shares;
    if (d > INT64_MAX) return PEL_EBOUND;
    key_id("PEL/share-acc", id, &k);
    return d ? pel_view_delta_add(v, &k, (int64_t)d, UINT64_MAX) : 0;
}

/* The holding of a, settled to the current acc. */
static int hold_view(pel_view *v, const pel_obj_id *id, const pel_addr *a, uint64_t acc,
                     pel_share_holding *h)
{
    pel_key k;
    pel_val val;
    memset(h, 0, sizeof *h);
    key_hold(id, a, &k);
    int rc = pel_view_get(v, &k, &val);
    if (rc == PEL_ENOTFOUND) { h->snapshot = acc; return 0; }
    if (!rc) rc = hold_decode(val.p, val.len, h);
    if (!rc) settle(h, acc);
    return rc;
}

static int hold_put(pel_view *v, const pel_obj_id *id, const pel_addr *a, const pel_share_holding *h)
{
    pel_key k;
    uint8_t rec[HOLD_LEN];
    key_hold(id, a, &k);
    if (h->shares == 0 && h->owed == 0) return pel_view_del(v, &k);
    hold_encode(h, rec);
    return pel_view_put(v, &k, rec, sizeof rec);
}

int pel_shares_lock(pel_view *v, const pel_obj_id *id, const pel_addr *a, uint64_t until,
                    uint64_t *shares)
{
    pel_share_class c;
    pel_share_holding h;
    pel_key k;
    uint64_t acc;
    *shares = 0;
    int rc = class_view(v, id, &c);
    key_id("PEL/share-acc", id, &k);
    if (!rc) rc = pel_view_get_u64(v, &k, &acc);
    if (!rc) rc = hold_view(v, id, a, acc, &h);
    if (rc || h.shares == 0) return rc;
    *shares = h.shares;
    if (h.lock_until >= until) return 0;
    h.lock_until = until;
    return hold_put(v, id, a, &h);
}

static int emit(pel_view *v, uint16_t type, const pel_obj_id *id, const pel_addr *a, uint64_t n)
{
    uint8_t ev[1 + 1 + PEL_OBJ_ID_LEN + PEL_ADDR_LEN + 8];
    ev[0] = PEL_EV_SHARES;
    ev[1] = (uint8_t)(type - 29);
    memcpy(ev + 2, id->b, PEL_OBJ_ID_LEN);
    memcpy(ev + 18, a->b, PEL_ADDR_LEN);
    pel_le_store(ev + 38, n, 8);
    return pel_view_emit(v, ev, sizeof ev);
}

int pel_shares_event(const uint8_t *ev, size_t len, uint8_t *op, pel_obj_id *id, pel_addr *a,
                     uint64_t *amount)
{
    if (len != 46 || ev[0] != PEL_EV_SHARES || ev[1] < 1 || ev[1] > 3) return 0;
    *op = ev[1];
    memcpy(id->b, ev + 2, PEL_OBJ_ID_LEN);
    memcpy(a->b, ev + 18, PEL_ADDR_LEN);
    *amount = pel_le_load(ev + 38, 8);
    return 1;
}

static int create(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, const body *b)
{
    pel_obj_head h;
    pel_share_class sc;
    pel_key k;
    uint8_t rec[CLASS_LEN];
    int rc = pel_registry_head_view(v, &b->id, &h);
    if (rc) return rc;
    if (!pel_registry_controls(&h, &tx->from)) return PEL_EOBJ_PERM;
    rc = class_view(v, &b->id, &sc);
    if (rc == 0) return PEL_ESHARE_EXISTS;
    if (rc != PEL_ESHARE_NONE) return rc;
    pel_le_store(rec, b->n, 8);
    memcpy(rec + 8, tx->from.b, PEL_ADDR_LEN);
    pel_le_store(rec + 8 + PEL_ADDR_LEN, c->height, 8);
    key_id("PEL/share-class", &b->id, &k);
    rc = pel_view_put(v, &k, rec, sizeof rec);
    pel_share_holding hd = { b->n, 0, 0, 0 };
    uint64_t acc = 0;
    key_id("PEL/share-acc", &b->id, &k);
    if (!rc) rc = pel_view_get_u64(v, &k, &acc);
    hd.snapshot = acc;
    if (!rc) rc = hold_put(v, &b->id, &tx->from, &hd);
    return rc ? rc : emit(v, PEL_TX_SHARES_CREATE, &b->id, &tx->from, b->n);
}

static int transfer(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, const body *b,
                    uint64_t acc)
{
    pel_share_holding from, to;
    if (memcmp(b->to.b, tx->from.b, PEL_ADDR_LEN) == 0) return PEL_EINVAL;
    int rc = hold_view(v, &b->id, &tx->from, acc, &from);
    if (!rc) rc = hold_view(v, &b->id, &b->to, acc, &to);
    if (rc) return rc;
    if (from.shares < b->n) return PEL_ESHARE_FUNDS;
    if (from.lock_until >= c->height) return PEL_ESHARE_LOCKED;
    from.shares -= b->n;
    to.shares += b->n;                  /* <= the class total: no overflow */
    rc = hold_put(v, &b->id, &tx->from, &from);
    if (!rc) rc = hold_put(v, &b->id, &b->to, &to);
    return rc ? rc : emit(v, PEL_TX_SHARES_TRANSFER, &b->id, &b->to, b->n);
}

static int claim(const pel_tx *tx, pel_view *v, const body *b, uint64_t acc)
{
    pel_share_holding h;
    pel_addr pool;
    int rc = hold_view(v, &b->id, &tx->from, acc, &h);
    if (rc) return rc;
    u128 pay = h.owed >> PEL_SHARES_SCALE_BITS;
    if (pay > INT64_MAX) pay = INT64_MAX;              /* the rest stays owed */
    h.owed -= pay << PEL_SHARES_SCALE_BITS;
    pel_shares_pool(&b->id, &pool);
    if (pay) {
        rc = pel_ledger_move(v, &pool, &tx->from, (uint64_t)pay);
        if (rc == PEL_EFUNDS) return PEL_ECORRUPT;     /* the pool always covers claims */
    }
    if (!rc) rc = hold_put(v, &b->id, &tx->from, &h);
    return rc ? rc : emit(v, PEL_TX_SHARES_CLAIM, &b->id, &tx->from, (uint64_t)pay);
}

static int shares_exec(const pel_module_ctx *c, const pel_tx *tx, pel_view *v)
{
    const char *why;
    body b;
    pel_share_class sc;
    pel_key k;
    uint64_t acc;
    int rc = decode(tx->type, tx->body, tx->body_len, &b, &why);
    if (rc) return rc;
    if (tx->type == PEL_TX_SHARES_CREATE) return create(c, tx, v, &b);
    rc = class_view(v, &b.id, &sc);
    key_id("PEL/share-acc", &b.id, &k);
    if (!rc) rc = pel_view_get_u64(v, &k, &acc);
    if (rc) return rc;
    return tx->type == PEL_TX_SHARES_TRANSFER ? transfer(c, tx, v, &b, acc) : claim(tx, v, &b, acc);
}

const pel_tx_module pel_shares_module = {
    .name = "shares",
    .first_type = PEL_TX_SHARES_CREATE,
    .last_type = PEL_TX_SHARES_CLAIM,
    .check = shares_check,
    .exec = shares_exec,
};

/* ==== queries ==== */

static int acc_get(const pel_state *st, const pel_obj_id *id, uint64_t *acc)
{
    pel_key k;
    key_id("PEL/share-acc", id, &k);
    return pel_state_get_counter(st, &k, acc);
}

int pel_shares_class(const pel_state *st, const pel_obj_id *id, pel_share_class *out, uint64_t *acc)
{
    pel_key k;
    pel_val val;
    key_id("PEL/share-class", id, &k);
    int rc = pel_state_get(st, &k, &val);
    if (rc == PEL_ENOTFOUND) return PEL_ESHARE_NONE;
    if (!rc) rc = class_decode(val.p, val.len, out);
    return rc ? rc : acc_get(st, id, acc);
}

int pel_shares_holding(const pel_state *st, const pel_obj_id *id, const pel_addr *a,
                       pel_share_holding *out, uint64_t *claimable)
{
    pel_key k;
    pel_val val;
    uint64_t acc;
    memset(out, 0, sizeof *out);
    *claimable = 0;
    int rc = acc_get(st, id, &acc);
    if (rc) return rc;
    key_hold(id, a, &k);
    rc = pel_state_get(st, &k, &val);
    if (rc == PEL_ENOTFOUND) return 0;
    if (!rc) rc = hold_decode(val.p, val.len, out);
    if (rc) return rc;
    settle(out, acc);
    u128 pay = out->owed >> PEL_SHARES_SCALE_BITS;
    *claimable = pay > INT64_MAX ? INT64_MAX : (uint64_t)pay;
    return 0;
}
