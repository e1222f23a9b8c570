/*
 * methods.c - the node's JSON-RPC methods (docs/API.md). Each method reads
 * its params, calls the node, and renders the answer; no ledger logic here.
 */
#include "rpc/methods.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/codec.h"
#include "core/hex.h"
#include "ledger/genesis.h"
#include "modules/dao.h"
#include "modules/licence.h"
#include "modules/prereg.h"
#include "modules/registry.h"
#include "modules/shares.h"
#include "node/prove.h"
#include "rpc/dao.h"
#include "rpc/licence.h"
#include "rpc/membership.h"
#include "rpc/objects.h"
#include "rpc/prereg.h"
#include "rpc/client.h"
#include "rpc/reply.h"
#include "rpc/shares.h"

/* ---- helpers ---- */

static int get_hash(const cJSON *params, const char *name, uint8_t out[32], pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, name);
    size_t n;
    if (!cJSON_IsString(it) || strlen(it->valuestring) != 64 ||
        pel_hex_decode(it->valuestring, 64, out, 32, &n))
        return pel_rpc_bad_params(err, "expected a 64-digit hex id");
    return 0;
}

static int get_addr(const cJSON *params, pel_addr *a, pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, "address");
    const char *why = NULL;
    if (!cJSON_IsString(it)) return pel_rpc_bad_params(err, "missing \"address\" (pel1...)");
    if (pel_addr_parse(it->valuestring, a, &why)) return pel_rpc_bad_params(err, why);
    return 0;
}

/* Decode a hex transaction into a malloc'd buffer. */
/* The encoding of submitted transactions: params "encoding" = "hex"
 * (default) or "base64" (RFC 4648 with padding). -1 if unknown. */
static int tx_encoding(const cJSON *params)
{
    const cJSON *e = pel_rpc_param(params, "encoding");
    if (!e) return 0;
    if (!cJSON_IsString(e)) return -1;
    return !strcmp(e->valuestring, "hex") ? 0 : !strcmp(e->valuestring, "base64") ? 1 : -1;
}

static int get_tx_bytes(const cJSON *it, int base64, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!cJSON_IsString(it)) return PEL_EINVAL;
    size_t sl = strlen(it->valuestring), cap = base64 ? sl / 4 * 3 + 3 : sl / 2 + 1;
    if ((base64 ? sl / 4 * 3 : sl / 2) > PEL_TX_SIZE_MAX + 2) return PEL_ETXSIZE;
    uint8_t *b = malloc(cap);
    if (!b) return PEL_ENOMEM;
    int bad = base64
        ? sodium_base642bin(b, cap, it->valuestring, sl, NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0
        : pel_hex_decode(it->valuestring, sl, b, cap, len) != 0;
    if (bad) { free(b); return PEL_EHEX; }
    if (*len > PEL_TX_SIZE_MAX) { free(b); return PEL_ETXSIZE; }
    *out = b;
    return 0;
}

/* An admission refusal as text: the code's name, then the reason when it
 * says more than the name. */
static void refusal_text(const pel_mempool_result *r, char *msg, size_t cap)
{
    const char *name = pel_strerror(r->code);
    bool more = r->why && strcmp(r->why, name) != 0;
    snprintf(msg, cap, "%s%s%s", name, more ? ": " : "", more ? r->why : "");
}

static cJSON *result_entry(const pel_mempool_result *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (r->has_id) pel_rpc_add_hex(o, "id", r->id, 32);
    cJSON_AddBoolToObject(o, "ok", r->code == 0);
    if (r->code) {
        char msg[300];
        refusal_text(r, msg, sizeof msg);
        cJSON_AddNumberToObject(o, "code", r->code);
        cJSON_AddStringToObject(o, "error", msg);
    }
    return o;
}

/* ---- raft followers: submissions go to the leader ----
 *
 * A follower of a raft cluster forwards submit_tx, submit_batch and faucet
 * calls, unchanged, to the leader's API (cluster.peers) and answers with
 * the leader's reply, so a client may use any member. With no leader
 * known (an election) the call fails with PEL_ENOTLEADER: retry. */

int pel_rpc_forward(pel_node *n, const char *method, const cJSON *params, cJSON **result,
                   pel_rpc_error *err, int *rc)
{
    char hp[160], url[200];
    if (pel_node_diverged(n, NULL)) {
        *rc = pel_rpc_app_error(err, PEL_EDIVERGED, "this node's state diverged from the cluster "
                                "majority (node_info.ordering.diverged): submit to another member");
        return 1;
    }
    int w = pel_node_leader_rpc(n, hp, sizeof hp);
    if (w == 1) return 0;
    if (w) {
        *rc = pel_rpc_app_error(err, PEL_ENOTLEADER, "no cluster leader known now (an election is running); retry");
        return 1;
    }
    snprintf(url, sizeof url, "http://%s/rpc", hp);
    pel_rpc_client *c = NULL;
    pel_rpc_error e;
    int r = pel_rpc_client_new(url, 10000, &c);
    if (!r) r = pel_rpc_call(c, method, params, result, &e);
    pel_rpc_client_free(c);
    if (r == PEL_EREMOTE) {
        *err = e;                 /* err->data ownership moves to the server */
        *rc = e.code ? e.code : PEL_EREMOTE;
    } else if (r) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot forward to the cluster leader at %s: %s", hp, pel_strerror(r));
        *rc = pel_rpc_app_error(err, PEL_ENOTLEADER, msg);
    } else {
        *rc = 0;
    }
    return 1;
}

