/*
 * dao.c - the DAO JSON-RPC methods (rpc/dao.h), rendering modules/dao.h's
 * records as of the last commit. Amounts, stakes and weights are decimal
 * strings (u64); heights, periods and basis points are numbers.
 */
#include "rpc/dao.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/genesis.h"
#include "modules/dao.h"
#include "node/node.h"
#include "rpc/objects.h"
#include "rpc/reply.h"

/* ---- params ---- */

static int dao_id_param(const cJSON *params, pel_dao_id *id, pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, "dao");
    if (!cJSON_IsString(it) || pel_dao_id_parse(it->valuestring, id))
        return pel_rpc_bad_params(err, "expected {\"dao\": \"pel:dao:<32 hex>\"}");
    return 0;
}

/* params[name], an integer in [min, max]; def when absent and def_ok. */
static int u32_param(const cJSON *params, const char *name, uint32_t min, int def_ok, uint32_t def,
                     uint32_t *out, pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, name);
    uint64_t v;
    *out = def;
    if (!it && def_ok) return 0;
    if (pel_json_u64(it, &v) || v < min || v > UINT32_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "\"%s\" is an integer from %u to %u", name, min, UINT32_MAX);
        return pel_rpc_bad_params(err, msg);
    }
    *out = (uint32_t)v;
    return 0;
}

/* params[name] as an address, if present (*has says so). */
static int addr_param(const cJSON *params, const char *name, pel_addr *a, int *has, pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, name);
    const char *why = NULL;
    char msg[96];
    *has = it != NULL;
    if (!it || (cJSON_IsString(it) && pel_addr_parse(it->valuestring, a, &why) == 0)) return 0;
    snprintf(msg, sizeof msg, "\"%s\" is an address (pel1…)", name);
    return pel_rpc_bad_params(err, msg);
}

/* ---- rendering ---- */

/* A length-delimited text field (names, descriptions, deliverables). */
static void add_text(cJSON *o, const char *name, const char *p, uint32_t len)
{
    char *s = malloc((size_t)len + 1);
    if (!s) return;
    memcpy(s, p, len);
    s[len] = 0;
    cJSON_AddStringToObject(o, name, s);
    free(s);
}

static void add_dao_id(cJSON *o, const char *name, const pel_dao_id *id)
{
    char s[PEL_DAO_ID_STR_LEN + 1];
    pel_dao_id_format(id, s);
    s[PEL_DAO_ID_STR_LEN] = 0;
    cJSON_AddStringToObject(o, name, s);
}

static cJSON *addr_array(const pel_addr *a, uint32_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (uint32_t i = 0; arr && i < n; i++) cJSON_AddItemToArray(arr, pel_rpc_addr_str(&a[i]));
    return arr;
}

static const char *choice_name(uint8_t c)
{
    return c == PEL_DAO_YES ? "yes" : c == PEL_DAO_NO ? "no" : c == PEL_DAO_ABSTAIN ? "abstain" : "?";
}

/* The proposal's status as rpc/dao.h defines it. */
static const char *status_of(const pel_dao_proposal *p, const uint64_t tally[3],
                             uint64_t head)
{
    if (p->executed) return "executed";
    if (head < p->deadline) return "open";
    return pel_dao_passes(p, tally) ? "passed" : "rejected";
}

/* ---- dao ---- */

static void add_settings(cJSON *o, const pel_dao_id *id, const pel_dao *d)
{
    add_dao_id(o, "id", id);
    add_text(o, "name", d->name, d->name_len);
    cJSON_AddStringToObject(o, "mode", pel_dao_mode_name(d->mode));
    if (d->mode == PEL_DAO_SHARES) pel_rpc_add_obj_id(o, "share_object", &d->share_obj, 0);
    cJSON_AddNumberToObject(o, "period", (double)d->period);
    cJSON_AddNumberToObject(o, "quorum_bps", d->quorum_bps);
    cJSON_AddNumberToObject(o, "threshold_bps", d->threshold_bps);
    pel_rpc_add_addr(o, "creator", &d->creator);
    cJSON_AddNumberToObject(o, "height", (double)d->height);
    cJSON_AddItemToObject(o, "members", addr_array(d->members, d->n_members));
}

