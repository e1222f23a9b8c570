/* fuzz_rpc.c - libFuzzer target for the JSON-RPC request handling of
 * src/rpc/http.c (prescan, cJSON parse, request validation, batches,
 * dispatch, error replies) through pel_rpc_dispatch, with methods that use
 * the parameter helpers of src/rpc/reply.c. Properties: no crash or leak;
 * the reply is NULL only for a body that may be all notifications, and
 * otherwise valid JSON: an object with "jsonrpc":"2.0" or a non-empty
 * array of them; the same body gives the same reply. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rpc/http.h"
#include "rpc/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int m_echo(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    (void)ctx, (void)err;
    *result = params ? cJSON_Duplicate(params, 1) : cJSON_CreateNull();
    return *result ? 0 : PEL_ENOMEM;
}

static int m_object(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_obj_id id;
    uint32_t v, limit;
    (void)ctx;
    if (pel_rpc_obj_id_param(params, &id, &v, err)) return PEL_EINVAL;
    if (pel_rpc_limit_param(params, 10, 100, &limit, err)) return PEL_EINVAL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_obj_id(o, "id", &id, v);
    cJSON_AddNumberToObject(o, "limit", limit);
    *result = o;
    return 0;
}

static int m_fail(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    (void)ctx, (void)result;
    const cJSON *c = pel_rpc_param(params, "code");
    return pel_rpc_app_error(err, cJSON_IsNumber(c) && c->valueint < 0 && c->valueint > -300
                                      ? c->valueint : PEL_EINVAL, "asked to fail");
}

static const pel_rpc_method methods[] = {
    { "echo", m_echo }, { "object", m_object }, { "fail", m_fail },
};

static int valid_reply(const cJSON *r)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "jsonrpc");
    return cJSON_IsObject(r) && cJSON_IsString(v) && !strcmp(v->valuestring, "2.0")
        && (cJSON_GetObjectItemCaseSensitive(r, "result") != NULL)
           != (cJSON_GetObjectItemCaseSensitive(r, "error") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pel_http_opts o = pel_http_defaults();
    o.max_depth = 16;
    o.max_batch = 8;
    char *text = malloc(size + 1), *reply = NULL, *again = NULL;
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (pel_rpc_dispatch(&o, methods, 3, NULL, text, size, &reply)) abort();
    if (pel_rpc_dispatch(&o, methods, 3, NULL, text, size, &again)) abort();
    if ((reply == NULL) != (again == NULL) || (reply && strcmp(reply, again))) abort();
    if (reply) {
        cJSON *r = cJSON_Parse(reply);
        if (!r) abort();
        if (cJSON_IsArray(r)) {
            const cJSON *e;
            if (cJSON_GetArraySize(r) == 0) abort();
            cJSON_ArrayForEach(e, r) if (!valid_reply(e)) abort();
        } else if (!valid_reply(r)) {
            abort();
        }
        cJSON_Delete(r);
    }
    cJSON_free(reply);
    cJSON_free(again);
    free(text);
    return 0;
}
