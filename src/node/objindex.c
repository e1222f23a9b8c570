/*
 * objindex.c - the node's query indexes over the registry (objindex.h):
 * entries from object events, written per block, rebuilt and checked from
 * the stored receipts, and the three scans that answer queries.
 */
#include "node/objindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "ledger/block.h"
#include "modules/licence.h"

enum { TAG_LINK = 'L', TAG_CONTRIB = 'C', TAG_DIGEST = 'D', TAG_LICENCE = 'P' };
enum {
    LINK_KEY = 1 + 16 + 16 + 4 + 1 + 4,
    CONTRIB_KEY = 1 + PEL_ADDR_LEN + 16 + 4,
    DIGEST_KEY = 1 + 32 + 8 + 4 + 16 + 4,
    LICENCE_KEY = 1 + 16 + 8 + 4,
    LICENCE_VAL = PEL_ADDR_LEN + 8 + 4,
    KEY_MAX = DIGEST_KEY
};
enum { ENSURE_BATCH = 4096 };   /* receipts per write transaction when building */

static void be_store(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t be_load(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* ---- entries of one object version ---- */

/* Where entries go: a write transaction, or a list (building, checking). */
typedef int (*put_fn)(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl);

static int version_entries(const pel_obj_id *id, uint32_t v, uint64_t height, uint32_t index,
                           const pel_obj_version *ver, put_fn put, void *ctx)
{
    uint8_t k[KEY_MAX], roles[2];
    int rc = 0;
    const pel_obj_fields *f = &ver->fields;
    for (uint32_t i = 0; !rc && i < f->n_links; i++) {
        const pel_obj_link *l = &f->links[i];
        k[0] = TAG_LINK;
        memcpy(k + 1, l->target.b, 16);
        memcpy(k + 17, id->b, 16);
        be_store(k + 33, v, 4);
        k[37] = l->relation;
        be_store(k + 38, l->version, 4);
        rc = put(ctx, k, LINK_KEY, NULL, 0);
    }
    for (uint32_t i = 0; !rc && i < f->n_contrib; i++) {
        k[0] = TAG_CONTRIB;
        memcpy(k + 1, f->contrib[i].addr.b, PEL_ADDR_LEN);
        memcpy(k + 1 + PEL_ADDR_LEN, id->b, 16);
        be_store(k + 1 + PEL_ADDR_LEN + 16, v, 4);
        pel_le_store(roles, f->contrib[i].roles, 2);
        rc = put(ctx, k, CONTRIB_KEY, roles, 2);
    }
    for (uint32_t i = 0; !rc && i < f->n_digests; i++) {
        k[0] = TAG_DIGEST;
        memcpy(k + 1, f->digests + 32 * i, 32);
        be_store(k + 33, height, 8);
        be_store(k + 41, index, 4);
        memcpy(k + 45, id->b, 16);
        be_store(k + 61, v, 4);
        rc = put(ctx, k, DIGEST_KEY, NULL, 0);
    }
    return rc;
}

/* A purchase: 'P' ‖ id ‖ height ‖ index -> buyer ‖ price ‖ revision. */
static int licence_entry(const uint8_t *ev, size_t n, uint64_t height, uint32_t index, put_fn put,
                         void *ctx)
{
    pel_obj_id id;
    pel_addr buyer;
    uint64_t price;
    uint32_t revision;
    uint8_t k[LICENCE_KEY], v[LICENCE_VAL];
    if (!pel_licence_event(ev, n, &id, &buyer, &price, &revision)) return 0;
    k[0] = TAG_LICENCE;
    memcpy(k + 1, id.b, 16);
    be_store(k + 17, height, 8);
    be_store(k + 25, index, 4);
    memcpy(v, buyer.b, PEL_ADDR_LEN);
    pel_le_store(v + PEL_ADDR_LEN, price, 8);
    pel_le_store(v + PEL_ADDR_LEN + 8, revision, 4);
    return put(ctx, k, sizeof k, v, sizeof v);
}

/* The entries of one receipt: each object event's version, read from st,
 * and each licence purchase. */
static int receipt_entries(const pel_state *st, uint64_t height, uint32_t index,
                           const pel_receipt *r, pel_buf *raw, put_fn put, void *ctx)
{
    pel_dec d;
    if (r->status != 0) return 0;
    pel_dec_init(&d, r->events, r->events_len);
    while (d.pos < d.len) {
        const uint8_t *ev;
        size_t n;
        pel_obj_id id;
        uint32_t v;
        pel_obj_version ver;
        if (pel_dec_bytes(&d, UINT32_MAX, &ev, &n)) return PEL_ECORRUPT;
        if (!pel_registry_event(ev, n, &id, &v)) {
            int rc = licence_entry(ev, n, height, index, put, ctx);
            if (rc) return rc;
            continue;
        }
        int rc = pel_registry_version_get(st, &id, v, raw, &ver);
        if (rc == PEL_EOBJ_VERSION) rc = PEL_ECORRUPT;    /* an event without its record */
        if (!rc) rc = version_entries(&id, v, height, index, &ver, put, ctx);
        if (rc) return rc;
    }
    return 0;
}

static int txn_put(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    return pel_store_put(ctx, PEL_T_INDEX, k, kl, v ? v : (const uint8_t *)"", vl);
}

int pel_objindex_block(pel_store_txn *w, const pel_state *post, uint64_t height,
                       const pel_receipt *rcpts, uint32_t n)
{
    pel_buf raw;
    int rc = 0;
    pel_buf_init(&raw);
    for (uint32_t i = 0; !rc && i < n; i++)
        rc = receipt_entries(post, height, i, &rcpts[i], &raw, txn_put, w);
    pel_buf_free(&raw);
    return rc;
}

/* ---- building and checking from the stored receipts ---- */

/* A list of entries: (klen u8 ‖ key ‖ vlen u8 ‖ value)*. */
static int list_put(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    pel_buf *b = ctx;
    uint8_t l = (uint8_t)kl, m = (uint8_t)vl;
    int rc = pel_buf_append(b, &l, 1);
    if (!rc) rc = pel_buf_append(b, k, kl);
    if (!rc) rc = pel_buf_append(b, &m, 1);
    if (!rc && vl) rc = pel_buf_append(b, v, vl);
    return rc;
}

typedef struct gather {
    pel_state st;
    pel_buf raw, *out;
    uint64_t seen;
    uint32_t limit;          /* stop after this many receipts (0 = none) */
    uint8_t last[12];        /* the last receipt key read */
} gather;

static int gather_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    gather *g = arg;
    pel_receipt r;
    if (kl != 12 || pel_receipt_decode(v, vl, &r)) return PEL_ECORRUPT;
    int rc = receipt_entries(&g->st, be_load(k, 8), (uint32_t)be_load(k + 8, 4), &r, &g->raw,
                             list_put, g->out);
    if (rc) return rc;
    memcpy(g->last, k, 12);
    g->seen++;
    return g->limit && g->seen % g->limit == 0 ? 1 : 0;
}

/* Entries of the receipts from `from` on (at most g->limit of them). */
static int gather_from(pel_store *s, gather *g, const uint8_t *from, size_t from_len)
{
    return pel_store_scan(s, PEL_T_RECEIPTS, from, from_len, NULL, 0, gather_one, g);
}

static int write_list(pel_store *s, const pel_buf *list, int mark)
{
    pel_store_txn *w;
    uint8_t ver = PEL_OBJINDEX_VERSION;
    int rc = pel_store_begin(s, &w);
    if (rc) return rc;
    for (size_t p = 0; !rc && p < list->len;) {
        const uint8_t *k = list->data + p + 1, *v = k + list->data[p] + 1;
        size_t kl = list->data[p], vl = k[kl];
        rc = pel_store_put(w, PEL_T_INDEX, k, kl, vl ? v : (const uint8_t *)"", vl);
        p += 2 + kl + vl;
    }
    if (!rc && mark) rc = pel_store_put(w, PEL_T_META, "objindex", 8, &ver, 1);
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

int pel_objindex_ensure(pel_store *s, uint64_t *built)
{
    pel_buf have, list;
    *built = 0;
    pel_buf_init(&have);
    int rc = pel_store_get(s, PEL_T_META, "objindex", 8, &have);
    int ok = rc == 0 && have.len == 1 && have.data[0] == PEL_OBJINDEX_VERSION;
    pel_buf_free(&have);
    if (ok) return 0;
    if (rc && rc != PEL_ENOTFOUND) return rc;
    pel_buf_init(&list);
    gather g = { pel_store_state(s), { 0 }, &list, 0, ENSURE_BATCH, { 0 } };
    pel_buf_init(&g.raw);
    uint8_t from[13];
    size_t from_len = 0;
    for (;;) {
        uint64_t before = g.seen;
        pel_buf_reset(&list);
        rc = gather_from(s, &g, from, from_len);
        int more = rc == 1 || (rc == 0 && g.seen - before == ENSURE_BATCH);
        if (rc < 0) break;
        rc = write_list(s, &list, !more);
        if (rc || !more) break;
        memcpy(from, g.last, 12);           /* the least key after the last one */
        from[12] = 0;
        from_len = 13;
    }
    *built = g.seen;
    pel_buf_free(&g.raw);
    pel_buf_free(&list);
    return rc < 0 ? rc : 0;
}

/* Sorting the expected entries (pointers into the list) for the check. */
typedef struct entry { const uint8_t *k, *v; uint8_t kl, vl; } entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
    return c ? c : (int)x->kl - (int)y->kl;
}

typedef struct cmp_walk {
    const entry *e;
    size_t n, at;
    char *err;
    size_t errlen;
} cmp_walk;

static int compare_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    cmp_walk *c = arg;
    entry got = { k, v, (uint8_t)kl, (uint8_t)vl };
    if (c->at == c->n || kl > KEY_MAX) {
        snprintf(c->err, c->errlen, "the object index holds an entry no block gives (tag '%c')", kl ? k[0] : '?');
        return PEL_ECORRUPT;
    }
    const entry *want = &c->e[c->at++];
    if (entry_cmp(want, &got) != 0) {
        snprintf(c->err, c->errlen, "the object index lacks an entry the blocks give (tag '%c')", want->k[0]);
        return PEL_ECORRUPT;
    }
    if (want->vl != vl || memcmp(want->v, v, vl) != 0) {
        snprintf(c->err, c->errlen, "an object index entry has the wrong value (tag '%c')", k[0]);
        return PEL_ECORRUPT;
    }
    return 0;
}

