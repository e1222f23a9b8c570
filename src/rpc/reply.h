/*
 * reply.h - helpers shared by the JSON-RPC method files (methods.c,
 * objects.c, ...): application errors in the documented shape, and the JSON
 * renderings of hashes, addresses and u64 strings.
 *
 * Application errors: error.code = PEL_RPC_APP_BASE + (PEL error code);
 * error.data = {"pel_code": <code>, "name": pel_strerror(code)}.
 *
 * Thread safety: no shared state.
 */
#ifndef PEL_RPC_REPLY_H
#define PEL_RPC_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ledger/tx.h"
#include "modules/registry.h"
#include "rpc/http.h"

#define PEL_RPC_APP_BASE (-32000)
#define PEL_RPC_LIST_MAX 1000       /* items in one page of a paged list (limit 1..this) */

/* pel_rpc_app_error - fill err for PEL code `code` (message why, or
 * pel_strerror(code)); returns code. */
int pel_rpc_app_error(pel_rpc_error *err, int code, const char *why);
/* pel_rpc_bad_params - an "invalid params" error with msg; returns PEL_EINVAL. */
int pel_rpc_bad_params(pel_rpc_error *err, const char *msg);
/* pel_rpc_param - params[name] when params is an object, else NULL. */
const cJSON *pel_rpc_param(const cJSON *params, const char *name);

void pel_rpc_add_hex(cJSON *o, const char *name, const uint8_t *p, size_t n);   /* n <= 64 */
void pel_rpc_add_u64s(cJSON *o, const char *name, uint64_t v);                 /* decimal string */
void pel_rpc_add_addr(cJSON *o, const char *name, const pel_addr *a);
cJSON *pel_rpc_addr_str(const pel_addr *a);
/* "pel:obj:<hex>", with "@v<version>" when version is not 0. */
void pel_rpc_add_obj_id(cJSON *o, const char *name, const pel_obj_id *id, uint32_t version);
/* pel_rpc_obj_id_param - params.id as "pel:obj:<32 hex>[@v<n>]" (*v = 0
 * without a version); else an invalid-params error. @return 0, PEL_EINVAL. */
int pel_rpc_obj_id_param(const cJSON *params, pel_obj_id *id, uint32_t *v, pel_rpc_error *err);
/* pel_rpc_limit_param - params.limit, an integer 1..max (def when absent);
 * else an invalid-params error. @return 0, PEL_EINVAL. */
int pel_rpc_limit_param(const cJSON *params, uint32_t def, uint32_t max, uint32_t *out, pel_rpc_error *err);

#endif
