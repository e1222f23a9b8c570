/*
 * licence.c - the `licence` JSON-RPC method (rpc/licence.h): renders
 * modules/licence.h's records and node/objindex.h's purchase list.
 */
#include "rpc/licence.h"

#include <stdbool.h>

#include <string.h>

#include "core/hex.h"
#include "modules/licence.h"
#include "node/node.h"
#include "node/objindex.h"
#include "rpc/objects.h"
#include "rpc/reply.h"

static cJSON *terms_json(const pel_lic_terms *t)
{
    cJSON *o = cJSON_CreateObject(), *a = o ? cJSON_AddArrayToObject(o, "parties") : NULL;
    if (!a) { cJSON_Delete(o); return NULL; }
    cJSON_AddNumberToObject(o, "revision", t->revision);
    cJSON_AddNumberToObject(o, "height", (double)t->height);
    pel_rpc_add_u64s(o, "price", t->price);
    cJSON_AddNumberToObject(o, "upstream_bps", t->upstream_bps);
    for (uint32_t i = 0; i < t->n; i++) {
        cJSON *p = cJSON_CreateObject();
        if (!p) break;
        pel_rpc_add_addr(p, "address", &t->party[i].addr);
        cJSON_AddNumberToObject(p, "bps", t->party[i].bps);
        cJSON_AddItemToArray(a, p);
    }
    return o;
}

/* A page: at most limit entries; `more` when the scan found one beyond. */
typedef struct list { cJSON *a; uint32_t limit; pel_obj_purchase last; bool more; } list;

static int add_purchase(void *arg, const pel_obj_purchase *p)
{
    list *l = arg;
    if ((uint32_t)cJSON_GetArraySize(l->a) >= l->limit) { l->more = true; return 1; }
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_addr(o, "buyer", &p->buyer);
    pel_rpc_add_u64s(o, "price", p->price);
    cJSON_AddNumberToObject(o, "revision", p->revision);
    cJSON_AddNumberToObject(o, "height", (double)p->height);
    cJSON_AddNumberToObject(o, "index", p->index);
    cJSON_AddItemToArray(l->a, o);
    l->last = *p;
    return 0;
}

/* The buyer's record, or null. */
static int add_buyer(cJSON *o, const pel_state *st, const pel_obj_id *id, const pel_addr *buyer)
{
    pel_licence l;
    pel_key k;
    int rc = pel_licence_get(st, id, buyer, &l);
    if (rc == PEL_ENOTFOUND) { cJSON_AddNullToObject(o, "licence"); return 0; }
    if (rc) return rc;
    cJSON *r = cJSON_AddObjectToObject(o, "licence");
    if (!r) return PEL_ENOMEM;
    pel_rpc_add_addr(r, "buyer", buyer);
    cJSON_AddNumberToObject(r, "revision", l.revision);
    pel_rpc_add_u64s(r, "price", l.price);
    cJSON_AddNumberToObject(r, "height", (double)l.height);
    pel_rpc_add_u64s(r, "time_ms", l.time_ms);
    cJSON_AddNumberToObject(r, "count", l.count);
    pel_rpc_add_hex(r, "tx", l.txid, 32);
    pel_licence_key(id, buyer, &k);
    pel_rpc_add_hex(r, "state_key", k.b, 32);
    return 0;
}

static int parse(const cJSON *params, pel_obj_id *id, pel_addr *buyer, int *has_buyer,
                 pel_obj_purchase *after, int *has_after, uint32_t *limit, pel_rpc_error *err)
{
    uint32_t v;
    const char *why;
    const cJSON *b = pel_rpc_param(params, "buyer"), *a = pel_rpc_param(params, "after");
    if (pel_rpc_obj_id_param(params, id, &v, err)) return PEL_EINVAL;
    if (v) return pel_rpc_bad_params(err, "a licence is of the object, not of a version: drop @vN");
    *has_buyer = b != NULL;
    if (b && (!cJSON_IsString(b) || pel_addr_parse(b->valuestring, buyer, &why)))
        return pel_rpc_bad_params(err, "buyer is an address (pel1…)");
    *has_after = a != NULL;
    if (a) {
        const cJSON *h = pel_rpc_param(a, "height"), *i = pel_rpc_param(a, "index");
        if (!cJSON_IsNumber(h) || !cJSON_IsNumber(i) || h->valuedouble < 0 || i->valuedouble < 0 ||
            h->valuedouble > 9007199254740991.0 || i->valuedouble > UINT32_MAX)
            return pel_rpc_bad_params(err, "after is {\"height\": n, \"index\": n} from the previous page's next");
        after->height = (uint64_t)h->valuedouble;
        after->index = (uint32_t)i->valuedouble;
    }
    return pel_rpc_limit_param(params, 100, PEL_RPC_LIST_MAX, limit, err);
}

int pel_rpc_licence(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_obj_id id;
    pel_addr buyer;
    pel_obj_purchase after = { 0 };   /* set when has_after (zeroed: LTO cannot see that) */
    pel_obj_head h;
    pel_lic_terms t;
    uint64_t sold, revenue;
    int has_buyer = 0, has_after = 0;
    uint32_t limit;
    if (parse(params, &id, &buyer, &has_buyer, &after, &has_after, &limit, err)) return PEL_EINVAL;
    pel_store *store = pel_chain_store(pel_node_chain(n));
    pel_state st = pel_store_state(store);
    int rc = pel_registry_head(&st, &id, &h);
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    cJSON *o = cJSON_CreateObject();
    list l = { cJSON_CreateArray(), limit, { 0 }, false };
    if (!o || !l.a) { cJSON_Delete(o); cJSON_Delete(l.a); return PEL_ENOMEM; }
    pel_rpc_add_obj_id(o, "id", &id, 0);
    rc = pel_licence_terms(&st, &id, &t);
    if (rc == PEL_ELIC_NONE) { cJSON_AddNullToObject(o, "terms"); rc = 0; }
    else if (!rc) cJSON_AddItemToObject(o, "terms", terms_json(&t));
    if (!rc) rc = pel_licence_totals(&st, &id, &sold, &revenue);
    if (!rc) {
        cJSON_AddNumberToObject(o, "sold", (double)sold);
        pel_rpc_add_u64s(o, "revenue", revenue);
    }
    if (!rc && has_buyer) rc = add_buyer(o, &st, &id, &buyer);
    if (!rc) rc = pel_objindex_purchases(store, &id, has_after ? &after : NULL, add_purchase, &l);
    if (rc) { cJSON_Delete(o); cJSON_Delete(l.a); return pel_rpc_app_error(err, rc, NULL); }
    cJSON_AddItemToObject(o, "purchases", l.a);
    if (l.more) {
        cJSON *nx = cJSON_AddObjectToObject(o, "next");
        if (nx) {
            cJSON_AddNumberToObject(nx, "height", (double)l.last.height);
            cJSON_AddNumberToObject(nx, "index", l.last.index);
        }
    } else {
        cJSON_AddNullToObject(o, "next");
    }
    *result = o;
    return 0;
}