int pel_objindex_check(pel_store *s, char *err, size_t errlen)
{
    pel_buf list;
    pel_buf_init(&list);
    gather g = { pel_store_state(s), { 0 }, &list, 0, 0, { 0 } };
    pel_buf_init(&g.raw);
    int rc = gather_from(s, &g, NULL, 0);
    pel_buf_free(&g.raw);
    size_t n = 0;
    for (size_t p = 0; p < list.len; p += 2 + list.data[p] + list.data[p + 1 + list.data[p]]) n++;
    entry *e = rc ? NULL : malloc((n ? n : 1) * sizeof *e);
    if (!rc && !e) rc = PEL_ENOMEM;
    for (size_t p = 0, i = 0; !rc && p < list.len; i++) {
        e[i].kl = list.data[p];
        e[i].k = list.data + p + 1;
        e[i].vl = e[i].k[e[i].kl];
        e[i].v = e[i].k + e[i].kl + 1;
        p += 2 + (size_t)e[i].kl + e[i].vl;
    }
    size_t u = 0;
    if (!rc && n) {                      /* as a set: puts of one key are one entry */
        qsort(e, n, sizeof *e, entry_cmp);
        for (size_t i = 0; i < n; i++)
            if (u == 0 || entry_cmp(&e[u - 1], &e[i]) != 0) e[u++] = e[i];
    }
    cmp_walk c = { e, u, 0, err, errlen };
    if (!rc) rc = pel_store_scan(s, PEL_T_INDEX, NULL, 0, NULL, 0, compare_one, &c);
    if (!rc && c.at != c.n) {
        snprintf(err, errlen, "the object index lacks %zu entries the blocks give", c.n - c.at);
        rc = PEL_ECORRUPT;
    }
    free(e);
    pel_buf_free(&list);
    return rc;
}