/* ---- genesis: what a new member of the chain starts from ---- */

static int m_genesis(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    (void)params; (void)err;
    pel_node *n = ctx;
    const pel_genesis *g = pel_node_genesis(n);
    char *text = NULL;
    int rc = pel_genesis_to_json(g, &text);
    if (rc) return rc;
    cJSON *o = cJSON_CreateObject();
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!o || !doc) { cJSON_Delete(o); cJSON_Delete(doc); return PEL_ENOMEM; }
    cJSON_AddItemToObject(o, "genesis", doc);
    pel_rpc_add_hex(o, "genesis_hash", g->hash, 32);
    *result = o;
    return 0;
}

/* ---- node_info ---- */

static void add_ordering(cJSON *o, pel_node *n)
{
    pel_order_status st;
    pel_order_get_status(pel_node_order(n), &st);
    cJSON *ord = cJSON_AddObjectToObject(o, "ordering");
    cJSON_AddStringToObject(ord, "backend", st.backend);
    cJSON_AddStringToObject(ord, "role", st.role);
    if (strcmp(st.backend, "raft")) return;
    char hp[160];
    cJSON_AddNumberToObject(ord, "id", (double)st.id);
    cJSON_AddNumberToObject(ord, "leader_id", (double)st.leader_id);
    if (pel_node_leader_rpc(n, hp, sizeof hp) == 0) cJSON_AddStringToObject(ord, "leader_rpc", hp);
    cJSON_AddNumberToObject(ord, "term", (double)st.term);
    cJSON_AddNumberToObject(ord, "last_index", (double)st.last_index);
    cJSON_AddNumberToObject(ord, "applied_index", (double)st.applied_index);
    cJSON_AddStringToObject(ord, "member", st.member);
    cJSON_AddNumberToObject(ord, "voters", st.voters);
    pel_node_divergence d;
    int div = pel_node_diverged(n, &d);
    cJSON_AddBoolToObject(ord, "authoritative", !div);
    if (!div) return;
    cJSON *dj = cJSON_AddObjectToObject(ord, "diverged");
    cJSON_AddNumberToObject(dj, "height", (double)d.height);
    pel_rpc_add_hex(dj, "state_root", d.root, 32);
    pel_rpc_add_hex(dj, "majority_state_root", d.majority_root, 32);
    cJSON_AddNumberToObject(dj, "disagreeing_members", d.disagree);
    cJSON_AddNumberToObject(dj, "members", d.members);
}

static int m_node_info(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    (void)params; (void)err;
    pel_node *n = ctx;
    const pel_genesis *g = pel_node_genesis(n);
    const pel_node_config *c = pel_node_cfg(n);
    pel_chain_head h = pel_chain_get_head(pel_node_chain(n));
    pel_node_stats st;
    uint64_t mt, mb, ms;
    pel_node_get_stats(n, &st);
    pel_mempool_stats(pel_node_mempool(n), &mt, &mb, &ms);
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    cJSON_AddStringToObject(o, "chain_id", g->params.chain_id);
    pel_rpc_add_hex(o, "genesis_hash", g->hash, 32);
    cJSON_AddNumberToObject(o, "height", (double)h.height);
    pel_rpc_add_hex(o, "head_hash", h.hash, 32);
    pel_rpc_add_hex(o, "state_root", h.state_root, 32);
    cJSON_AddNumberToObject(o, "timestamp_ms", (double)h.timestamp_ms);
    cJSON_AddNumberToObject(o, "history_size", (double)h.history_size);
    cJSON *gas = cJSON_AddObjectToObject(o, "gas");
    cJSON_AddNumberToObject(gas, "base", (double)g->params.gas.base);
    cJSON_AddNumberToObject(gas, "per_byte", (double)g->params.gas.per_byte);
    cJSON_AddNumberToObject(o, "min_gas_price", (double)g->params.min_gas_price);
    cJSON_AddStringToObject(o, "engine", pel_engine_kind_name(c->engine));
    cJSON_AddNumberToObject(o, "threads", c->threads);
    cJSON_AddNumberToObject(o, "block_interval_ms", c->block_interval_ms);
    cJSON_AddNumberToObject(o, "max_block_txs", c->max_block_txs);
    cJSON_AddNumberToObject(o, "max_commit_group", c->max_commit_group);
    cJSON *mp = cJSON_AddObjectToObject(o, "mempool");
    cJSON_AddNumberToObject(mp, "txs", (double)mt);
    cJSON_AddNumberToObject(mp, "bytes", (double)mb);
    cJSON_AddNumberToObject(mp, "senders", (double)ms);
    cJSON *s = cJSON_AddObjectToObject(o, "stats");
    cJSON_AddNumberToObject(s, "blocks", (double)st.blocks);
    cJSON_AddNumberToObject(s, "txs", (double)st.txs);
    cJSON_AddNumberToObject(s, "tps_recent", st.tps_recent);
    cJSON_AddNumberToObject(s, "last_exec_ms", st.last_exec_us / 1000.0);
    cJSON_AddNumberToObject(s, "last_commit_ms", st.last_commit_us / 1000.0);
    if (pel_node_failed(n)) cJSON_AddStringToObject(o, "failed", pel_strerror(pel_node_failed(n)));
    const pel_addr *f = pel_node_faucet_addr(n);
    if (f && c->faucet_enabled) pel_rpc_add_addr(o, "faucet", f);
    char vkey[PEL_NOTE_VKEY_MAX];
    if (pel_chain_trees(pel_node_chain(n)) &&
        pel_note_verifier_format(pel_chain_origin(pel_node_chain(n)), pel_node_pubkey(n), vkey, sizeof vkey) == 0)
        cJSON_AddStringToObject(o, "verifier_key", vkey);
    add_ordering(o, n);
    *result = o;
    return 0;
}

