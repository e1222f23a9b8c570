/*
 * reply.c - JSON-RPC answer helpers (reply.h).
 */
#include "rpc/reply.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/hex.h"

int pel_rpc_app_error(pel_rpc_error *err, int code, const char *why)
{
    err->code = PEL_RPC_APP_BASE + code;
    snprintf(err->message, sizeof err->message, "%s", why ? why : pel_strerror(code));
    err->data = cJSON_CreateObject();
    if (err->data) {
        cJSON_AddNumberToObject(err->data, "pel_code", code);
        cJSON_AddStringToObject(err->data, "name", pel_strerror(code));
    }
    return code;
}

int pel_rpc_bad_params(pel_rpc_error *err, const char *msg)
{
    err->code = PEL_RPC_INVALID_PARAMS;
    snprintf(err->message, sizeof err->message, "%s", msg);
    return PEL_EINVAL;
}

const cJSON *pel_rpc_param(const cJSON *params, const char *name)
{
    return cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, name) : NULL;
}

void pel_rpc_add_hex(cJSON *o, const char *name, const uint8_t *p, size_t n)
{
    char s[2 * 64 + 1];
    pel_hex_encode(p, n, s);
    cJSON_AddStringToObject(o, name, s);
}

void pel_rpc_add_u64s(cJSON *o, const char *name, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    cJSON_AddStringToObject(o, name, s);
}

cJSON *pel_rpc_addr_str(const pel_addr *a)
{
    char s[PEL_ADDR_STR_LEN + 1];
    pel_addr_format(a, s);
    return cJSON_CreateString(s);
}

void pel_rpc_add_addr(cJSON *o, const char *name, const pel_addr *a)
{
    cJSON_AddItemToObject(o, name, pel_rpc_addr_str(a));
}

void pel_rpc_add_obj_id(cJSON *o, const char *name, const pel_obj_id *id, uint32_t version)
{
    char s[PEL_OBJ_ID_STR_LEN + 16];
    pel_obj_id_format(id, s);
    s[PEL_OBJ_ID_STR_LEN] = 0;
    if (version) snprintf(s + PEL_OBJ_ID_STR_LEN, 16, "@v%u", version);
    cJSON_AddStringToObject(o, name, s);
}

int pel_rpc_obj_id_param(const cJSON *params, pel_obj_id *id, uint32_t *v, pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, "id");
    if (!cJSON_IsString(it) || pel_obj_id_parse(it->valuestring, id, v))
        return pel_rpc_bad_params(err, "expected {\"id\": \"pel:obj:<32 hex>[@v<n>]\"}");
    return 0;
}

int pel_rpc_limit_param(const cJSON *params, uint32_t def, uint32_t max, uint32_t *out, pel_rpc_error *err)
{
    const cJSON *li = pel_rpc_param(params, "limit");
    *out = def;
    if (!li) return 0;
    if (!cJSON_IsNumber(li) || li->valuedouble < 1 || li->valuedouble > max ||
        li->valuedouble != (double)(uint32_t)li->valuedouble) {
        char msg[64];
        snprintf(msg, sizeof msg, "limit is an integer from 1 to %u", max);
        return pel_rpc_bad_params(err, msg);
    }
    *out = (uint32_t)li->valuedouble;
    return 0;
}