/* ---- queries ---- */

/* The least key above every key that starts with prefix[0..n), in to;
 * @return its length (0: there is none, scan to the end). */
static size_t prefix_end(const uint8_t *prefix, size_t n, uint8_t *to)
{
    memcpy(to, prefix, n);
    while (n > 0 && to[n - 1] == 0xff) n--;
    if (n) to[n - 1]++;
    return n;
}

/* Scan the keys from `from` on that start with prefix[0..n). */
static int scan_prefix(pel_store *s, const uint8_t *prefix, size_t n, const uint8_t *from,
                       size_t from_len, pel_store_scan_fn fn, void *arg)
{
    uint8_t to[KEY_MAX];
    size_t tl = prefix_end(prefix, n, to);
    int rc = pel_store_scan(s, PEL_T_INDEX, from, from_len, tl ? to : NULL, tl, fn, arg);
    return rc > 0 ? 0 : rc;
}

typedef struct down_scan {
    uint32_t v;              /* the start's version filter (0 = any) */
    int filter;
    int (*edge)(void *w, const pel_obj_edge *e);
    void *w;
} down_scan;

static int down_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    down_scan *d = arg;
    (void)v;
    if (kl != LINK_KEY || vl != 0 || k[37] >= PEL_REL_COUNT) return PEL_ECORRUPT;
    pel_obj_edge e;
    memset(&e, 0, sizeof e);
    memcpy(e.to.b, k + 1, 16);
    memcpy(e.from.b, k + 17, 16);
    e.from_v = (uint32_t)be_load(k + 33, 4);
    e.relation = k[37];
    e.to_v = (uint32_t)be_load(k + 38, 4);
    if (d->filter && e.to_v != 0 && e.to_v != d->v) return 0;
    return d->edge(d->w, &e);
}

