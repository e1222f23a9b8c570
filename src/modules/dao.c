/*
 * dao.c - research-funding DAOs (dao.h): records, bodies, the six
 * transactions, proposal actions and milestone release, and the queries.
 */
#include "modules/dao.h"

#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"
#include "ledger/ledger.h"
#include "modules/shares.h"

typedef unsigned __int128 u128;

enum { DELIVERABLE_MAX = 256, BPS = 10000 };

/* ==== ids and names ==== */

static void cut(const char *tag, const void *in, size_t n, uint8_t *out, size_t len)
{
    uint8_t h[32];
    if (pel_hash_tagged(tag, in, n, h)) memset(h, 0, sizeof h);
    memcpy(out, h, len);
}

void pel_dao_id_of(const uint8_t txid[32], pel_dao_id *out)
{
    cut("PEL/dao-id", txid, 32, out->b, PEL_DAO_ID_LEN);
}

void pel_dao_id_format(const pel_dao_id *id, char *out)
{
    memcpy(out, "pel:dao:", 8);
    pel_hex_encode(id->b, PEL_DAO_ID_LEN, out + 8);
}

int pel_dao_id_parse(const char *s, pel_dao_id *id)
{
    size_t n;
    if (strncmp(s, "pel:dao:", 8) == 0) s += 8;
    if (strlen(s) != 2 * PEL_DAO_ID_LEN) return PEL_EINVAL;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return PEL_EINVAL;
    return pel_hex_decode(s, 2 * PEL_DAO_ID_LEN, id->b, PEL_DAO_ID_LEN, &n) ? PEL_EINVAL : 0;
}

static const char *const mode_names[] = { "member", "token", "shares" };
static const char *const kind_names[] = { "grant", "transfer", "params", "add", "remove",
                                          "cancel", "release" };

const char *pel_dao_mode_name(int mode)
{
    return mode >= 1 && mode <= 3 ? mode_names[mode - 1] : "?";
}

int pel_dao_mode_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, mode_names[i])) return i + 1;
    return -1;
}

const char *pel_dao_kind_name(int kind)
{
    return kind >= 1 && kind <= 7 ? kind_names[kind - 1] : "?";
}

void pel_dao_treasury(const pel_dao_id *id, pel_addr *out)
{
    cut("PEL/dao-treasury", id->b, PEL_DAO_ID_LEN, out->b, PEL_ADDR_LEN);
}

static void id_num(const pel_dao_id *id, uint32_t n, uint8_t out[PEL_DAO_ID_LEN + 4])
{
    memcpy(out, id->b, PEL_DAO_ID_LEN);
    pel_le_store(out + PEL_DAO_ID_LEN, n, 4);
}

void pel_dao_escrow(const pel_dao_id *id, uint32_t prop, pel_addr *out)
{
    uint8_t in[PEL_DAO_ID_LEN + 4];
    id_num(id, prop, in);
    cut("PEL/dao-escrow", in, sizeof in, out->b, PEL_ADDR_LEN);
}

/* ==== state keys ==== */

static void key_of(const char *tag, const void *in, size_t n, pel_key *k)
{
    if (pel_hash_tagged(tag, in, n, k->b)) memset(k, 0, sizeof *k);
}

static void key_dao(const char *tag, const pel_dao_id *id, pel_key *k)
{
    key_of(tag, id->b, PEL_DAO_ID_LEN, k);
}

static void key_addr(const char *tag, const pel_dao_id *id, const pel_addr *a, pel_key *k)
{
    uint8_t in[PEL_DAO_ID_LEN + PEL_ADDR_LEN];
    memcpy(in, id->b, PEL_DAO_ID_LEN);
    memcpy(in + PEL_DAO_ID_LEN, a->b, PEL_ADDR_LEN);
    key_of(tag, in, sizeof in, k);
}

static void key_prop(const char *tag, const pel_dao_id *id, uint32_t n, pel_key *k)
{
    uint8_t in[PEL_DAO_ID_LEN + 4];
    id_num(id, n, in);
    key_of(tag, in, sizeof in, k);
}

static void key_tally(const pel_dao_id *id, uint32_t n, uint8_t choice, pel_key *k)
{
    uint8_t in[PEL_DAO_ID_LEN + 5];
    id_num(id, n, in);
    in[PEL_DAO_ID_LEN + 4] = choice;
    key_of("PEL/dao-tally", in, sizeof in, k);
}

static void key_vote(const pel_dao_id *id, uint32_t n, const pel_addr *a, pel_key *k)
{
    uint8_t in[PEL_DAO_ID_LEN + 4 + PEL_ADDR_LEN];
    id_num(id, n, in);
    memcpy(in + PEL_DAO_ID_LEN + 4, a->b, PEL_ADDR_LEN);
    key_of("PEL/dao-vote", in, sizeof in, k);
}

/* ==== codec: helpers ==== */

static void dec_addr(pel_dec *d, pel_addr *a)
{
    const uint8_t *raw;
    if (pel_dec_raw(d, PEL_ADDR_LEN, &raw) == 0) memcpy(a->b, raw, PEL_ADDR_LEN);
    else memset(a, 0, sizeof *a);
}

static void dec_raw16(pel_dec *d, uint8_t *out)
{
    const uint8_t *raw;
    if (pel_dec_raw(d, 16, &raw) == 0) memcpy(out, raw, 16);
    else memset(out, 0, 16);
}

static void dec_text(pel_dec *d, size_t max, const char **p, uint32_t *len)
{
    const uint8_t *raw;
    size_t n;
    pel_dec_bytes(d, max, &raw, &n);
    *p = (const char *)raw;
    *len = (uint32_t)n;
}