/* ---- submitting ---- */

static int m_submit_tx(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    uint8_t *raw;
    size_t len;
    pel_mempool_result r;
    int rc;
    if (pel_rpc_forward(ctx, "submit_tx", params, result, err, &rc)) return rc;
    int enc = tx_encoding(params);
    if (enc < 0) return pel_rpc_bad_params(err, "encoding must be \"hex\" or \"base64\"");
    rc = get_tx_bytes(pel_rpc_param(params, "tx"), enc, &raw, &len);
    if (rc == PEL_EINVAL) return pel_rpc_bad_params(err, "expected {\"tx\": \"<hex or base64 of the signed transaction>\"}");
    if (rc) return pel_rpc_app_error(err, rc, rc != PEL_EHEX ? NULL
                                     : enc ? "transaction is not valid base64" : "transaction is not valid hex");
    const uint8_t *p = raw;
    rc = pel_node_submit(ctx, &p, &len, 1, &r);
    free(raw);
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    if (r.code) {
        char msg[300];
        refusal_text(&r, msg, sizeof msg);
        pel_rpc_app_error(err, r.code, msg);
        if (r.has_id && err->data) pel_rpc_add_hex(err->data, "id", r.id, 32);
        return r.code;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_hex(o, "id", r.id, 32);
    cJSON_AddStringToObject(o, "status", "pending");
    *result = o;
    return 0;
}

typedef struct batch { uint8_t **raw; size_t *len; const uint8_t **ptr; pel_mempool_result *res; size_t n; } batch;

/* submit_batch's "results": 0 "all" (the default: one entry a
 * transaction), 1 "refused" (the count accepted and an entry, with its
 * index, for each refused one: a client that knows its ids reads a few
 * bytes instead of 100 a transaction), -1 anything else. */
static int results_mode(const cJSON *params)
{
    const cJSON *m = pel_rpc_param(params, "results");
    if (!m) return 0;
    if (!cJSON_IsString(m)) return -1;
    return !strcmp(m->valuestring, "all") ? 0 : !strcmp(m->valuestring, "refused") ? 1 : -1;
}

/* The "refused" reply into o; 0 or PEL_ENOMEM (o then incomplete). */
static int batch_refused(cJSON *o, const pel_mempool_result *res, size_t n)
{
    size_t ok = 0;
    cJSON *list = cJSON_AddArrayToObject(o, "refused");
    for (size_t i = 0; list && i < n; i++) {
        if (res[i].code == 0) { ok++; continue; }
        cJSON *e = result_entry(&res[i]);
        if (!e || !cJSON_AddNumberToObject(e, "index", (double)i) || !cJSON_AddItemToArray(list, e)) {
            cJSON_Delete(e);
            return PEL_ENOMEM;
        }
    }
    return list && cJSON_AddNumberToObject(o, "accepted", (double)ok) ? 0 : PEL_ENOMEM;
}

static void batch_free(batch *b)
{
    for (size_t i = 0; b->raw && i < b->n; i++) free(b->raw[i]);
    free(b->raw); free(b->len); free(b->ptr); free(b->res);
}

static int m_submit_batch(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    int frc;
    if (pel_rpc_forward(ctx, "submit_batch", params, result, err, &frc)) return frc;
    const cJSON *arr = pel_rpc_param(params, "txs");
    int enc = tx_encoding(params);
    if (enc < 0) return pel_rpc_bad_params(err, "encoding must be \"hex\" or \"base64\"");
    if (!cJSON_IsArray(arr)) return pel_rpc_bad_params(err, "expected {\"txs\": [\"<hex>\", ...]}");
    int refused_only = results_mode(params);
    if (refused_only < 0) return pel_rpc_bad_params(err, "results must be \"all\" or \"refused\"");
    batch b = { .n = (size_t)cJSON_GetArraySize(arr) };
    size_t m = b.n ? b.n : 1;
    b.raw = calloc(m, sizeof *b.raw); b.len = calloc(m, sizeof *b.len);
    b.ptr = calloc(m, sizeof *b.ptr); b.res = calloc(m, sizeof *b.res);
    int rc = (b.raw && b.len && b.ptr && b.res) ? 0 : PEL_ENOMEM;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (rc) break;
        int r = get_tx_bytes(it, enc, &b.raw[i], &b.len[i]);
        if (r == PEL_ENOMEM) rc = r;
        else if (r) {
            batch_free(&b);
            return pel_rpc_bad_params(err, enc ? "every entry of txs must be the base64 of a transaction"
                                               : "every entry of txs must be the hex of a transaction");
        }
        b.ptr[i] = b.raw[i];
        i++;
    }
    if (!rc) rc = pel_node_submit(ctx, b.ptr, b.len, b.n, b.res);
    cJSON *o = rc ? NULL : cJSON_CreateObject();
    if (o && refused_only && batch_refused(o, b.res, b.n)) { cJSON_Delete(o); o = NULL; }
    cJSON *list = o && !refused_only ? cJSON_AddArrayToObject(o, "results") : NULL;
    for (i = 0; list && i < b.n; i++) cJSON_AddItemToArray(list, result_entry(&b.res[i]));
    batch_free(&b);
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    if (!o) return PEL_ENOMEM;
    *result = o;
    return 0;
}