typedef struct down_ctx { pel_store *s; const pel_obj_id *start; } down_ctx;

static int down_edges(void *ctx, const pel_obj_id *id, uint32_t v,
                      int (*edge)(void *w, const pel_obj_edge *e), void *w)
{
    down_ctx *c = ctx;
    uint8_t prefix[17] = { TAG_LINK };
    memcpy(prefix + 1, id->b, 16);
    int start = memcmp(id->b, c->start->b, 16) == 0;
    down_scan d = { v, start && v != 0, edge, w };
    return scan_prefix(c->s, prefix, sizeof prefix, prefix, sizeof prefix, down_one, &d);
}

int pel_objindex_downstream(pel_store *s, const pel_state *st, const pel_obj_id *id, uint32_t v,
                            uint32_t depth, int (*fn)(void *arg, const pel_obj_edge *e), void *arg)
{
    pel_obj_head h;
    int rc = pel_registry_head(st, id, &h);
    if (rc) return rc;
    if (v > h.versions) return PEL_EOBJ_VERSION;
    down_ctx c = { s, id };
    pel_obj_graph g = { down_edges, 1, &c };
    return pel_obj_walk(&g, id, v, depth, fn, arg);
}

typedef struct contrib_scan {
    int (*fn)(void *arg, const pel_obj_contribution *c);
    void *arg;
} contrib_scan;

