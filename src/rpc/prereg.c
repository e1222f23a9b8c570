/*
 * prereg.c - the `prereg` JSON-RPC method: a preregistration's record as
 * JSON (modules/prereg.h), outcome switching spelled out.
 */
#include "rpc/prereg.h"

#include <stdlib.h>
#include <string.h>

#include "modules/prereg.h"
#include "node/node.h"
#include "rpc/reply.h"

static cJSON *outcomes_json(const pel_outcomes *o)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; a && i < o->n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(o->s[i]));
    return a;
}

static cJSON *result_json(const pel_prereg_result *x)
{
    char id[PEL_OBJ_ID_STR_LEN + 1];
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    pel_obj_id_format(&x->object, id);
    id[PEL_OBJ_ID_STR_LEN] = 0;
    cJSON_AddStringToObject(o, "object", id);
    cJSON_AddNumberToObject(o, "height", (double)x->height);
    cJSON_AddItemToObject(o, "reported", outcomes_json(&x->reported));
    cJSON_AddBoolToObject(o, "outcome_switched", x->switched);
    cJSON_AddItemToObject(o, "added", outcomes_json(&x->added));
    cJSON_AddItemToObject(o, "dropped", outcomes_json(&x->dropped));
    return o;
}

static cJSON *record_json(const char *id, const pel_prereg *r)
{
    cJSON *o = cJSON_CreateObject(), *st = cJSON_CreateArray(), *res = cJSON_CreateArray();
    if (!o || !st || !res) { cJSON_Delete(o); cJSON_Delete(st); cJSON_Delete(res); return NULL; }
    cJSON_AddStringToObject(o, "id", id);
    pel_rpc_add_addr(o, "registrant", &r->registrant);
    cJSON_AddNumberToObject(o, "height", (double)r->height);
    pel_rpc_add_u64s(o, "time_ms", r->time_ms);
    pel_rpc_add_hex(o, "commitment", r->commitment, 32);
    cJSON_AddNumberToObject(o, "embargo_height", (double)r->embargo_height);
    pel_rpc_add_u64s(o, "embargo_time_ms", r->embargo_time_ms);
    cJSON_AddStringToObject(o, "registry_id", r->registry_id);
    pel_rpc_add_u64s(o, "sample_size", r->sample_size);
    cJSON_AddBoolToObject(o, "revealed", r->revealed);
    if (r->revealed) {
        cJSON_AddNumberToObject(o, "reveal_height", (double)r->reveal_height);
        pel_rpc_add_addr(o, "revealer", &r->revealer);
        pel_rpc_add_hex(o, "protocol_sha256", r->protocol, 32);
        cJSON_AddItemToObject(o, "primary_outcomes", outcomes_json(&r->primary));
    }
    int switched = 0;
    for (uint32_t i = 0; i < r->n_status; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "status", pel_prereg_status_names[r->status[i].status]);
        cJSON_AddNumberToObject(s, "height", (double)r->status[i].height);
        pel_rpc_add_u64s(s, "time_ms", r->status[i].time_ms);
        cJSON_AddItemToArray(st, s);
    }
    for (uint32_t i = 0; i < r->n_results; i++) {
        cJSON_AddItemToArray(res, result_json(&r->results[i]));
        switched |= r->results[i].switched;
    }
    cJSON_AddItemToObject(o, "status", st);
    cJSON_AddItemToObject(o, "results", res);
    cJSON_AddBoolToObject(o, "outcome_switched", switched);
    return o;
}

int pel_rpc_prereg(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_prereg_id id;
    const cJSON *it = pel_rpc_param(params, "id");
    if (!cJSON_IsString(it) || pel_prereg_id_parse(it->valuestring, &id))
        return pel_rpc_bad_params(err, "expected {\"id\": \"pel:prereg:<32 hex>\"}");
    pel_prereg *r = malloc(sizeof *r);
    if (!r) return PEL_ENOMEM;
    pel_state st = pel_store_state(pel_chain_store(pel_node_chain(n)));
    int rc = pel_prereg_get(&st, &id, r);
    if (!rc) *result = record_json(it->valuestring, r);
    free(r);
    if (rc) return pel_rpc_app_error(err, rc, NULL);
    return *result ? 0 : PEL_ENOMEM;
}