/* A list of up to max addresses, strictly ascending. */
static int dec_addrs(pel_dec *d, uint32_t min, uint32_t max, pel_addr *out, uint32_t *n)
{
    pel_dec_count(d, max, n);
    for (uint32_t i = 0; i < *n; i++) {
        dec_addr(d, &out[i]);
        if (!d->err && i && memcmp(out[i - 1].b, out[i].b, PEL_ADDR_LEN) >= 0) return PEL_ENONCANON;
    }
    return d->err ? d->err : *n < min ? PEL_EINVAL : 0;
}

static int enc_addrs(pel_buf *b, const pel_addr *a, uint32_t n)
{
    int rc = pel_enc_u32(b, n);
    for (uint32_t i = 0; !rc && i < n; i++) rc = pel_enc_raw(b, a[i].b, PEL_ADDR_LEN);
    return rc;
}

static int bad(const char **why, int code, const char *msg)
{
    *why = msg;
    return code;
}

static int check_params(uint64_t period, uint16_t quorum, uint16_t threshold, const char **why)
{
    if (period < 1 || period > PEL_DAO_PERIOD_MAX)
        return bad(why, PEL_EINVAL, "the voting period is 1 to 10000000 blocks");
    if (quorum > BPS) return bad(why, PEL_EINVAL, "the quorum is 0 to 10000 basis points");
    if (threshold < 1 || threshold > BPS)
        return bad(why, PEL_EINVAL, "the approval threshold is 1 to 10000 basis points");
    return 0;
}

/* ==== codec: the DAO (create body, and the record = body's fields with
 * creator and height before the members) ==== */

static int dao_fields_encode(const pel_dao *d, bool record, pel_buf *b)
{
    int rc = pel_enc_bytes(b, d->name, d->name_len);
    if (!rc) rc = pel_enc_u8(b, d->mode);
    if (!rc) rc = pel_enc_raw(b, d->share_obj.b, PEL_OBJ_ID_LEN);
    if (!rc) rc = pel_enc_u64(b, d->period);
    if (!rc) rc = pel_enc_u16(b, d->quorum_bps);
    if (!rc) rc = pel_enc_u16(b, d->threshold_bps);
    if (!rc && record) rc = pel_enc_raw(b, d->creator.b, PEL_ADDR_LEN);
    if (!rc && record) rc = pel_enc_u64(b, d->height);
    return rc ? rc : enc_addrs(b, d->members, d->n_members);
}

static int dao_fields_decode(pel_dec *d, bool record, pel_dao *out, const char **why)
{
    static const uint8_t zero[PEL_OBJ_ID_LEN];
    memset(out, 0, offsetof(pel_dao, members));
    dec_text(d, PEL_DAO_NAME_MAX, &out->name, &out->name_len);
    pel_dec_u8(d, &out->mode);
    dec_raw16(d, out->share_obj.b);
    pel_dec_u64(d, &out->period);
    pel_dec_u16(d, &out->quorum_bps);
    pel_dec_u16(d, &out->threshold_bps);
    if (record) {
        dec_addr(d, &out->creator);
        pel_dec_u64(d, &out->height);
    }
    int rc = dec_addrs(d, 1, PEL_DAO_MEMBERS_MAX, out->members, &out->n_members);
    if (!rc) rc = pel_dec_finish(d);
    if (rc) return bad(why, rc, "malformed DAO (members must be 1 to 256 distinct addresses in ascending order)");
    if (out->name_len == 0) return bad(why, PEL_EINVAL, "a DAO needs a name");
    if (out->mode < PEL_DAO_MEMBER || out->mode > PEL_DAO_SHARES)
        return bad(why, PEL_EINVAL, "the DAO mode is member, token or shares");
    if ((out->mode == PEL_DAO_SHARES) != (memcmp(out->share_obj.b, zero, PEL_OBJ_ID_LEN) != 0))
        return bad(why, PEL_EINVAL, "a share object is given in shares mode, and only then");
    return check_params(out->period, out->quorum_bps, out->threshold_bps, why);
}

int pel_dao_create_body(const pel_dao *d, pel_buf *out)
{
    return dao_fields_encode(d, false, out);
}

static int dao_decode(const uint8_t *p, size_t len, void *out)
{
    const char *why;
    pel_dec d;
    pel_dec_init(&d, p, len);
    return dao_fields_decode(&d, true, out, &why) ? PEL_ECORRUPT : 0;
}

static int dao_encode(const void *rec, pel_buf *out)
{
    return dao_fields_encode(rec, true, out);
}

