/*
 * objects.c - the JSON-RPC methods of the research-object registry
 * (docs/API.md): object, object_first, object_upstream, object_downstream,
 * contributions, review. They read the committed state through
 * modules/registry.h and the node's indexes (node/objindex.h) and render
 * JSON; no rules here.
 */
#include "rpc/objects.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "modules/registry.h"
#include "modules/review.h"
#include "node/node.h"
#include "node/objindex.h"
#include "rpc/reply.h"

static int fail(pel_rpc_error *err, int code, const char *msg)
{
    return code == PEL_EINVAL ? pel_rpc_bad_params(err, msg) : pel_rpc_app_error(err, code, msg);
}

static cJSON *string_n(const uint8_t *p, uint32_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, p, n);
    s[n] = 0;
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

static cJSON *digests_json(const pel_obj_fields *f, uint16_t first_mask)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; a && i < f->n_digests; i++) {
        cJSON *d = cJSON_CreateObject();
        char mh[4 + 64 + 1] = "1220";
        pel_hex_encode(f->digests + 32 * i, 32, mh + 4);
        pel_rpc_add_hex(d, "sha256", f->digests + 32 * i, 32);
        cJSON_AddStringToObject(d, "multihash", mh);
        cJSON_AddBoolToObject(d, "first", (first_mask >> i) & 1);
        cJSON_AddItemToArray(a, d);
    }
    return a;
}

static cJSON *contributors_json(const pel_obj_fields *f)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; a && i < f->n_contrib; i++) {
        cJSON *c = cJSON_CreateObject(), *roles = cJSON_CreateArray();
        pel_rpc_add_addr(c, "address", &f->contrib[i].addr);
        for (int r = 0; r < PEL_CREDIT_ROLES; r++)
            if ((f->contrib[i].roles >> r) & 1) cJSON_AddItemToArray(roles, cJSON_CreateString(pel_credit_roles[r]));
        cJSON_AddItemToObject(c, "roles", roles);
        cJSON_AddItemToArray(a, c);
    }
    return a;
}

static cJSON *links_json(const pel_obj_fields *f)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; a && i < f->n_links; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "relation", pel_obj_relation_names[f->links[i].relation]);
        pel_rpc_add_obj_id(l, "target", &f->links[i].target, 0);
        cJSON_AddNumberToObject(l, "version", f->links[i].version);
        cJSON_AddItemToArray(a, l);
    }
    return a;
}

static cJSON *object_json(const pel_obj_id *id, uint32_t v, const pel_obj_head *h,
                          const pel_obj_version *ver, uint64_t refs)
{
    const pel_obj_fields *f = &ver->fields;
    cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateArray(), *u = cJSON_CreateArray();
    if (!o || !m || !u) { cJSON_Delete(o); cJSON_Delete(m); cJSON_Delete(u); return NULL; }
    pel_rpc_add_obj_id(o, "id", id, 0);
    cJSON_AddNumberToObject(o, "version", v);
    cJSON_AddNumberToObject(o, "versions", h->versions);
    cJSON_AddStringToObject(o, "kind", pel_obj_kind_names[h->kind]);
    cJSON_AddItemToObject(o, "title", string_n(f->title, f->title_len));
    pel_rpc_add_addr(o, "creator", &h->creator);
    for (uint32_t i = 0; i < h->n_maint; i++) cJSON_AddItemToArray(m, pel_rpc_addr_str(&h->maint[i]));
    cJSON_AddItemToObject(o, "maintainers", m);
    pel_rpc_add_addr(o, "registrant", &ver->registrant);
    cJSON_AddNumberToObject(o, "height", (double)ver->height);
    pel_rpc_add_hex(o, "tx", ver->txid, 32);
    cJSON_AddItemToObject(o, "license", string_n(f->license, f->license_len));
    cJSON_AddItemToObject(o, "digests", digests_json(f, ver->first_mask));
    for (uint32_t i = 0; i < f->n_uris; i++) cJSON_AddItemToArray(u, string_n(f->uri[i], f->uri_len[i]));
    cJSON_AddItemToObject(o, "uris", u);
    cJSON_AddItemToObject(o, "contributors", contributors_json(f));
    cJSON_AddItemToObject(o, "links", links_json(f));
    cJSON_AddNumberToObject(o, "cited_by", (double)refs);
    return o;
}

int pel_rpc_object(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_obj_id id;
    uint32_t v;
    pel_obj_head h;
    pel_obj_version ver;
    uint64_t refs = 0;
    pel_buf raw;
    if (pel_rpc_obj_id_param(params, &id, &v, err)) return PEL_EINVAL;
    pel_state st = pel_store_state(pel_chain_store(pel_node_chain(n)));
    pel_buf_init(&raw);
    int rc = pel_registry_head(&st, &id, &h);
    if (!rc) rc = pel_registry_version(&st, &id, v, &raw, &ver);
    if (!rc) rc = pel_registry_refs(&st, &id, &refs);
    if (!rc) *result = object_json(&id, v ? v : h.versions, &h, &ver, refs);
    pel_buf_free(&raw);
    if (rc) return fail(err, rc, NULL);
    return *result ? 0 : PEL_ENOMEM;
}