/* ---- queries ---- */

/* A licence or shares event's fields (modules/licence.h, shares.h); false
 * if ev is neither. */
static bool economics_event_json(const uint8_t *ev, size_t n, cJSON *o)
{
    static const char *const share_ops[] = { "create", "transfer", "claim" };
    pel_obj_id id;
    pel_addr a;
    uint64_t amount;
    uint32_t revision;
    uint8_t op;
    if (pel_licence_event_op(ev, n, &op, &id, &a, &amount, &revision)) {
        cJSON_AddStringToObject(o, "kind", "licence");
        cJSON_AddStringToObject(o, "op", op == PEL_LIC_EV_BUY ? "buy" : "terms");
        pel_rpc_add_obj_id(o, "object", &id, 0);
        cJSON_AddNumberToObject(o, "revision", revision);
        if (op == PEL_LIC_EV_BUY) pel_rpc_add_addr(o, "buyer", &a);
        pel_rpc_add_u64s(o, "price", amount);
        return true;
    }
    if (pel_shares_event(ev, n, &op, &id, &a, &amount)) {
        cJSON_AddStringToObject(o, "kind", "shares");
        cJSON_AddStringToObject(o, "op", share_ops[op - 1]);
        pel_rpc_add_obj_id(o, "object", &id, 0);
        pel_rpc_add_addr(o, op == 3 ? "holder" : op == 2 ? "to" : "creator", &a);
        pel_rpc_add_u64s(o, op == 3 ? "paid" : "shares", amount);
        return true;
    }
    return false;
}

/* A DAO event's fields (modules/dao.h); false if ev is not one. */
static bool dao_event_json(const uint8_t *ev, size_t n, cJSON *o)
{
    static const char *const ops[] = { "create", "deposit", "propose", "vote", "execute", "release" };
    uint8_t op;
    pel_dao_id id;
    uint32_t prop;
    pel_addr who;
    uint64_t value;
    char s[PEL_DAO_ID_STR_LEN + 1];
    if (pel_dao_event(ev, n, &op, &id, &prop, &who, &value)) return false;
    pel_dao_id_format(&id, s);
    s[PEL_DAO_ID_STR_LEN] = 0;
    cJSON_AddStringToObject(o, "kind", "dao");
    cJSON_AddStringToObject(o, "op", ops[op - 1]);
    cJSON_AddStringToObject(o, "dao", s);
    if (prop) cJSON_AddNumberToObject(o, "proposal", prop);
    pel_rpc_add_addr(o, "sender", &who);
    if (op == 2) pel_rpc_add_u64s(o, "amount", value);
    if (op == 4) cJSON_AddStringToObject(o, "choice", value == 1 ? "yes" : value == 2 ? "no" : "abstain");
    if (op == 6) cJSON_AddNumberToObject(o, "milestone", (double)value);
    return true;
}