bool pel_dao_is_member(const pel_dao *d, const pel_addr *a)
{
    uint32_t lo = 0, hi = d->n_members;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(d->members[mid].b, a->b, PEL_ADDR_LEN);
        if (c == 0) return true;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

/* ==== codec: actions and proposals ==== */

static int action_encode(const pel_dao_action *a, pel_buf *b)
{
    int rc = pel_enc_u8(b, a->kind);
    switch (a->kind) {
    case PEL_DAO_GRANT:
        if (!rc) rc = pel_enc_raw(b, a->addr.b, PEL_ADDR_LEN);
        if (!rc) rc = enc_addrs(b, a->reviewers, a->n_reviewers);
        if (!rc) rc = pel_enc_u32(b, a->n_milestones);
        for (uint32_t i = 0; !rc && i < a->n_milestones; i++) {
            rc = pel_enc_u64(b, a->milestones[i].amount);
            if (!rc) rc = pel_enc_bytes(b, a->milestones[i].deliverable, a->milestones[i].deliverable_len);
        }
        return rc;
    case PEL_DAO_TRANSFER:
        if (!rc) rc = pel_enc_raw(b, a->addr.b, PEL_ADDR_LEN);
        return rc ? rc : pel_enc_u64(b, a->amount);
    case PEL_DAO_PARAMS:
        if (!rc) rc = pel_enc_u64(b, a->period);
        if (!rc) rc = pel_enc_u16(b, a->quorum_bps);
        return rc ? rc : pel_enc_u16(b, a->threshold_bps);
    case PEL_DAO_ADD:
    case PEL_DAO_REMOVE:
        return rc ? rc : pel_enc_raw(b, a->addr.b, PEL_ADDR_LEN);
    case PEL_DAO_CANCEL:
        return rc ? rc : pel_enc_u32(b, a->grant);
    default:   /* release */
        if (!rc) rc = pel_enc_u32(b, a->grant);
        if (!rc) rc = pel_enc_u8(b, a->milestone);
        return rc ? rc : pel_enc_raw(b, a->deliverable.b, PEL_OBJ_ID_LEN);
    }
}

/* The action at d's position (the rest of the input): decoded and checked. */
static int action_decode(pel_dec *d, pel_dao_action *a, const char **why)
{
    int rc = 0;
    memset(a, 0, sizeof *a);
    pel_dec_u8(d, &a->kind);
    switch (a->kind) {
    case PEL_DAO_GRANT: {
        uint64_t total = 0;
        dec_addr(d, &a->addr);
        rc = dec_addrs(d, 0, PEL_DAO_REVIEWERS_MAX, a->reviewers, &a->n_reviewers);
        if (rc) return bad(why, rc, "malformed grant (at most 8 reviewers, distinct, in ascending order)");
        pel_dec_count(d, PEL_DAO_MILESTONES_MAX, &a->n_milestones);
        for (uint32_t i = 0; i < a->n_milestones; i++) {
            pel_dao_milestone *m = &a->milestones[i];
            pel_dec_u64(d, &m->amount);
            dec_text(d, DELIVERABLE_MAX, &m->deliverable, &m->deliverable_len);
            if (!d->err && (m->amount == 0 || m->amount > INT64_MAX - total))
                return bad(why, PEL_EINVAL, "every milestone pays at least 1, and a grant at most 2^63-1 in all");
            total += m->amount;
        }
        if (!d->err && a->n_milestones == 0) return bad(why, PEL_EINVAL, "a grant has 1 to 16 milestones");
        break;
    }
    case PEL_DAO_TRANSFER:
        dec_addr(d, &a->addr);
        pel_dec_u64(d, &a->amount);
        if (!d->err && (a->amount == 0 || a->amount > INT64_MAX))
            return bad(why, PEL_EINVAL, "a treasury transfer moves 1 to 2^63-1 units");
        break;
    case PEL_DAO_PARAMS:
        pel_dec_u64(d, &a->period);
        pel_dec_u16(d, &a->quorum_bps);
        pel_dec_u16(d, &a->threshold_bps);
        if (!d->err && (rc = check_params(a->period, a->quorum_bps, a->threshold_bps, why))) return rc;
        break;
    case PEL_DAO_ADD:
    case PEL_DAO_REMOVE:
        dec_addr(d, &a->addr);
        break;
    case PEL_DAO_CANCEL:
    case PEL_DAO_RELEASE:
        pel_dec_u32(d, &a->grant);
        if (a->kind == PEL_DAO_RELEASE) {
            pel_dec_u8(d, &a->milestone);
            dec_raw16(d, a->deliverable.b);
        }
        if (!d->err && a->grant == 0) return bad(why, PEL_EINVAL, "proposals are numbered from 1");
        if (!d->err && a->milestone >= PEL_DAO_MILESTONES_MAX)
            return bad(why, PEL_EINVAL, "a grant has at most 16 milestones");
        break;
    default:
        if (!d->err) return bad(why, PEL_EINVAL, "unknown proposal kind");
    }
    return 0;
}

static int proposal_encode(const void *rec, pel_buf *b)
{
    const pel_dao_proposal *p = rec;
    int rc = pel_enc_raw(b, p->proposer.b, PEL_ADDR_LEN);
    if (!rc) rc = pel_enc_u64(b, p->height);
    if (!rc) rc = pel_enc_u64(b, p->deadline);
    if (!rc) rc = pel_enc_u64(b, p->total_weight);
    if (!rc) rc = pel_enc_u16(b, p->quorum_bps);
    if (!rc) rc = pel_enc_u16(b, p->threshold_bps);
    if (!rc) rc = pel_enc_u64(b, p->executed);
    if (!rc) rc = pel_enc_bytes(b, p->text, p->text_len);
    return rc ? rc : action_encode(&p->act, b);
}

static int proposal_decode(const uint8_t *p, size_t len, void *rec)
{
    pel_dao_proposal *o = rec;
    const char *why;
    pel_dec d;
    pel_dec_init(&d, p, len);
    dec_addr(&d, &o->proposer);
    pel_dec_u64(&d, &o->height);
    pel_dec_u64(&d, &o->deadline);
    pel_dec_u64(&d, &o->total_weight);
    pel_dec_u16(&d, &o->quorum_bps);
    pel_dec_u16(&d, &o->threshold_bps);
    pel_dec_u64(&d, &o->executed);
    dec_text(&d, PEL_DAO_TEXT_MAX, &o->text, &o->text_len);
    int rc = action_decode(&d, &o->act, &why);
    if (!rc) rc = pel_dec_finish(&d);
    return rc ? PEL_ECORRUPT : 0;
}

/* Grant progress: funded u64 ‖ cancelled u8 ‖ released u16 ‖ 16 ids. */
enum { GRANT_LEN = 8 + 1 + 2 + PEL_DAO_MILESTONES_MAX * PEL_OBJ_ID_LEN };

static int grant_decode(const uint8_t *p, size_t len, void *rec)
{
    pel_dao_grant *g = rec;
    if (len != GRANT_LEN || p[8] > 1) return PEL_ECORRUPT;
    g->funded = pel_le_load(p, 8);
    g->cancelled = p[8];
    g->released = (uint16_t)pel_le_load(p + 9, 2);
    for (int i = 0; i < PEL_DAO_MILESTONES_MAX; i++)
        memcpy(g->deliverable[i].b, p + 11 + i * PEL_OBJ_ID_LEN, PEL_OBJ_ID_LEN);
    return 0;
}

static int grant_encode(const void *rec, pel_buf *b)
{
    const pel_dao_grant *g = rec;
    uint8_t out[GRANT_LEN];
    pel_le_store(out, g->funded, 8);
    out[8] = g->cancelled;
    pel_le_store(out + 9, g->released, 2);
    for (int i = 0; i < PEL_DAO_MILESTONES_MAX; i++)
        memcpy(out + 11 + i * PEL_OBJ_ID_LEN, g->deliverable[i].b, PEL_OBJ_ID_LEN);
    return pel_enc_raw(b, out, sizeof out);
}

/* ==== bodies ==== */

typedef struct body {
    pel_dao_id id;
    pel_dao dao;               /* create */
    uint64_t amount;           /* deposit */
    uint32_t prop;             /* vote, execute, release */
    uint8_t choice;            /* vote */
    uint8_t milestone;         /* release */
    pel_obj_id deliverable;    /* release */
    const char *text; uint32_t text_len;   /* propose */
    pel_dao_action act;        /* propose */
} body;

static int decode(uint16_t type, const uint8_t *p, uint32_t len, body *b, const char **why)
{
    pel_dec d;
    int rc = 0;
    *why = NULL;
    pel_dec_init(&d, p, len);
    if (type == PEL_TX_DAO_CREATE) return dao_fields_decode(&d, false, &b->dao, why);
    memset(b, 0, offsetof(body, dao));
    dec_raw16(&d, b->id.b);
    switch (type) {
    case PEL_TX_DAO_DEPOSIT:
        pel_dec_u64(&d, &b->amount);
        if (!d.err && (b->amount == 0 || b->amount > INT64_MAX))
            return bad(why, PEL_EINVAL, "a deposit is 1 to 2^63-1 units");
        break;
    case PEL_TX_DAO_PROPOSE:
        dec_text(&d, PEL_DAO_TEXT_MAX, &b->text, &b->text_len);
        if ((rc = action_decode(&d, &b->act, why)) != 0) return rc;
        break;
    case PEL_TX_DAO_VOTE:
        pel_dec_u32(&d, &b->prop);
        pel_dec_u8(&d, &b->choice);
        if (!d.err && (b->choice < PEL_DAO_YES || b->choice > PEL_DAO_ABSTAIN))
            return bad(why, PEL_EINVAL, "a vote is yes, no or abstain");
        break;
    case PEL_TX_DAO_EXECUTE:
        pel_dec_u32(&d, &b->prop);
        break;
    default:   /* release */
        pel_dec_u32(&d, &b->prop);
        pel_dec_u8(&d, &b->milestone);
        dec_raw16(&d, b->deliverable.b);
        if (!d.err && b->milestone >= PEL_DAO_MILESTONES_MAX)
            return bad(why, PEL_EINVAL, "a grant has at most 16 milestones");
    }
    rc = pel_dec_finish(&d);
    if (rc) return bad(why, rc, "malformed DAO transaction");
    if (type != PEL_TX_DAO_DEPOSIT && type != PEL_TX_DAO_PROPOSE && b->prop == 0)
        return bad(why, PEL_EINVAL, "proposals are numbered from 1");
    return 0;
}

int pel_dao_deposit_body(const pel_dao_id *id, uint64_t amount, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_DAO_ID_LEN);
    return rc ? rc : pel_enc_u64(out, amount);
}

