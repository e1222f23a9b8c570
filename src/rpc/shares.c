/*
 * shares.c - the `shares` JSON-RPC method (rpc/shares.h), rendering
 * modules/shares.h's records.
 */
#include "rpc/shares.h"

#include "ledger/ledger.h"
#include "modules/shares.h"
#include "node/node.h"
#include "rpc/reply.h"

int pel_rpc_shares(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_obj_id id;
    uint32_t v;
    pel_addr holder, pool;
    pel_share_class sc;
    uint64_t acc, pool_balance, nonce;
    const char *why;
    const cJSON *h = pel_rpc_param(params, "holder");
    if (pel_rpc_obj_id_param(params, &id, &v, err)) return PEL_EINVAL;
    if (v) return pel_rpc_bad_params(err, "shares are of the object, not of a version: drop @vN");
    if (h && (!cJSON_IsString(h) || pel_addr_parse(h->valuestring, &holder, &why)))
        return pel_rpc_bad_params(err, "holder is an address (pel1…)");
    pel_chain *c = pel_node_chain(n);
    pel_state st = pel_store_state(pel_chain_store(c));
    pel_obj_head head;
    int rc = pel_registry_head(&st, &id, &head);     /* an unknown object says so */
    if (!rc) rc = pel_shares_class(&st, &id, &sc, &acc);
    pel_shares_pool(&id, &pool);
    if (!rc) rc = pel_chain_account(c, &pool, &pool_balance, &nonce);
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_obj_id(o, "id", &id, 0);
    pel_rpc_add_u64s(o, "shares", sc.shares);
    pel_rpc_add_addr(o, "creator", &sc.creator);
    cJSON_AddNumberToObject(o, "height", (double)sc.height);
    pel_rpc_add_u64s(o, "revenue_per_share_scaled", acc);
    cJSON_AddNumberToObject(o, "scale_bits", PEL_SHARES_SCALE_BITS);
    pel_rpc_add_addr(o, "pool", &pool);
    pel_rpc_add_u64s(o, "pool_balance", pool_balance);
    if (h) {
        pel_share_holding hd;
        uint64_t can;
        rc = pel_shares_holding(&st, &id, &holder, &hd, &can);
        if (rc) { cJSON_Delete(o); return pel_rpc_app_error(err, rc, NULL); }
        cJSON *x = cJSON_AddObjectToObject(o, "holder");
        pel_rpc_add_addr(x, "address", &holder);
        pel_rpc_add_u64s(x, "shares", hd.shares);
        pel_rpc_add_u64s(x, "claimable", can);
    }
    *result = o;
    return 0;
}