static int add_registration(void *arg, const pel_obj_registration *r)
{
    cJSON *a = arg, *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_obj_id(o, "id", &r->id, 0);
    cJSON_AddNumberToObject(o, "version", r->version);
    cJSON_AddNumberToObject(o, "height", (double)r->height);
    cJSON_AddNumberToObject(o, "index", r->index);
    cJSON_AddItemToArray(a, o);
    return cJSON_GetArraySize(a) >= PEL_RPC_LIST_MAX ? 1 : 0;
}

int pel_rpc_object_first(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    uint8_t dg[32];
    size_t len;
    pel_digest_first f;
    const cJSON *it = cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, "sha256") : NULL;
    if (!cJSON_IsString(it) || strlen(it->valuestring) != 64 || pel_hex_decode(it->valuestring, 64, dg, 32, &len))
        return fail(err, PEL_EINVAL, "expected {\"sha256\": \"<64 hex>\"}");
    pel_state st = pel_store_state(pel_chain_store(pel_node_chain(n)));
    int rc = pel_registry_first(&st, dg, &f);
    if (rc == PEL_ENOTFOUND) return fail(err, rc, "no object registers this content");
    if (rc) return fail(err, rc, NULL);
    cJSON *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_hex(o, "sha256", dg, 32);
    pel_rpc_add_obj_id(o, "id", &f.id, 0);
    cJSON_AddNumberToObject(o, "version", f.version);
    cJSON_AddNumberToObject(o, "height", (double)f.height);
    pel_rpc_add_addr(o, "registrant", &f.registrant);
    cJSON *regs = cJSON_AddArrayToObject(o, "registrations");
    if (regs) rc = pel_objindex_registrations(pel_chain_store(pel_node_chain(n)), dg, add_registration, regs);
    if (!regs || rc) { cJSON_Delete(o); return regs ? fail(err, rc, NULL) : PEL_ENOMEM; }
    cJSON_AddBoolToObject(o, "truncated", cJSON_GetArraySize(regs) >= PEL_RPC_LIST_MAX);
    *result = o;
    return 0;
}

static int add_edge(void *arg, const pel_obj_edge *e)
{
    cJSON *a = arg, *o = cJSON_CreateObject();
    if (!o) return PEL_ENOMEM;
    pel_rpc_add_obj_id(o, "from", &e->from, 0);
    cJSON_AddNumberToObject(o, "from_version", e->from_v);
    cJSON_AddStringToObject(o, "relation", pel_obj_relation_names[e->relation]);
    pel_rpc_add_obj_id(o, "to", &e->to, 0);
    cJSON_AddNumberToObject(o, "to_version", e->to_v);
    cJSON_AddNumberToObject(o, "depth", e->depth);
    cJSON_AddItemToArray(a, o);
    return cJSON_GetArraySize(a) >= PEL_RPC_UPSTREAM_MAX ? 1 : 0;
}

/* object_upstream / object_downstream: {id, depth} -> the walk's edges. */
static int walk_method(pel_node *n, const cJSON *params, int down, cJSON **result, pel_rpc_error *err)
{
    pel_obj_id id;
    uint32_t v;
    double depth = 3;
    if (pel_rpc_obj_id_param(params, &id, &v, err)) return PEL_EINVAL;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(params, "depth");
    if (d && (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 64 || d->valuedouble != (int)d->valuedouble))
        return fail(err, PEL_EINVAL, "depth is an integer from 1 to 64");
    if (d) depth = d->valuedouble;
    pel_store *store = pel_chain_store(pel_node_chain(n));
    pel_state st = pel_store_state(store);
    cJSON *o = cJSON_CreateObject(), *edges = cJSON_CreateArray();
    if (!o || !edges) { cJSON_Delete(o); cJSON_Delete(edges); return PEL_ENOMEM; }
    int rc = down ? pel_objindex_downstream(store, &st, &id, v, (uint32_t)depth, add_edge, edges)
                  : pel_registry_upstream(&st, &id, v, (uint32_t)depth, add_edge, edges);
    if (rc) { cJSON_Delete(o); cJSON_Delete(edges); return fail(err, rc, NULL); }
    pel_rpc_add_obj_id(o, "id", &id, 0);
    cJSON_AddNumberToObject(o, "version", v);
    cJSON_AddNumberToObject(o, "depth", depth);
    cJSON_AddBoolToObject(o, "truncated", cJSON_GetArraySize(edges) >= PEL_RPC_UPSTREAM_MAX);
    cJSON_AddItemToObject(o, "edges", edges);
    *result = o;
    return 0;
}

int pel_rpc_object_upstream(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    return walk_method(ctx, params, 0, result, err);
}

int pel_rpc_object_downstream(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    return walk_method(ctx, params, 1, result, err);
}

/* contributions: each object version naming the address, with its roles
 * and, for reading, the version's kind and title. */
typedef struct contrib_list {
    cJSON *a;
    const pel_state *st;
    pel_buf raw;
    uint32_t limit;
    pel_obj_contribution last;
    bool more;                   /* the scan found one beyond the page */
} contrib_list;