static cJSON *events_json(const uint8_t *p, uint32_t len)
{
    cJSON *arr = cJSON_CreateArray();
    pel_dec d;
    pel_dec_init(&d, p, len);
    while (arr && d.pos < d.len && !d.err) {
        const uint8_t *ev;
        size_t n;
        if (pel_dec_bytes(&d, UINT32_MAX, &ev, &n)) break;
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        pel_addr a, b;
        uint64_t amount;
        if (pel_ledger_transfer_event(ev, n, &a, &b, &amount)) {
            cJSON_AddStringToObject(o, "kind", "transfer");
            pel_rpc_add_addr(o, "from", &a);
            pel_rpc_add_addr(o, "to", &b);
            pel_rpc_add_u64s(o, "amount", amount);
        } else if (n == 1 + PEL_OBJ_ID_LEN + 4 + 2 && ev[0] == PEL_EV_OBJECT) {
            pel_obj_id id;
            char s[PEL_OBJ_ID_STR_LEN + 1];
            memcpy(id.b, ev + 1, PEL_OBJ_ID_LEN);
            pel_obj_id_format(&id, s);
            s[PEL_OBJ_ID_STR_LEN] = 0;
            cJSON_AddStringToObject(o, "kind", "object");
            cJSON_AddStringToObject(o, "id", s);
            cJSON_AddNumberToObject(o, "version", (double)pel_le_load(ev + 1 + PEL_OBJ_ID_LEN, 4));
            cJSON_AddNumberToObject(o, "first_mask", (double)pel_le_load(ev + 1 + PEL_OBJ_ID_LEN + 4, 2));
        } else if (n == 1 + PEL_PREREG_ID_LEN + 2 && ev[0] == PEL_EV_PREREG) {
            static const char *const ops[] = { "commit", "reveal", "results", "status" };
            pel_prereg_id id;
            char s[PEL_PREREG_ID_STR_LEN + 1];
            memcpy(id.b, ev + 1, PEL_PREREG_ID_LEN);
            pel_prereg_id_format(&id, s);
            s[PEL_PREREG_ID_STR_LEN] = 0;
            cJSON_AddStringToObject(o, "kind", "prereg");
            cJSON_AddStringToObject(o, "id", s);
            cJSON_AddStringToObject(o, "op", ev[17] >= 1 && ev[17] <= 4 ? ops[ev[17] - 1] : "?");
            if (ev[17] == 3) cJSON_AddBoolToObject(o, "outcome_switched", ev[18] != 0);
        } else if (!economics_event_json(ev, n, o)) {
            dao_event_json(ev, n, o);
        }
        char *hex = malloc(2 * n + 1);     /* every event also in raw form */
        if (hex) { pel_hex_encode(ev, n, hex); cJSON_AddStringToObject(o, "data", hex); }
        free(hex);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *receipt_json(const pel_buf *raw, uint64_t gas_price)
{
    pel_receipt r;
    if (pel_receipt_decode(raw->data, raw->len, &r)) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "status", r.status);
    cJSON_AddBoolToObject(o, "ok", r.status == 0);
    cJSON_AddStringToObject(o, "message", pel_strerror(r.status));
    cJSON_AddNumberToObject(o, "gas_used", (double)r.gas_used);
    if (gas_price) pel_rpc_add_u64s(o, "fee", r.gas_used * gas_price);
    cJSON_AddItemToObject(o, "events", events_json(r.events, r.events_len));
    return o;
}

/* The gas price of transaction `index` of block `height` (for the fee). */
static uint64_t tx_gas_price(pel_node *n, uint64_t height, uint32_t index)
{
    pel_buf rec;
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, cnt = 0;
    pel_tx tx;
    uint64_t price = 0;
    pel_buf_init(&rec);
    if (pel_chain_block(pel_node_chain(n), height, &rec) == 0 &&
        pel_block_record_decode(rec.data, rec.len, &h, &raw, &lens, &cnt) == 0 && index < cnt &&
        pel_tx_decode(raw[index], lens[index], &tx) == 0)
        price = tx.gas_price;
    free(raw); free(lens);
    pel_buf_free(&rec);
    return price;
}

int pel_rpc_tx_status_json(pel_node *n, const uint8_t id[32], cJSON **out, int *state)
{
    pel_tx_status st;
    *out = NULL;
    int rc = pel_node_tx_status(n, id, &st);
    if (rc) { pel_buf_free(&st.receipt); return rc; }
    cJSON *o = cJSON_CreateObject();
    if (!o) { pel_buf_free(&st.receipt); return PEL_ENOMEM; }
    pel_rpc_add_hex(o, "id", id, 32);
    static const char *names[] = { "unknown", "pending", "committed", "rejected" };
    cJSON_AddStringToObject(o, "status", names[st.state]);
    if (st.state == PEL_TXS_COMMITTED) {
        cJSON_AddNumberToObject(o, "height", (double)st.height);
        cJSON_AddNumberToObject(o, "index", st.index);
        cJSON_AddItemToObject(o, "receipt", receipt_json(&st.receipt, tx_gas_price(n, st.height, st.index)));
    } else if (st.state == PEL_TXS_REJECTED) {
        cJSON_AddNumberToObject(o, "code", st.reason);
        cJSON_AddStringToObject(o, "reason", pel_strerror(st.reason));
    }
    pel_buf_free(&st.receipt);
    if (state) *state = (int)st.state;
    *out = o;
    return 0;
}

static int m_tx_status(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    uint8_t id[32];
    if (get_hash(params, "id", id, err)) return PEL_EINVAL;
    int rc = pel_rpc_tx_status_json(ctx, id, result, NULL);
    return rc ? pel_rpc_app_error(err, rc, NULL) : 0;
}

static int m_account(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_addr a;
    uint64_t bal, nonce;
    if (get_addr(params, &a, err)) return PEL_EINVAL;
    int rc = pel_chain_account(pel_node_chain(ctx), &a, &bal, &nonce);
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_addr(o, "address", &a);
    pel_rpc_add_u64s(o, "balance", bal);
    cJSON_AddNumberToObject(o, "nonce", (double)nonce);
    cJSON_AddNumberToObject(o, "next_nonce", (double)pel_mempool_next_nonce(pel_node_mempool(ctx), &a));
    *result = o;
    return 0;
}

static cJSON *block_tx_json(pel_node *n, uint64_t height, uint32_t i, const uint8_t *raw, uint32_t len,
                            int receipts)
{
    if (!receipts) {   /* the id alone: no need to decode (a stored block's txs decode) */
        uint8_t id[PEL_TXID_LEN];
        char s[65];
        if (pel_tx_id(raw, len, id)) return cJSON_CreateNull();
        pel_hex_encode(id, sizeof id, s);
        return cJSON_CreateString(s);
    }
    pel_tx tx;
    if (pel_tx_decode(raw, len, &tx)) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    pel_buf rb;
    pel_buf_init(&rb);
    pel_rpc_add_hex(o, "id", tx.id, 32);
    pel_rpc_add_addr(o, "from", &tx.from);
    cJSON_AddNumberToObject(o, "nonce", (double)tx.nonce);
    if (pel_chain_receipt(pel_node_chain(n), height, i, &rb) == 0)
        cJSON_AddItemToObject(o, "receipt", receipt_json(&rb, tx.gas_price));
    pel_buf_free(&rb);
    return o;
}

/* The transactions [from, from + limit) of a block; limit UINT32_MAX = all. */
typedef struct tx_page { uint32_t from, limit; } tx_page;

static cJSON *block_json(pel_node *n, const pel_block_header *h, const uint8_t **raw,
                         const uint32_t *lens, uint32_t cnt, int receipts, tx_page pg)
{
    uint8_t hash[32];
    cJSON *o = cJSON_CreateObject();
    if (!o || pel_block_header_hash(h, hash)) { cJSON_Delete(o); return NULL; }
    cJSON_AddNumberToObject(o, "height", (double)h->height);
    pel_rpc_add_hex(o, "hash", hash, 32);
    pel_rpc_add_hex(o, "prev_hash", h->prev_hash, 32);
    cJSON_AddNumberToObject(o, "timestamp_ms", (double)h->timestamp_ms);
    cJSON_AddNumberToObject(o, "tx_count", h->tx_count);
    pel_rpc_add_hex(o, "tx_root", h->tx_root, 32);
    pel_rpc_add_hex(o, "state_root", h->state_root, 32);
    pel_rpc_add_hex(o, "receipts_root", h->receipts_root, 32);
    cJSON_AddNumberToObject(o, "history_size", (double)h->history_size);
    pel_rpc_add_hex(o, "history_root", h->history_root, 32);
    pel_rpc_add_hex(o, "proposer", h->proposer, 32);
    pel_rpc_add_hex(o, "signature", h->sig, 64);
    cJSON *txs = cJSON_AddArrayToObject(o, "txs");
    uint32_t start = pg.from < cnt ? pg.from : cnt;
    uint32_t end = cnt - start > pg.limit ? start + pg.limit : cnt;
    for (uint32_t i = start; txs && i < end; i++)
        cJSON_AddItemToArray(txs, block_tx_json(n, h->height, i, raw[i], lens[i], receipts));
    if (pg.limit != UINT32_MAX) {             /* paged: where the next page starts */
        if (end < cnt) cJSON_AddNumberToObject(o, "next", end);
        else cJSON_AddNullToObject(o, "next");
    }
    return o;
}

static int m_block(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    const cJSON *hp = pel_rpc_param(params, "height");
    uint64_t height;
    if (cJSON_IsString(hp) && strcmp(hp->valuestring, "latest") == 0)
        height = pel_chain_get_head(pel_node_chain(n)).height;
    else if (pel_json_u64(hp, &height))
        return pel_rpc_bad_params(err, "expected {\"height\": N} or {\"height\": \"latest\"}");
    int receipts = cJSON_IsTrue(pel_rpc_param(params, "receipts"));
    tx_page pg = { 0, UINT32_MAX };
    const cJSON *fp = pel_rpc_param(params, "from"), *lp = pel_rpc_param(params, "limit");
    uint64_t x;
    if (fp) {
        if (pel_json_u64(fp, &x) || x > UINT32_MAX) return pel_rpc_bad_params(err, "from is a transaction index");
        pg.from = (uint32_t)x;
    }
    if (lp || fp) {
        uint32_t limit;
        if (pel_rpc_limit_param(params, 100, PEL_RPC_LIST_MAX, &limit, err)) return PEL_EINVAL;
        pg.limit = limit;
    }
    pel_buf rec;
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, cnt = 0;
    pel_buf_init(&rec);
    int rc = pel_chain_block(pel_node_chain(n), height, &rec);
    if (!rc) rc = pel_block_record_decode(rec.data, rec.len, &h, &raw, &lens, &cnt);
    if (!rc) {
        *result = block_json(n, &h, raw, lens, cnt, receipts, pg);
        if (!*result) rc = PEL_ENOMEM;
    }
    free(raw); free(lens);
    pel_buf_free(&rec);
    if (rc == PEL_ENOTFOUND) return pel_rpc_app_error(err, rc, "no block at that height");
    return rc ? pel_rpc_app_error(err, rc, NULL) : 0;
}

static int m_faucet(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_addr a;
    uint64_t amount = pel_node_cfg(n)->faucet_amount;
    uint8_t id[32];
    int frc;
    if (pel_rpc_forward(n, "faucet", params, result, err, &frc)) return frc;
    if (get_addr(params, &a, err)) return PEL_EINVAL;
    const cJSON *am = pel_rpc_param(params, "amount");
    if (am && pel_json_u64(am, &amount)) return pel_rpc_bad_params(err, "amount must be a u64 (decimal string)");
    int rc = pel_node_faucet(n, &a, amount, id);
    if (rc == PEL_EACCESS) return pel_rpc_app_error(err, rc, "the faucet is off on this node (devnet only)");
    if (rc == PEL_ERANGE) return pel_rpc_app_error(err, rc, "amount is 0 or over the faucet's max_amount");
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_hex(o, "id", id, 32);
    pel_rpc_add_u64s(o, "amount", amount);
    *result = o;
    return 0;
}

/* ---- checkpoints and proofs (node/prove.h, docs/PROOFS.md) ---- */

/* height param: absent or "latest" = the head. */
static int get_height(const cJSON *params, const char *name, uint64_t head, uint64_t *out,
                      pel_rpc_error *err)
{
    const cJSON *hp = pel_rpc_param(params, name);
    if (!hp || (cJSON_IsString(hp) && strcmp(hp->valuestring, "latest") == 0)) { *out = head; return 0; }
    if (pel_json_u64(hp, out)) return pel_rpc_bad_params(err, "a height is a non-negative integer or \"latest\"");
    return 0;
}

static int m_checkpoint(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_chain *c = pel_node_chain(n);
    uint64_t height;
    char vkey[PEL_NOTE_VKEY_MAX];
    if (get_height(params, "height", pel_chain_get_head(c).height, &height, err)) return PEL_EINVAL;
    pel_buf note;
    pel_buf_init(&note);
    int rc = pel_chain_checkpoint(c, height, &note);
    if (!rc) rc = pel_buf_append(&note, "", 1);
    if (!rc) rc = pel_note_verifier_format(pel_chain_origin(c), pel_node_pubkey(n), vkey, sizeof vkey);
    cJSON *o = rc ? NULL : cJSON_CreateObject();
    if (o) {
        pel_rpc_add_u64s(o, "height", height);
        cJSON_AddStringToObject(o, "note", (const char *)note.data);
        cJSON_AddStringToObject(o, "verifier_key", vkey);
    }
    pel_buf_free(&note);
    if (rc == PEL_ENOTFOUND) return pel_rpc_app_error(err, rc, "no checkpoint at that height");
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    if (!o) return PEL_ENOMEM;
    *result = o;
    return 0;
}

/* The proof as a JSON object: its canonical text, parsed. */
static int proof_result(pel_proof *p, int rc, const char *why, cJSON **result, pel_rpc_error *err)
{
    pel_buf text;
    if (rc) {
        pel_proof_free(p);
        free(p);
        return pel_rpc_app_error(err, rc, why[0] ? why : NULL);
    }
    pel_buf_init(&text);
    rc = pel_proof_format(p, &text);
    if (!rc) rc = pel_buf_append(&text, "", 1);
    pel_proof_free(p);
    free(p);
    if (!rc) *result = cJSON_Parse((const char *)text.data);
    pel_buf_free(&text);
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    return *result ? 0 : PEL_ENOMEM;
}

static pel_proof *new_proof(void)
{
    pel_proof *p = malloc(sizeof *p);
    if (p) pel_proof_init(p);
    return p;
}

static int m_prove_tx(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    uint8_t id[32];
    char why[256] = "";
    uint64_t at;
    if (get_hash(params, "id", id, err)) return PEL_EINVAL;
    if (get_height(params, "height", PEL_PROVE_HEAD, &at, err)) return PEL_EINVAL;
    pel_proof *p = new_proof();
    if (!p) return PEL_ENOMEM;
    int rc = pel_prove_tx(pel_node_chain(ctx), id, at, p, why, sizeof why);
    return proof_result(p, rc, why, result, err);
}

/* A state key: {"key": 64 hex} or {"address": pel1..., "field": "balance"|"nonce"}. */
static int get_state_key(const cJSON *params, pel_key *k, pel_rpc_error *err)
{
    const cJSON *f = pel_rpc_param(params, "field");
    if (pel_rpc_param(params, "key")) {
        size_t n;
        const cJSON *it = pel_rpc_param(params, "key");
        if (!cJSON_IsString(it) || strlen(it->valuestring) != 64 ||
            pel_hex_decode(it->valuestring, 64, k->b, 32, &n))
            return pel_rpc_bad_params(err, "\"key\" is a state key: 64 hex digits");
        return 0;
    }
    pel_addr a;
    if (get_addr(params, &a, err)) return PEL_EINVAL;
    if (!cJSON_IsString(f) || (strcmp(f->valuestring, "balance") && strcmp(f->valuestring, "nonce")))
        return pel_rpc_bad_params(err, "\"field\" is \"balance\" or \"nonce\"");
    if (!strcmp(f->valuestring, "balance")) pel_key_balance(&a, k);
    else pel_key_nonce(&a, k);
    return 0;
}

static int m_prove_state(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_key k;
    uint64_t height;
    char why[256] = "";
    if (get_state_key(params, &k, err)) return PEL_EINVAL;
    if (get_height(params, "height", PEL_PROVE_HEAD, &height, err)) return PEL_EINVAL;
    pel_proof *p = new_proof();
    if (!p) return PEL_ENOMEM;
    int rc = pel_prove_state(pel_node_chain(ctx), &k, height, p, why, sizeof why);
    return proof_result(p, rc, why, result, err);
}

static int m_prove_consistency(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    uint64_t old_h, new_h, head = pel_chain_get_head(pel_node_chain(ctx)).height;
    char why[256] = "";
    if (!pel_rpc_param(params, "old")) return pel_rpc_bad_params(err, "expected {\"old\": H1, \"new\": H2}");
    if (get_height(params, "old", head, &old_h, err)) return PEL_EINVAL;
    if (get_height(params, "new", head, &new_h, err)) return PEL_EINVAL;
    pel_proof *p = new_proof();
    if (!p) return PEL_ENOMEM;
    int rc = pel_prove_consistency(pel_node_chain(ctx), old_h, new_h, p, why, sizeof why);
    return proof_result(p, rc, why, result, err);
}

static const pel_rpc_method methods[] = {
    { "checkpoint", m_checkpoint },
    { "prove_tx", m_prove_tx },
    { "prove_state", m_prove_state },
    { "prove_consistency", m_prove_consistency },
    { "node_info", m_node_info },
    { "genesis", m_genesis },
    { "cluster_members", pel_rpc_cluster_members },
    { "cluster_add", pel_rpc_cluster_add },
    { "cluster_promote", pel_rpc_cluster_promote },
    { "cluster_remove", pel_rpc_cluster_remove },
    { "submit_tx", m_submit_tx },
    { "submit_batch", m_submit_batch },
    { "tx_status", m_tx_status },
    { "account", m_account },
    { "block", m_block },
    { "faucet", m_faucet },
    { "object", pel_rpc_object },
    { "object_first", pel_rpc_object_first },
    { "object_upstream", pel_rpc_object_upstream },
    { "object_downstream", pel_rpc_object_downstream },
    { "contributions", pel_rpc_contributions },
    { "licence", pel_rpc_licence },
    { "shares", pel_rpc_shares },
    { "dao", pel_rpc_dao },
    { "dao_proposal", pel_rpc_dao_proposal },
    { "dao_proposals", pel_rpc_dao_proposals },
    { "prereg", pel_rpc_prereg },
    { "review", pel_rpc_review },
};

const pel_rpc_method *pel_rpc_node_methods(size_t *n)
{
    *n = sizeof methods / sizeof methods[0];
    return methods;
}