/* The treasury, its balance, total weight and proposal count; the
 * address's stake and weight when given. */
static int add_state(cJSON *o, pel_chain *c, const pel_state *st, const pel_dao_id *id,
                     const pel_dao *d, const pel_addr *who)
{
    pel_addr tr;
    uint64_t bal, nonce, total, stake, weight;
    uint32_t nprops;
    pel_dao_treasury(id, &tr);
    int rc = pel_chain_account(c, &tr, &bal, &nonce);
    if (!rc) rc = pel_dao_total_weight(st, id, d, &total);
    if (!rc) rc = pel_dao_nprops(st, id, &nprops);
    if (!rc && who) rc = pel_dao_weight(st, id, d, who, &stake, &weight);
    if (rc) return rc;
    pel_rpc_add_addr(o, "treasury", &tr);
    pel_rpc_add_u64s(o, "treasury_balance", bal);
    pel_rpc_add_u64s(o, "total_weight", total);
    cJSON_AddNumberToObject(o, "proposals", nprops);
    if (who) {
        cJSON *x = cJSON_AddObjectToObject(o, "account");
        if (!x) return PEL_ENOMEM;
        pel_rpc_add_addr(x, "address", who);
        cJSON_AddBoolToObject(x, "member", pel_dao_is_member(d, who));
        pel_rpc_add_u64s(x, "stake", stake);
        pel_rpc_add_u64s(x, "weight", weight);
    }
    return 0;
}

int pel_rpc_dao(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_dao_id id;
    pel_addr who;
    pel_dao d;
    pel_buf raw;
    int has_who;
    if (dao_id_param(params, &id, err) || addr_param(params, "address", &who, &has_who, err))
        return PEL_EINVAL;
    pel_chain *c = pel_node_chain(ctx);
    pel_state st = pel_store_state(pel_chain_store(c));
    pel_buf_init(&raw);
    int rc = pel_dao_get(&st, &id, &d, &raw);
    cJSON *o = rc ? NULL : cJSON_CreateObject();
    if (!rc && !o) rc = PEL_ENOMEM;
    if (!rc) {
        add_settings(o, &id, &d);
        rc = add_state(o, c, &st, &id, &d, has_who ? &who : NULL);
    }
    pel_buf_free(&raw);
    if (rc) { cJSON_Delete(o); return pel_rpc_app_error(err, rc, NULL); }
    *result = o;
    return 0;
}

/* ---- dao_proposal ---- */

static void add_milestones(cJSON *o, const pel_dao_action *a, const pel_dao_grant *g, int funded)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "milestones");
    for (uint32_t i = 0; arr && i < a->n_milestones; i++) {
        cJSON *m = cJSON_CreateObject();
        if (!m) return;
        int done = funded && (g->released >> i & 1u);
        pel_rpc_add_u64s(m, "amount", a->milestones[i].amount);
        add_text(m, "deliverable", a->milestones[i].deliverable, a->milestones[i].deliverable_len);
        cJSON_AddBoolToObject(m, "released", done);
        if (done) pel_rpc_add_obj_id(m, "deliverable_object", &g->deliverable[i], 0);
        else cJSON_AddNullToObject(m, "deliverable_object");
        cJSON_AddItemToArray(arr, m);
    }
}

/* A grant's terms and progress: escrow, its balance, funded, cancelled. */
static int add_grant(cJSON *o, pel_chain *c, const pel_state *st, const pel_dao_id *id, uint32_t n,
                     const pel_dao_action *a)
{
    pel_dao_grant g;
    pel_addr escrow;
    uint64_t bal, nonce;
    memset(&g, 0, sizeof g);
    int rc = pel_dao_grant_get(st, id, n, &g), funded = rc == 0;
    if (rc && rc != PEL_ENOTFOUND) return rc;
    pel_dao_escrow(id, n, &escrow);
    if ((rc = pel_chain_account(c, &escrow, &bal, &nonce))) return rc;
    pel_rpc_add_addr(o, "recipient", &a->addr);
    cJSON_AddItemToObject(o, "reviewers", addr_array(a->reviewers, a->n_reviewers));
    add_milestones(o, a, &g, funded);
    pel_rpc_add_addr(o, "escrow", &escrow);
    pel_rpc_add_u64s(o, "escrow_balance", bal);
    cJSON_AddNumberToObject(o, "funded", funded ? (double)g.funded : 0);
    cJSON_AddBoolToObject(o, "cancelled", funded && g.cancelled);
    return 0;
}