int pel_dao_propose_body(const pel_dao_id *id, const char *text, const pel_dao_action *a, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_DAO_ID_LEN);
    if (!rc) rc = pel_enc_bytes(out, text, text ? strlen(text) : 0);
    return rc ? rc : action_encode(a, out);
}

int pel_dao_vote_body(const pel_dao_id *id, uint32_t prop, uint8_t choice, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_DAO_ID_LEN);
    if (!rc) rc = pel_enc_u32(out, prop);
    return rc ? rc : pel_enc_u8(out, choice);
}

int pel_dao_execute_body(const pel_dao_id *id, uint32_t prop, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_DAO_ID_LEN);
    return rc ? rc : pel_enc_u32(out, prop);
}

int pel_dao_release_body(const pel_dao_id *id, uint32_t grant, uint8_t milestone,
                         const pel_obj_id *deliverable, pel_buf *out)
{
    int rc = pel_enc_raw(out, id->b, PEL_DAO_ID_LEN);
    if (!rc) rc = pel_enc_u32(out, grant);
    if (!rc) rc = pel_enc_u8(out, milestone);
    return rc ? rc : pel_enc_raw(out, deliverable->b, PEL_OBJ_ID_LEN);
}

static int dao_check(uint16_t type, const uint8_t *p, uint32_t len, const char **why)
{
    body *b = malloc(sizeof *b);
    if (!b) return PEL_ENOMEM;
    int rc = decode(type, p, len, b, why);
    free(b);
    return rc;
}

/* A deposit takes its amount from the sender. */
static uint64_t dao_spend(uint16_t type, const uint8_t *p, uint32_t len)
{
    pel_dec d;
    const uint8_t *raw;
    uint64_t amount = 0;
    if (type != PEL_TX_DAO_DEPOSIT) return 0;
    pel_dec_init(&d, p, len);
    pel_dec_raw(&d, PEL_DAO_ID_LEN, &raw);
    pel_dec_u64(&d, &amount);
    return d.err || pel_dec_finish(&d) || amount > INT64_MAX ? 0 : amount;
}