static int contrib_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    contrib_scan *c = arg;
    pel_obj_contribution x;
    if (kl != CONTRIB_KEY || vl != 2) return PEL_ECORRUPT;
    memcpy(x.id.b, k + 1 + PEL_ADDR_LEN, 16);
    x.version = (uint32_t)be_load(k + 1 + PEL_ADDR_LEN + 16, 4);
    x.roles = (uint16_t)pel_le_load(v, 2);
    return c->fn(c->arg, &x);
}

int pel_objindex_contributions(pel_store *s, const pel_addr *a, const pel_obj_contribution *after,
                               int (*fn)(void *arg, const pel_obj_contribution *c), void *arg)
{
    uint8_t from[CONTRIB_KEY + 1] = { TAG_CONTRIB };
    memcpy(from + 1, a->b, PEL_ADDR_LEN);
    size_t from_len = 1 + PEL_ADDR_LEN;
    if (after) {                       /* the least key after (id, v) */
        memcpy(from + from_len, after->id.b, 16);
        be_store(from + from_len + 16, after->version, 4);
        from[CONTRIB_KEY] = 0;
        from_len = CONTRIB_KEY + 1;
    }
    contrib_scan c = { fn, arg };
    return scan_prefix(s, from, 1 + PEL_ADDR_LEN, from, from_len, contrib_one, &c);
}

typedef struct reg_scan {
    int (*fn)(void *arg, const pel_obj_registration *r);
    void *arg;
} reg_scan;

static int reg_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    reg_scan *c = arg;
    pel_obj_registration r;
    (void)v;
    if (kl != DIGEST_KEY || vl != 0) return PEL_ECORRUPT;
    r.height = be_load(k + 33, 8);
    r.index = (uint32_t)be_load(k + 41, 4);
    memcpy(r.id.b, k + 45, 16);
    r.version = (uint32_t)be_load(k + 61, 4);
    return c->fn(c->arg, &r);
}

int pel_objindex_registrations(pel_store *s, const uint8_t digest[32],
                               int (*fn)(void *arg, const pel_obj_registration *r), void *arg)
{
    uint8_t prefix[33] = { TAG_DIGEST };
    memcpy(prefix + 1, digest, 32);
    reg_scan c = { fn, arg };
    return scan_prefix(s, prefix, sizeof prefix, prefix, sizeof prefix, reg_one, &c);
}

typedef struct lic_scan {
    int (*fn)(void *arg, const pel_obj_purchase *p);
    void *arg;
} lic_scan;

static int lic_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    lic_scan *c = arg;
    pel_obj_purchase p;
    if (kl != LICENCE_KEY || vl != LICENCE_VAL) return PEL_ECORRUPT;
    p.height = be_load(k + 17, 8);
    p.index = (uint32_t)be_load(k + 25, 4);
    memcpy(p.buyer.b, v, PEL_ADDR_LEN);
    p.price = pel_le_load(v + PEL_ADDR_LEN, 8);
    p.revision = (uint32_t)pel_le_load(v + PEL_ADDR_LEN + 8, 4);
    return c->fn(c->arg, &p);
}

int pel_objindex_purchases(pel_store *s, const pel_obj_id *id, const pel_obj_purchase *after,
                           int (*fn)(void *arg, const pel_obj_purchase *p), void *arg)
{
    uint8_t from[LICENCE_KEY + 1] = { TAG_LICENCE };
    memcpy(from + 1, id->b, 16);
    size_t from_len = 17;
    if (after) {                       /* the least key after (height, index) */
        be_store(from + 17, after->height, 8);
        be_store(from + 25, after->index, 4);
        from[LICENCE_KEY] = 0;
        from_len = LICENCE_KEY + 1;
    }
    lic_scan c = { fn, arg };
    return scan_prefix(s, from, 17, from, from_len, lic_one, &c);
}