static int add_action(cJSON *o, pel_chain *c, const pel_state *st, const pel_dao_id *id, uint32_t n,
                      const pel_dao_action *a)
{
    switch (a->kind) {
    case PEL_DAO_GRANT:
        return add_grant(o, c, st, id, n, a);
    case PEL_DAO_TRANSFER:
        pel_rpc_add_addr(o, "to", &a->addr);
        pel_rpc_add_u64s(o, "amount", a->amount);
        return 0;
    case PEL_DAO_PARAMS:
        cJSON_AddNumberToObject(o, "period", (double)a->period);
        cJSON_AddNumberToObject(o, "quorum_bps", a->quorum_bps);
        cJSON_AddNumberToObject(o, "threshold_bps", a->threshold_bps);
        return 0;
    case PEL_DAO_ADD:
    case PEL_DAO_REMOVE:
        pel_rpc_add_addr(o, "address", &a->addr);
        return 0;
    case PEL_DAO_CANCEL:
        cJSON_AddNumberToObject(o, "grant", a->grant);
        return 0;
    case PEL_DAO_RELEASE:
        cJSON_AddNumberToObject(o, "grant", a->grant);
        cJSON_AddNumberToObject(o, "milestone", a->milestone);
        pel_rpc_add_obj_id(o, "deliverable", &a->deliverable, 0);
        return 0;
    default:
        return PEL_ECORRUPT;
    }
}

static void add_tally(cJSON *o, const uint64_t t[3])
{
    cJSON *x = cJSON_AddObjectToObject(o, "tally");
    if (!x) return;
    pel_rpc_add_u64s(x, "yes", t[0]);
    pel_rpc_add_u64s(x, "no", t[1]);
    pel_rpc_add_u64s(x, "abstain", t[2]);
}

/* The voter's vote, or null. */
static int add_vote(cJSON *o, const pel_state *st, const pel_dao_id *id, uint32_t n, const pel_addr *who)
{
    uint8_t choice;
    uint64_t weight;
    int rc = pel_dao_vote_get(st, id, n, who, &choice, &weight);
    if (rc == PEL_ENOTFOUND) { cJSON_AddNullToObject(o, "vote"); return 0; }
    if (rc) return rc;
    cJSON *x = cJSON_AddObjectToObject(o, "vote");
    if (!x) return PEL_ENOMEM;
    pel_rpc_add_addr(x, "voter", who);
    cJSON_AddStringToObject(x, "choice", choice_name(choice));
    pel_rpc_add_u64s(x, "weight", weight);
    return 0;
}

/* The fields every listing shows; the tally read here. */
static void add_summary(cJSON *o, uint32_t n, const pel_dao_proposal *p, const char *status)
{
    cJSON_AddNumberToObject(o, "number", n);
    cJSON_AddStringToObject(o, "kind", pel_dao_kind_name(p->act.kind));
    cJSON_AddStringToObject(o, "status", status);
    add_text(o, "description", p->text, p->text_len);
    pel_rpc_add_addr(o, "proposer", &p->proposer);
    cJSON_AddNumberToObject(o, "height", (double)p->height);
    cJSON_AddNumberToObject(o, "deadline", (double)p->deadline);
}

typedef struct prop_req {
    pel_dao_id id;
    uint32_t n;
    pel_addr voter;
    int has_voter;
} prop_req;