/* ==== execution ==== */

static int emit(pel_view *v, uint16_t type, const pel_dao_id *id, uint32_t prop,
                const pel_addr *who, uint64_t value)
{
    uint8_t ev[1 + 1 + PEL_DAO_ID_LEN + 4 + PEL_ADDR_LEN + 8];
    ev[0] = PEL_EV_DAO;
    ev[1] = (uint8_t)(type - 32);
    memcpy(ev + 2, id->b, PEL_DAO_ID_LEN);
    pel_le_store(ev + 18, prop, 4);
    memcpy(ev + 22, who->b, PEL_ADDR_LEN);
    pel_le_store(ev + 42, value, 8);
    return pel_view_emit(v, ev, sizeof ev);
}

int pel_dao_event(const uint8_t *ev, size_t len, uint8_t *op, pel_dao_id *id, uint32_t *prop,
                  pel_addr *who, uint64_t *value)
{
    if (len != 50 || ev[0] != PEL_EV_DAO || ev[1] < 1 || ev[1] > 6) return PEL_EINVAL;
    *op = ev[1];
    memcpy(id->b, ev + 2, PEL_DAO_ID_LEN);
    *prop = (uint32_t)pel_le_load(ev + 18, 4);
    memcpy(who->b, ev + 22, PEL_ADDR_LEN);
    *value = pel_le_load(ev + 42, 8);
    return 0;
}

static int dao_view(pel_view *v, const pel_dao_id *id, pel_dao *d)
{
    pel_key k;
    key_dao("PEL/dao", id, &k);
    return pel_module_get(v, &k, PEL_EDAO_UNKNOWN, dao_decode, d);
}

static int dao_put(pel_view *v, const pel_dao_id *id, const pel_dao *d)
{
    pel_key k;
    key_dao("PEL/dao", id, &k);
    return pel_module_put(v, &k, dao_encode, d);
}

static int prop_view(pel_view *v, const pel_dao_id *id, uint32_t n, pel_dao_proposal *p)
{
    pel_key k;
    key_prop("PEL/dao-prop", id, n, &k);
    return pel_module_get(v, &k, PEL_EDAO_PROP, proposal_decode, p);
}

static int grant_view(pel_view *v, const pel_dao_id *id, uint32_t n, pel_dao_grant *g)
{
    pel_key k;
    key_prop("PEL/dao-grant", id, n, &k);
    return pel_module_get(v, &k, PEL_EGRANT_STATE, grant_decode, g);
}

static int grant_put(pel_view *v, const pel_dao_id *id, uint32_t n, const pel_dao_grant *g)
{
    pel_key k;
    key_prop("PEL/dao-grant", id, n, &k);
    return pel_module_put(v, &k, grant_encode, g);
}

static int counter_view(pel_view *v, const pel_key *k, uint64_t *out)
{
    return pel_view_get_u64(v, k, out);
}

/* The total weight now (the quorum base of a new proposal). */
static int total_view(pel_view *v, const pel_dao_id *id, const pel_dao *d, uint64_t *out)
{
    pel_key k;
    if (d->mode == PEL_DAO_MEMBER) { *out = d->n_members; return 0; }
    if (d->mode == PEL_DAO_TOKEN) {
        key_dao("PEL/dao-weight", id, &k);
        return counter_view(v, &k, out);
    }
    pel_share_class c;
    int rc = pel_shares_class_view(v, &d->share_obj, &c);
    *out = rc ? 0 : c.shares;
    return rc;
}

static int stake_view(pel_view *v, const pel_dao_id *id, const pel_addr *a, uint64_t *out)
{
    pel_key k;
    key_addr("PEL/dao-stake", id, a, &k);
    return counter_view(v, &k, out);
}

static int exec_create(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, body *b)
{
    pel_dao_id id;
    pel_dao_id_of(tx->id, &id);
    b->dao.creator = tx->from;
    b->dao.height = c->height;
    if (b->dao.mode == PEL_DAO_SHARES) {
        int rc = pel_shares_exists_view(v, &b->dao.share_obj);
        if (rc < 0) return rc;
        if (rc == 0) return PEL_ESHARE_NONE;
    }
    int rc = dao_put(v, &id, &b->dao);
    return rc ? rc : emit(v, tx->type, &id, 0, &tx->from, 0);
}

static int exec_deposit(const pel_tx *tx, pel_view *v, const body *b, const pel_dao *d)
{
    pel_addr treasury;
    pel_key k;
    pel_dao_treasury(&b->id, &treasury);
    int rc = pel_ledger_move(v, &tx->from, &treasury, b->amount);
    key_addr("PEL/dao-stake", &b->id, &tx->from, &k);
    if (!rc) rc = pel_view_delta_add(v, &k, (int64_t)b->amount, UINT64_MAX);
    if (!rc && d->mode == PEL_DAO_TOKEN && pel_dao_is_member(d, &tx->from)) {
        key_dao("PEL/dao-weight", &b->id, &k);
        rc = pel_view_delta_add(v, &k, (int64_t)b->amount, UINT64_MAX);
    }
    if (rc == PEL_EBOUND) return PEL_ERANGE;
    return rc ? rc : emit(v, tx->type, &b->id, 0, &tx->from, b->amount);
}