static int add_contribution(void *arg, const pel_obj_contribution *c)
{
    contrib_list *l = arg;
    pel_obj_version ver;
    pel_obj_head h;
    if ((uint32_t)cJSON_GetArraySize(l->a) >= l->limit) { l->more = true; return 1; }
    int rc = pel_registry_head(l->st, &c->id, &h);
    if (!rc) rc = pel_registry_version_get(l->st, &c->id, c->version, &l->raw, &ver);
    cJSON *o = rc ? NULL : cJSON_CreateObject(), *roles = o ? cJSON_AddArrayToObject(o, "roles") : NULL;
    if (rc) return rc;
    if (!roles) { cJSON_Delete(o); return PEL_ENOMEM; }
    pel_rpc_add_obj_id(o, "id", &c->id, c->version);
    cJSON_AddStringToObject(o, "kind", pel_obj_kind_names[h.kind]);
    cJSON_AddItemToObject(o, "title", string_n(ver.fields.title, ver.fields.title_len));
    cJSON_AddNumberToObject(o, "height", (double)ver.height);
    for (int i = 0; i < PEL_CREDIT_ROLES; i++)
        if ((c->roles >> i) & 1) cJSON_AddItemToArray(roles, cJSON_CreateString(pel_credit_roles[i]));
    cJSON_AddItemToArray(l->a, o);
    l->last = *c;
    return 0;
}

int pel_rpc_contributions(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_addr a;
    const char *why;
    pel_obj_contribution after;
    uint32_t limit;
    const cJSON *ad = pel_rpc_param(params, "address"), *af = pel_rpc_param(params, "after");
    if (!cJSON_IsString(ad) || pel_addr_parse(ad->valuestring, &a, &why))
        return fail(err, PEL_EINVAL, "expected {\"address\": \"pel1…\", \"after\": \"pel:obj:…@vN\" (optional), \"limit\": 1..1000 (optional)}");
    if (af && (!cJSON_IsString(af) || pel_obj_id_parse(af->valuestring, &after.id, &after.version) ||
               after.version == 0))
        return fail(err, PEL_EINVAL, "after is the last \"pel:obj:…@vN\" of the previous page");
    if (pel_rpc_limit_param(params, 100, PEL_RPC_LIST_MAX, &limit, err)) return PEL_EINVAL;
    pel_store *store = pel_chain_store(pel_node_chain(n));
    pel_state st = pel_store_state(store);
    contrib_list l = { cJSON_CreateArray(), &st, { 0 }, limit, { { { 0 } }, 0, 0 }, false };
    cJSON *o = cJSON_CreateObject();
    if (!o || !l.a) { cJSON_Delete(o); cJSON_Delete(l.a); return PEL_ENOMEM; }
    pel_buf_init(&l.raw);
    int rc = pel_objindex_contributions(store, &a, af ? &after : NULL, add_contribution, &l);
    pel_buf_free(&l.raw);
    if (rc) { cJSON_Delete(o); cJSON_Delete(l.a); return fail(err, rc, NULL); }
    pel_rpc_add_addr(o, "address", &a);
    cJSON_AddItemToObject(o, "objects", l.a);
    if (l.more)                                  /* the next page starts after the last */
        pel_rpc_add_obj_id(o, "next", &l.last.id, l.last.version);
    else
        cJSON_AddNullToObject(o, "next");
    *result = o;
    return 0;
}

int pel_rpc_review(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    pel_node *n = ctx;
    pel_obj_id id;
    uint32_t v;
    pel_review r;
    pel_obj_head h;
    pel_obj_version ver;
    pel_buf raw;
    if (pel_rpc_obj_id_param(params, &id, &v, err)) return PEL_EINVAL;
    pel_state st = pel_store_state(pel_chain_store(pel_node_chain(n)));
    pel_buf_init(&raw);
    int rc = pel_review_get(&st, &id, &r);
    if (!rc) rc = pel_registry_head(&st, &id, &h);
    if (!rc) rc = pel_registry_version(&st, &id, 1, &raw, &ver);
    cJSON *o = rc ? NULL : cJSON_CreateObject();
    if (o) {
        pel_rpc_add_obj_id(o, "id", &id, 0);
        pel_rpc_add_obj_id(o, "reviews", &r.target, r.version);
        cJSON_AddStringToObject(o, "recommendation", pel_review_rec_names[r.recommendation % PEL_REVIEW_RECS]);
        pel_rpc_add_addr(o, "reviewer", &h.creator);
        cJSON_AddBoolToObject(o, "pseudonymous", r.pseudonymous);
        cJSON_AddStringToObject(o, "competing_interests", r.competing);
        pel_rpc_add_hex(o, "review_sha256", ver.fields.digests, 32);
        cJSON_AddNumberToObject(o, "height", (double)ver.height);
    }
    pel_buf_free(&raw);
    if (rc == PEL_ENOTFOUND) return fail(err, rc, "not a review object");
    if (rc) return fail(err, rc, NULL);
    if (!o) return PEL_ENOMEM;
    *result = o;
    return 0;
}