static int proposal_json(pel_chain *c, const prop_req *q, cJSON *o)
{
    pel_state st = pel_store_state(pel_chain_store(c));
    uint64_t head = pel_chain_get_head(c).height, tally[3];
    pel_dao d;
    pel_dao_proposal p;
    pel_buf draw, praw;
    pel_buf_init(&draw);
    pel_buf_init(&praw);
    int rc = pel_dao_get(&st, &q->id, &d, &draw);
    if (!rc) rc = pel_dao_proposal_get(&st, &q->id, q->n, &p, &praw);
    if (!rc) rc = pel_dao_tally(&st, &q->id, q->n, tally);
    if (!rc) {
        add_dao_id(o, "dao", &q->id);
        add_summary(o, q->n, &p, status_of(&p, tally, head));
        cJSON_AddNumberToObject(o, "head", (double)head);
        pel_rpc_add_u64s(o, "total_weight", p.total_weight);
        cJSON_AddNumberToObject(o, "required_quorum_bps", p.quorum_bps);       /* as recorded */
        cJSON_AddNumberToObject(o, "required_threshold_bps", p.threshold_bps);
        add_tally(o, tally);
        cJSON_AddBoolToObject(o, "passes", pel_dao_passes(&p, tally));
        cJSON_AddNumberToObject(o, "executed", (double)p.executed);
        rc = add_action(o, c, &st, &q->id, q->n, &p.act);
    }
    if (!rc && q->has_voter) rc = add_vote(o, &st, &q->id, q->n, &q->voter);
    pel_buf_free(&draw);
    pel_buf_free(&praw);
    return rc;
}

int pel_rpc_dao_proposal(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    prop_req q;
    if (dao_id_param(params, &q.id, err) || u32_param(params, "proposal", 1, 0, 0, &q.n, err) ||
        addr_param(params, "voter", &q.voter, &q.has_voter, err))
        return PEL_EINVAL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    int rc = proposal_json(pel_node_chain(ctx), &q, o);
    if (rc) { cJSON_Delete(o); return pel_rpc_app_error(err, rc, NULL); }
    *result = o;
    return 0;
}

/* ---- dao_proposals ---- */

/* One listing entry for proposal n. */
static int list_entry(const pel_state *st, const pel_dao_id *id, uint32_t n,
                      uint64_t head, cJSON *arr)
{
    pel_dao_proposal p;
    pel_buf raw;
    uint64_t tally[3];
    pel_buf_init(&raw);
    int rc = pel_dao_proposal_get(st, id, n, &p, &raw);
    if (!rc) rc = pel_dao_tally(st, id, n, tally);
    cJSON *o = rc ? NULL : cJSON_CreateObject();
    if (!rc && !o) rc = PEL_ENOMEM;
    if (!rc) {
        add_summary(o, n, &p, status_of(&p, tally, head));
        add_tally(o, tally);
        cJSON_AddItemToArray(arr, o);
    }
    pel_buf_free(&raw);
    return rc;
}

static int list_json(pel_chain *c, const pel_dao_id *id, uint32_t after, uint32_t limit, cJSON *o)
{
    pel_state st = pel_store_state(pel_chain_store(c));
    uint64_t head = pel_chain_get_head(c).height;
    pel_dao d;
    pel_buf raw;
    uint32_t count = 0, n = after;
    pel_buf_init(&raw);
    int rc = pel_dao_get(&st, id, &d, &raw);
    if (!rc) rc = pel_dao_nprops(&st, id, &count);
    cJSON *arr = rc ? NULL : cJSON_AddArrayToObject(o, "proposals");
    if (!rc && !arr) rc = PEL_ENOMEM;
    while (!rc && n < count && n - after < limit) rc = list_entry(&st, id, ++n, head, arr);
    if (!rc) {
        add_dao_id(o, "dao", id);
        cJSON_AddNumberToObject(o, "count", count);
        if (n < count) cJSON_AddNumberToObject(o, "next", n);
        else cJSON_AddNullToObject(o, "next");
    }
    pel_buf_free(&raw);
    return rc;
}

int pel_rpc_dao_proposals(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_dao_id id;
    uint32_t after, limit;
    if (dao_id_param(params, &id, err) || u32_param(params, "after", 0, 1, 0, &after, err) ||
        pel_rpc_limit_param(params, 100, PEL_RPC_LIST_MAX, &limit, err))
        return PEL_EINVAL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    int rc = list_json(pel_node_chain(ctx), &id, after, limit, o);
    if (rc) { cJSON_Delete(o); return pel_rpc_app_error(err, rc, NULL); }
    *result = o;
    return 0;
}