static int exec_propose(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, const body *b,
                        const pel_dao *d)
{
    pel_dao_proposal p;
    pel_key k;
    uint64_t n;
    if (!pel_dao_is_member(d, &tx->from)) return PEL_EDAO_MEMBER;
    key_dao("PEL/dao-nprop", &b->id, &k);
    int rc = pel_view_get_u64(v, &k, &n);
    if (!rc && n >= UINT32_MAX) rc = PEL_ERANGE;
    if (!rc) rc = pel_view_put_u64(v, &k, ++n);
    memset(&p, 0, sizeof p);
    p.proposer = tx->from;
    p.height = c->height;
    p.deadline = c->height + d->period;
    p.quorum_bps = d->quorum_bps;
    p.threshold_bps = d->threshold_bps;
    p.text = b->text;
    p.text_len = b->text_len;
    p.act = b->act;
    if (!rc) rc = total_view(v, &b->id, d, &p.total_weight);
    key_prop("PEL/dao-prop", &b->id, (uint32_t)n, &k);
    if (!rc) rc = pel_module_put(v, &k, proposal_encode, &p);
    return rc ? rc : emit(v, tx->type, &b->id, (uint32_t)n, &tx->from, 0);
}

static int exec_vote(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, const body *b,
                     const pel_dao *d)
{
    pel_dao_proposal p;
    pel_key k;
    pel_val old;
    uint64_t w = 1;
    int rc = prop_view(v, &b->id, b->prop, &p);
    if (rc) return rc;
    if (c->height > p.deadline) return PEL_EDAO_CLOSED;
    if (!pel_dao_is_member(d, &tx->from)) return PEL_EDAO_MEMBER;
    key_vote(&b->id, b->prop, &tx->from, &k);
    rc = pel_view_get(v, &k, &old);
    if (rc == 0) return PEL_EDAO_VOTED;
    if (rc != PEL_ENOTFOUND) return rc;
    rc = 0;
    if (d->mode == PEL_DAO_TOKEN) rc = stake_view(v, &b->id, &tx->from, &w);
    else if (d->mode == PEL_DAO_SHARES) rc = pel_shares_lock(v, &d->share_obj, &tx->from, p.deadline, &w);
    if (rc) return rc;
    if (w == 0) return PEL_EDAO_WEIGHT;
    uint8_t rec[1 + 8 + 8];
    rec[0] = b->choice;
    pel_le_store(rec + 1, w, 8);
    pel_le_store(rec + 9, c->height, 8);
    rc = pel_view_put(v, &k, rec, sizeof rec);
    key_tally(&b->id, b->prop, b->choice, &k);
    if (!rc) rc = w > INT64_MAX ? PEL_ERANGE : pel_view_delta_add(v, &k, (int64_t)w, UINT64_MAX);
    if (rc == PEL_EBOUND) return PEL_ERANGE;
    return rc ? rc : emit(v, tx->type, &b->id, b->prop, &tx->from, b->choice);
}

bool pel_dao_passes(const pel_dao_proposal *p, const uint64_t t[3])
{
    u128 voted = (u128)t[0] + t[1] + t[2];
    if (voted * BPS < (u128)p->quorum_bps * p->total_weight) return false;
    return t[0] > 0 && (u128)t[0] * BPS >= (u128)p->threshold_bps * ((u128)t[0] + t[1]);
}

/* Release milestone m of grant n to its recipient (the callers checked who
 * may). */
static int release(const pel_module_ctx *c, pel_view *v, const pel_dao_id *id, uint32_t n,
                   const pel_dao_proposal *g, uint8_t m, const pel_obj_id *deliverable)
{
    pel_dao_grant gr;
    pel_obj_head h;
    pel_addr escrow;
    int rc = grant_view(v, id, n, &gr);
    if (rc) return rc;
    if (gr.cancelled) return PEL_EGRANT_STATE;
    if (m >= g->act.n_milestones) return PEL_EINVAL;
    if (gr.released & (1u << m)) return PEL_EGRANT_RELEASED;
    rc = pel_registry_head_view(v, deliverable, &h);
    if (rc) return rc;
    if (!pel_registry_controls(&h, &g->act.addr)) return PEL_EGRANT_DELIVERABLE;
    pel_buf raw;
    pel_obj_version ver;
    pel_buf_init(&raw);
    rc = pel_registry_version_view(v, deliverable, h.versions, &raw, &ver);
    bool old = rc == 0 && ver.height < gr.funded;
    pel_buf_free(&raw);
    if (rc) return rc;
    if (old) return PEL_EGRANT_DELIVERABLE;
    pel_dao_escrow(id, n, &escrow);
    rc = pel_ledger_move(v, &escrow, &g->act.addr, g->act.milestones[m].amount);
    if (rc == PEL_EFUNDS) return PEL_ECORRUPT;   /* the escrow always covers its milestones */
    if (rc) return rc;
    gr.released |= (uint16_t)(1u << m);
    gr.deliverable[m] = *deliverable;
    (void)c;
    return grant_put(v, id, n, &gr);
}

/* The grant proposal n (PEL_EDAO_PROP if absent or not a grant). */
static int grant_prop(pel_view *v, const pel_dao_id *id, uint32_t n, pel_dao_proposal *g)
{
    int rc = prop_view(v, id, n, g);
    return rc ? rc : g->act.kind == PEL_DAO_GRANT ? 0 : PEL_EDAO_PROP;
}

static int act_members(pel_view *v, const pel_dao_id *id, pel_dao *d, const pel_dao_action *a)
{
    pel_key k;
    uint32_t i = 0;
    while (i < d->n_members && memcmp(d->members[i].b, a->addr.b, PEL_ADDR_LEN) < 0) i++;
    bool present = i < d->n_members && memcmp(d->members[i].b, a->addr.b, PEL_ADDR_LEN) == 0;
    if (a->kind == PEL_DAO_ADD) {
        if (present || d->n_members == PEL_DAO_MEMBERS_MAX) return PEL_EDAO_MEMBERS;
        memmove(&d->members[i + 1], &d->members[i], (d->n_members - i) * sizeof d->members[0]);
        d->members[i] = a->addr;
        d->n_members++;
    } else {
        if (!present || d->n_members == 1) return PEL_EDAO_MEMBERS;
        memmove(&d->members[i], &d->members[i + 1], (d->n_members - i - 1) * sizeof d->members[0]);
        d->n_members--;
    }
    int rc = 0;
    if (d->mode == PEL_DAO_TOKEN) {
        uint64_t stake;
        rc = stake_view(v, id, &a->addr, &stake);
        key_dao("PEL/dao-weight", id, &k);
        if (!rc && stake)
            rc = stake > INT64_MAX ? PEL_ECORRUPT
                 : pel_view_delta_add(v, &k, a->kind == PEL_DAO_ADD ? (int64_t)stake : -(int64_t)stake,
                                      UINT64_MAX);
        if (rc == PEL_EBOUND) rc = PEL_ECORRUPT;
    }
    return rc ? rc : dao_put(v, id, d);
}

static int act_cancel(pel_view *v, const pel_dao_id *id, uint32_t n)
{
    pel_dao_proposal g;
    pel_dao_grant gr;
    pel_addr escrow, treasury;
    uint64_t left = 0;
    int rc = grant_prop(v, id, n, &g);
    if (!rc) rc = grant_view(v, id, n, &gr);
    if (rc) return rc;
    if (gr.cancelled) return PEL_EGRANT_STATE;
    for (uint32_t i = 0; i < g.act.n_milestones; i++)
        if (!(gr.released & (1u << i))) left += g.act.milestones[i].amount;
    pel_dao_escrow(id, n, &escrow);
    pel_dao_treasury(id, &treasury);
    if (left) {
        rc = pel_ledger_move(v, &escrow, &treasury, left);
        if (rc == PEL_EFUNDS) return PEL_ECORRUPT;
        if (rc) return rc;
    }
    gr.cancelled = true;
    return grant_put(v, id, n, &gr);
}

static int act_run(const pel_module_ctx *c, pel_view *v, const pel_dao_id *id, uint32_t n,
                   pel_dao *d, const pel_dao_proposal *p)
{
    const pel_dao_action *a = &p->act;
    pel_addr treasury, escrow;
    pel_dao_proposal g;
    int rc;
    pel_dao_treasury(id, &treasury);
    switch (a->kind) {
    case PEL_DAO_GRANT: {
        uint64_t total = 0;
        pel_dao_grant gr;
        for (uint32_t i = 0; i < a->n_milestones; i++) total += a->milestones[i].amount;
        pel_dao_escrow(id, n, &escrow);
        rc = pel_ledger_move(v, &treasury, &escrow, total);
        if (rc == PEL_EFUNDS) return PEL_EDAO_FUNDS;
        memset(&gr, 0, sizeof gr);
        gr.funded = c->height;
        return rc ? rc : grant_put(v, id, n, &gr);
    }
    case PEL_DAO_TRANSFER:
        rc = pel_ledger_move(v, &treasury, &a->addr, a->amount);
        return rc == PEL_EFUNDS ? PEL_EDAO_FUNDS : rc;
    case PEL_DAO_PARAMS:
        d->period = a->period;
        d->quorum_bps = a->quorum_bps;
        d->threshold_bps = a->threshold_bps;
        return dao_put(v, id, d);
    case PEL_DAO_ADD:
    case PEL_DAO_REMOVE:
        return act_members(v, id, d, a);
    case PEL_DAO_CANCEL:
        return act_cancel(v, id, a->grant);
    default:   /* release, approved by the vote */
        rc = grant_prop(v, id, a->grant, &g);
        return rc ? rc : release(c, v, id, a->grant, &g, a->milestone, &a->deliverable);
    }
}

static int exec_execute(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, const body *b,
                        pel_dao *d)
{
    pel_dao_proposal p;
    pel_key k;
    uint64_t t[3];
    int rc = prop_view(v, &b->id, b->prop, &p);
    if (rc) return rc;
    if (p.executed) return PEL_EDAO_DONE;
    if (c->height <= p.deadline) return PEL_EDAO_OPEN;
    for (uint8_t i = 0; !rc && i < 3; i++) {
        key_tally(&b->id, b->prop, (uint8_t)(i + 1), &k);
        rc = counter_view(v, &k, &t[i]);
    }
    if (rc) return rc;
    if (!pel_dao_passes(&p, t)) return PEL_EDAO_REJECTED;
    rc = act_run(c, v, &b->id, b->prop, d, &p);
    if (rc) return rc;
    p.executed = c->height;
    key_prop("PEL/dao-prop", &b->id, b->prop, &k);
    rc = pel_module_put(v, &k, proposal_encode, &p);
    return rc ? rc : emit(v, tx->type, &b->id, b->prop, &tx->from, 0);
}

static int exec_release(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, const body *b)
{
    pel_dao_proposal g;
    int rc = grant_prop(v, &b->id, b->prop, &g);
    if (rc) return rc;
    bool reviewer = false;
    for (uint32_t i = 0; i < g.act.n_reviewers; i++)
        reviewer |= memcmp(g.act.reviewers[i].b, tx->from.b, PEL_ADDR_LEN) == 0;
    if (!reviewer) return PEL_EGRANT_REVIEWER;
    rc = release(c, v, &b->id, b->prop, &g, b->milestone, &b->deliverable);
    return rc ? rc : emit(v, tx->type, &b->id, b->prop, &tx->from, b->milestone);
}

static int run(const pel_module_ctx *c, const pel_tx *tx, pel_view *v, body *b, pel_dao *d)
{
    const char *why;
    int rc = decode(tx->type, tx->body, tx->body_len, b, &why);
    if (rc) return rc;
    if (tx->type == PEL_TX_DAO_CREATE) return exec_create(c, tx, v, b);
    if (tx->type == PEL_TX_DAO_RELEASE) {
        rc = dao_view(v, &b->id, d);
        return rc ? rc : exec_release(c, tx, v, b);
    }
    rc = dao_view(v, &b->id, d);
    if (rc) return rc;
    switch (tx->type) {
    case PEL_TX_DAO_DEPOSIT: return exec_deposit(tx, v, b, d);
    case PEL_TX_DAO_PROPOSE: return exec_propose(c, tx, v, b, d);
    case PEL_TX_DAO_VOTE: return exec_vote(c, tx, v, b, d);
    default: return exec_execute(c, tx, v, b, d);
    }
}

static int dao_exec(const pel_module_ctx *c, const pel_tx *tx, pel_view *v)
{
    /* The body and the DAO record (up to 256 members) are large: heap, so
     * the engines' worker stacks stay small. */
    body *b = malloc(sizeof *b);
    pel_dao *d = malloc(sizeof *d);
    int rc = b && d ? run(c, tx, v, b, d) : PEL_ENOMEM;
    free(b);
    free(d);
    return rc;
}

const pel_tx_module pel_dao_module = {
    .name = "dao",
    .first_type = PEL_TX_DAO_CREATE,
    .last_type = PEL_TX_DAO_RELEASE,
    .check = dao_check,
    .exec = dao_exec,
    .spend = dao_spend,
};

/* ==== queries ==== */

static int state_rec(const pel_state *st, const pel_key *k, int absent, pel_buf *raw,
                     int (*dec)(const uint8_t *, size_t, void *), void *out)
{
    pel_val val;
    int rc = pel_state_get(st, k, &val);
    if (rc == PEL_ENOTFOUND) return absent;
    if (rc) return rc;
    if (raw) {
        pel_buf_reset(raw);
        rc = pel_buf_append(raw, val.p, val.len);
        if (rc) return rc;
        return dec(raw->data, raw->len, out);
    }
    return dec(val.p, val.len, out);
}

int pel_dao_get(const pel_state *st, const pel_dao_id *id, pel_dao *out, pel_buf *raw)
{
    pel_key k;
    key_dao("PEL/dao", id, &k);
    return state_rec(st, &k, PEL_EDAO_UNKNOWN, raw, dao_decode, out);
}

int pel_dao_nprops(const pel_state *st, const pel_dao_id *id, uint32_t *out)
{
    pel_key k;
    uint64_t n;
    key_dao("PEL/dao-nprop", id, &k);
    int rc = pel_state_get_counter(st, &k, &n);
    *out = rc ? 0 : (uint32_t)n;
    return rc;
}

int pel_dao_weight(const pel_state *st, const pel_dao_id *id, const pel_dao *d, const pel_addr *a,
                   uint64_t *stake, uint64_t *weight)
{
    pel_key k;
    *weight = 0;
    key_addr("PEL/dao-stake", id, a, &k);
    int rc = pel_state_get_counter(st, &k, stake);
    if (rc || !pel_dao_is_member(d, a)) return rc;
    if (d->mode == PEL_DAO_MEMBER) *weight = 1;
    else if (d->mode == PEL_DAO_TOKEN) *weight = *stake;
    else {
        pel_share_holding h;
        uint64_t claimable;
        rc = pel_shares_holding(st, &d->share_obj, a, &h, &claimable);
        *weight = h.shares;
    }
    return rc;
}

int pel_dao_total_weight(const pel_state *st, const pel_dao_id *id, const pel_dao *d, uint64_t *out)
{
    pel_key k;
    *out = 0;
    if (d->mode == PEL_DAO_MEMBER) { *out = d->n_members; return 0; }
    if (d->mode == PEL_DAO_TOKEN) {
        key_dao("PEL/dao-weight", id, &k);
        return pel_state_get_counter(st, &k, out);
    }
    pel_share_class c;
    uint64_t acc;
    int rc = pel_shares_class(st, &d->share_obj, &c, &acc);
    if (!rc) *out = c.shares;
    return rc;
}

int pel_dao_proposal_get(const pel_state *st, const pel_dao_id *id, uint32_t n,
                         pel_dao_proposal *out, pel_buf *raw)
{
    pel_key k;
    key_prop("PEL/dao-prop", id, n, &k);
    return state_rec(st, &k, PEL_EDAO_PROP, raw, proposal_decode, out);
}

int pel_dao_tally(const pel_state *st, const pel_dao_id *id, uint32_t n, uint64_t out[3])
{
    int rc = 0;
    for (uint8_t i = 0; !rc && i < 3; i++) {
        pel_key k;
        key_tally(id, n, (uint8_t)(i + 1), &k);
        rc = pel_state_get_counter(st, &k, &out[i]);
    }
    return rc;
}

int pel_dao_vote_get(const pel_state *st, const pel_dao_id *id, uint32_t n, const pel_addr *a,
                     uint8_t *choice, uint64_t *weight)
{
    pel_key k;
    pel_val val;
    key_vote(id, n, a, &k);
    int rc = pel_state_get(st, &k, &val);
    if (rc) return rc;
    if (val.len != 17) return PEL_ECORRUPT;
    *choice = val.p[0];
    *weight = pel_le_load(val.p + 1, 8);
    return 0;
}

int pel_dao_grant_get(const pel_state *st, const pel_dao_id *id, uint32_t n, pel_dao_grant *out)
{
    pel_key k;
    key_prop("PEL/dao-grant", id, n, &k);
    return state_rec(st, &k, PEL_ENOTFOUND, NULL, grant_decode, out);
}
