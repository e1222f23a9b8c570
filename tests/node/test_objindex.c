/*
 * test_objindex.c - the node's object index (node/objindex.h) on a real
 * chain: downstream walks (with a cycle), contributions with paging, every
 * registration of a digest, failed transactions leaving no entries,
 * `pel admin verify` noticing a missing or extra entry, and a store
 * without an index getting it rebuilt from its receipts on open.
 */
#include "test.h"
#include "tmpdir.h"

#include "modules/licence.h"
#include "modules/modules.h"
#include "modules/registry.h"
#include "node/chain.h"
#include "node/objindex.h"

#define CHAIN "objindex-test"
#define ACCTS 4

typedef struct account { uint8_t pk[32], sk[64]; pel_addr addr; uint64_t nonce; } account;

static char *dir;
static account accts[ACCTS];
static pel_genesis gen;
static uint8_t node_sk[64];

typedef struct txs { uint8_t *raw[16]; pel_tx tx[16]; const pel_tx *ptr[16]; uint32_t n; } txs;

/* Object fields: digest byte dg, links as given, contributors 1 and 2. */
static void fields(pel_obj_fields *f, uint8_t *dg, uint8_t dgb, const pel_obj_link *links, uint32_t nl)
{
    memset(f, 0, sizeof *f);
    memset(dg, dgb, 32);
    f->kind = PEL_OBJ_DATASET;
    f->title = (const uint8_t *)"Index test";
    f->title_len = 10;
    f->n_digests = 1;
    f->digests = dg;
    f->license = (const uint8_t *)"CC0-1.0";
    f->license_len = 7;
    f->n_contrib = 2;
    f->contrib[0] = (pel_obj_contrib){ accts[1].addr, 1u << 0 };           /* conceptualization */
    f->contrib[1] = (pel_obj_contrib){ accts[2].addr, 1u << 8 | 1u << 2 }; /* software, formal-analysis */
    for (uint32_t i = 0; i < nl; i++) f->links[i] = links[i];
    f->n_links = nl;
    pel_obj_fields_sort(f);
}

/* Add a registration (self NULL) or a new version of *self. */
static void add_obj(txs *t, int from, const pel_obj_id *self, uint8_t dgb, const pel_obj_link *links,
                    uint32_t nl, pel_obj_id *id_out)
{
    pel_obj_fields f;
    uint8_t dg[32];
    pel_buf body, b;
    pel_tx tx;
    fields(&f, dg, dgb, links, nl);
    pel_buf_init(&body);
    pel_buf_init(&b);
    if (self) CHECK_EQ_INT(pel_buf_append(&body, self->b, PEL_OBJ_ID_LEN), 0);
    CHECK_EQ_INT(pel_obj_fields_encode(&f, &body), 0);
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)CHAIN;
    tx.chain_id_len = (uint32_t)strlen(CHAIN);
    tx.nonce = accts[from].nonce++;
    tx.gas_limit = 200000;
    tx.gas_price = 1;
    tx.type = self ? PEL_TX_OBJ_VERSION : PEL_TX_OBJ_REGISTER;
    tx.body = body.data;
    tx.body_len = (uint32_t)body.len;
    CHECK_EQ_INT(pel_tx_sign(&tx, accts[from].sk, &b), 0);
    t->raw[t->n] = malloc(b.len);
    memcpy(t->raw[t->n], b.data, b.len);
    CHECK_EQ_INT(pel_tx_decode(t->raw[t->n], b.len, &t->tx[t->n]), 0);
    t->ptr[t->n] = &t->tx[t->n];
    if (id_out) pel_obj_id_of(t->tx[t->n].id, id_out);
    t->n++;
    pel_buf_free(&body);
    pel_buf_free(&b);
}

/* Any module transaction with a ready body. */
static void add_tx(txs *t, int from, uint16_t type, const pel_buf *body)
{
    pel_buf b;
    pel_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)CHAIN;
    tx.chain_id_len = (uint32_t)strlen(CHAIN);
    tx.nonce = accts[from].nonce++;
    tx.gas_limit = 200000;
    tx.gas_price = 1;
    tx.type = type;
    tx.body = body->data;
    tx.body_len = (uint32_t)body->len;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_tx_sign(&tx, accts[from].sk, &b), 0);
    t->raw[t->n] = malloc(b.len);
    memcpy(t->raw[t->n], b.data, b.len);
    CHECK_EQ_INT(pel_tx_decode(t->raw[t->n], b.len, &t->tx[t->n]), 0);
    t->ptr[t->n] = &t->tx[t->n];
    t->n++;
    pel_buf_free(&b);
}

static void commit(pel_chain *c, pel_engine *e, txs *t, uint64_t now, int32_t want_last)
{
    pel_built_block bb;
    CHECK_EQ_INT(pel_chain_build(c, e, t->ptr, t->n, now, node_sk, &bb), 0);
    for (uint32_t i = 0; i + 1 < t->n; i++) CHECK_EQ_INT(bb.result.receipts[i].status, 0);
    CHECK_EQ_INT(bb.result.receipts[t->n - 1].status, want_last);
    CHECK_EQ_INT(pel_chain_commit(c, &bb), 0);
    pel_built_block_free(&bb);
    for (uint32_t i = 0; i < t->n; i++) free(t->raw[i]);
    t->n = 0;
}

static pel_obj_id A, B, C, D, E;

/* Two blocks: A; B cites A, C derived-from B, D uses-data A@v1, E (same
 * content as B, a later registration), A v2 derived-from C (a cycle), and
 * a registration linking to an unknown object (fails: no entries). */
static void build(pel_chain *c, pel_engine *e)
{
    txs t = { .n = 0 };
    add_obj(&t, 0, NULL, 0xa0, NULL, 0, &A);
    add_obj(&t, 3, NULL, 0xee, NULL, 0, NULL);       /* a plain one, so the block has two */
    commit(c, e, &t, 5000, 0);
    pel_obj_link l;
    l = (pel_obj_link){ PEL_REL_CITES, A, 0 };
    add_obj(&t, 0, NULL, 0xb0, &l, 1, &B);
    commit(c, e, &t, 6000, 0);
    l = (pel_obj_link){ PEL_REL_DERIVED_FROM, B, 0 };
    add_obj(&t, 1, NULL, 0xc0, &l, 1, &C);
    l = (pel_obj_link){ PEL_REL_USES_DATA, A, 1 };
    add_obj(&t, 2, NULL, 0xd0, &l, 1, &D);
    add_obj(&t, 3, NULL, 0xb0, NULL, 0, &E);
    l = (pel_obj_link){ PEL_REL_DERIVED_FROM, C, 0 };
    add_obj(&t, 0, &A, 0xa1, &l, 1, NULL);
    pel_obj_id nobody;
    memset(nobody.b, 0x5a, sizeof nobody.b);
    l = (pel_obj_link){ PEL_REL_CITES, nobody, 0 };
    add_obj(&t, 2, NULL, 0xf0, &l, 1, NULL);
    commit(c, e, &t, 7000, PEL_EOBJ_UNKNOWN);
}

typedef struct edges { pel_obj_edge e[32]; int n; int stop_at; } edges;

static int take_edge(void *arg, const pel_obj_edge *e)
{
    edges *x = arg;
    if (x->n < 32) x->e[x->n] = *e;
    x->n++;
    return x->stop_at && x->n >= x->stop_at ? 1 : 0;
}

static int has_edge(const edges *x, const pel_obj_id *from, uint32_t from_v, int rel,
                    const pel_obj_id *to, uint32_t to_v, uint32_t depth)
{
    for (int i = 0; i < x->n && i < 32; i++) {
        const pel_obj_edge *e = &x->e[i];
        if (!memcmp(e->from.b, from->b, 16) && e->from_v == from_v && e->relation == rel &&
            !memcmp(e->to.b, to->b, 16) && e->to_v == to_v && e->depth == depth) return 1;
    }
    return 0;
}

static void queries(pel_chain *c)
{
    pel_store *s = pel_chain_store(c);
    pel_state st = pel_store_state(s);
    edges x = { .n = 0 };
    /* one level: B and D link to A (D to version 1) */
    CHECK_EQ_INT(pel_objindex_downstream(s, &st, &A, 0, 1, take_edge, &x), 0);
    CHECK_EQ_INT(x.n, 2);
    CHECK(has_edge(&x, &B, 1, PEL_REL_CITES, &A, 0, 1));
    CHECK(has_edge(&x, &D, 1, PEL_REL_USES_DATA, &A, 1, 1));
    /* version 2 of A: D linked version 1, so only B remains */
    x.n = 0;
    CHECK_EQ_INT(pel_objindex_downstream(s, &st, &A, 2, 1, take_edge, &x), 0);
    CHECK_EQ_INT(x.n, 1);
    CHECK(has_edge(&x, &B, 1, PEL_REL_CITES, &A, 0, 1));
    /* deep: A <- B <- C <- A@v2 (the cycle is reported once, not walked again) */
    x.n = 0;
    CHECK_EQ_INT(pel_objindex_downstream(s, &st, &A, 0, 10, take_edge, &x), 0);
    CHECK_EQ_INT(x.n, 4);
    CHECK(has_edge(&x, &C, 1, PEL_REL_DERIVED_FROM, &B, 0, 2));
    CHECK(has_edge(&x, &A, 2, PEL_REL_DERIVED_FROM, &C, 0, 3));
    /* the callback can stop the walk */
    x.n = 0;
    x.stop_at = 2;
    CHECK_EQ_INT(pel_objindex_downstream(s, &st, &A, 0, 10, take_edge, &x), 0);
    CHECK_EQ_INT(x.n, 2);
    /* upstream through the same walker: A@v2 -> C -> B -> A */
    x = (edges){ .n = 0 };
    CHECK_EQ_INT(pel_registry_upstream(&st, &A, 2, 10, take_edge, &x), 0);
    CHECK_EQ_INT(x.n, 3);
    CHECK(has_edge(&x, &B, 1, PEL_REL_CITES, &A, 0, 3));    /* B reached as a whole: its latest, v1 */
    /* unknown start, unknown version */
    pel_obj_id none;
    memset(none.b, 0x11, sizeof none.b);
    CHECK_EQ_INT(pel_objindex_downstream(s, &st, &none, 0, 1, take_edge, &x), PEL_EOBJ_UNKNOWN);
    CHECK_EQ_INT(pel_objindex_downstream(s, &st, &A, 3, 1, take_edge, &x), PEL_EOBJ_VERSION);
}

typedef struct contribs { pel_obj_contribution c[16]; int n, stop_at; } contribs;

static int take_contrib(void *arg, const pel_obj_contribution *c)
{
    contribs *x = arg;
    if (x->n < 16) x->c[x->n] = *c;
    x->n++;
    return x->stop_at && x->n >= x->stop_at ? 1 : 0;
}

static int take_reg(void *arg, const pel_obj_registration *r)
{
    pel_obj_registration *out = arg;
    int n = 0;
    while (n < 4 && out[n].height) n++;
    if (n < 4) out[n] = *r;
    return 0;
}

static void contributions_and_registrations(pel_chain *c)
{
    pel_store *s = pel_chain_store(c);
    contribs x = { .n = 0 };
    /* 7 successful versions (A, the plain one, B, C, D, E, A v2) name account 1 */
    CHECK_EQ_INT(pel_objindex_contributions(s, &accts[1].addr, NULL, take_contrib, &x), 0);
    CHECK_EQ_INT(x.n, 7);
    for (int i = 0; i < 7; i++) CHECK_EQ_INT(x.c[i].roles, 1u << 0);
    for (int i = 1; i < 7; i++)      /* in (id, version) order */
        CHECK(memcmp(x.c[i - 1].id.b, x.c[i].id.b, 16) < 0 ||
              (!memcmp(x.c[i - 1].id.b, x.c[i].id.b, 16) && x.c[i - 1].version < x.c[i].version));
    /* paging: 3, then the rest after the third */
    contribs p = { .n = 0, .stop_at = 3 };
    CHECK_EQ_INT(pel_objindex_contributions(s, &accts[2].addr, NULL, take_contrib, &p), 0);
    CHECK_EQ_INT(p.n, 3);
    CHECK_EQ_INT(p.c[0].roles, 1u << 8 | 1u << 2);
    contribs q = { .n = 0 };
    CHECK_EQ_INT(pel_objindex_contributions(s, &accts[2].addr, &p.c[2], take_contrib, &q), 0);
    CHECK_EQ_INT(q.n, 4);
    CHECK_MEM(q.c[0].id.b, x.c[3].id.b, 16);
    CHECK_EQ_INT(q.c[0].version, x.c[3].version);
    /* nobody else */
    contribs none = { .n = 0 };
    CHECK_EQ_INT(pel_objindex_contributions(s, &accts[0].addr, NULL, take_contrib, &none), 0);
    CHECK_EQ_INT(none.n, 0);
    /* content 0xb0: B first (block 2), E later (block 3) */
    uint8_t dg[32];
    pel_obj_registration r[4];
    memset(r, 0, sizeof r);
    memset(dg, 0xb0, 32);
    CHECK_EQ_INT(pel_objindex_registrations(s, dg, take_reg, r), 0);
    CHECK_EQ_INT(r[0].height, 2);
    CHECK_MEM(r[0].id.b, B.b, 16);
    CHECK_EQ_INT(r[1].height, 3);
    CHECK_EQ_INT(r[1].index, 2);
    CHECK_MEM(r[1].id.b, E.b, 16);
    CHECK_EQ_INT(r[2].height, 0);
    /* the failed registration's content is nowhere */
    memset(r, 0, sizeof r);
    memset(dg, 0xf0, 32);
    CHECK_EQ_INT(pel_objindex_registrations(s, dg, take_reg, r), 0);
    CHECK_EQ_INT(r[0].height, 0);
}

/* Damage the index with the node stopped; verify must say so. */
typedef struct first_key { uint8_t k[80]; size_t kl; uint8_t v[8]; size_t vl; } first_key;

static int grab_first(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    first_key *f = arg;
    memcpy(f->k, k, kl);
    f->kl = kl;
    memcpy(f->v, v, vl);
    f->vl = vl;
    return 1;
}

static int drop_all(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    pel_buf *keys = arg;
    uint8_t l = (uint8_t)kl;
    (void)v; (void)vl;
    return pel_buf_append(keys, &l, 1) || pel_buf_append(keys, k, kl) ? PEL_ENOMEM : 0;
}

static void verify_and_rebuild(void)
{
    char err[256];
    pel_chain *c;
    pel_store *s;
    pel_store_txn *w;
    pel_chain_opts so = pel_chain_defaults();
    so.store.map_size = 64u << 20;
    so.sk = node_sk;
    first_key f;
    /* a missing entry */
    CHECK_EQ_INT(pel_store_open(dir, &so.store, &s), 0);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_INDEX, NULL, 0, NULL, 0, grab_first, &f), 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_del(w, PEL_T_INDEX, f.k, f.kl), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_store_close(s);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), PEL_ECORRUPT);
    CHECK(strstr(err, "object index lacks") != NULL);
    pel_chain_close(c);
    /* an extra entry instead */
    CHECK_EQ_INT(pel_store_open(dir, &so.store, &s), 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_INDEX, f.k, f.kl, f.v, f.vl), 0);
    f.k[f.kl - 1] ^= 1;
    CHECK_EQ_INT(pel_store_put(w, PEL_T_INDEX, f.k, f.kl, f.v, f.vl), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_store_close(s);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), PEL_ECORRUPT);
    CHECK(strstr(err, "object index") != NULL);
    pel_chain_close(c);
    /* no index at all (a store from before it): rebuilt on open */
    pel_buf keys;
    pel_buf_init(&keys);
    CHECK_EQ_INT(pel_store_open(dir, &so.store, &s), 0);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_INDEX, NULL, 0, NULL, 0, drop_all, &keys), 0);
    CHECK(keys.len > 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    for (size_t p = 0; p < keys.len; p += 1 + keys.data[p])
        CHECK_EQ_INT(pel_store_del(w, PEL_T_INDEX, keys.data + p + 1, keys.data[p]), 0);
    CHECK_EQ_INT(pel_store_del(w, PEL_T_META, "objindex", 8), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_store_close(s);
    pel_buf_free(&keys);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), 0);
    queries(c);
    contributions_and_registrations(c);
    pel_chain_close(c);
}

/* Licences: an object whose one party (a contributor) holds no genesis
 * account and sends nothing, so only the payments' transfer events tell
 * the supply check about it; two purchases listed in ledger order. */
typedef struct purchases { pel_obj_purchase p[4]; int n; } purchases;

static int take_purchase(void *arg, const pel_obj_purchase *p)
{
    purchases *x = arg;
    if (x->n < 4) x->p[x->n] = *p;
    x->n++;
    return 0;
}

static void licences(pel_chain *c, pel_engine *e)
{
    uint8_t seed[32], pk[32], sk[64];
    pel_addr outsider;
    pel_obj_fields f;
    pel_obj_id F;
    uint8_t dg[32];
    pel_buf body;
    txs t = { .n = 0 };
    memset(seed, 0x42, sizeof seed);
    CHECK_EQ_INT(pel_sign_seed_keypair(pk, sk, seed), 0);
    pel_addr_from_pubkey(pk, &outsider);
    fields(&f, dg, 0x61, NULL, 0);
    f.n_contrib = 1;
    f.contrib[0] = (pel_obj_contrib){ outsider, 1 };
    pel_buf_init(&body);
    CHECK_EQ_INT(pel_obj_fields_encode(&f, &body), 0);
    add_tx(&t, 3, PEL_TX_OBJ_REGISTER, &body);
    pel_obj_id_of(t.tx[0].id, &F);
    commit(c, e, &t, 8000, 0);
    pel_lic_terms lt = { .price = 5000, .n = 1 };
    lt.party[0] = (pel_lic_party){ outsider, 10000 };
    pel_buf_reset(&body);
    CHECK_EQ_INT(pel_lic_terms_body(&F, &lt, &body), 0);
    add_tx(&t, 3, PEL_TX_LIC_TERMS, &body);
    commit(c, e, &t, 9000, 0);
    pel_buf_reset(&body);
    CHECK_EQ_INT(pel_lic_buy_body(&F, 5000, &body), 0);
    add_tx(&t, 2, PEL_TX_LIC_BUY, &body);
    add_tx(&t, 1, PEL_TX_LIC_BUY, &body);
    commit(c, e, &t, 10000, 0);
    pel_buf_free(&body);
    uint64_t bal, nonce;
    CHECK_EQ_INT(pel_chain_account(c, &outsider, &bal, &nonce), 0);
    CHECK_EQ_INT(bal, 10000);
    purchases x = { .n = 0 };
    CHECK_EQ_INT(pel_objindex_purchases(pel_chain_store(c), &F, NULL, take_purchase, &x), 0);
    CHECK_EQ_INT(x.n, 2);
    CHECK(x.p[0].index == 0 && x.p[1].index == 1 && x.p[0].height == x.p[1].height);
    CHECK_MEM(x.p[0].buyer.b, accts[2].addr.b, 20);
    CHECK(x.p[1].price == 5000 && x.p[1].revision == 1);
    purchases y = { .n = 0 };
    CHECK_EQ_INT(pel_objindex_purchases(pel_chain_store(c), &F, &x.p[0], take_purchase, &y), 0);
    CHECK_EQ_INT(y.n, 1);
    CHECK_MEM(y.p[0].buyer.b, accts[1].addr.b, 20);
}

static void index_on_a_chain(void)
{
    char err[256];
    pel_chain *c;
    pel_engine *e;
    pel_chain_opts so = pel_chain_defaults();
    so.store.map_size = 64u << 20;
    so.sk = node_sk;
    pel_engine_opts eo = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 2);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(pel_engine_new(&eo, &e), 0);
    build(c, e);
    licences(c, e);
    queries(c);
    contributions_and_registrations(c);
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), 0);
    uint64_t built = 1;
    CHECK_EQ_INT(pel_objindex_ensure(pel_chain_store(c), &built), 0);
    CHECK_EQ_INT(built, 0);                 /* there already */
    pel_engine_free(e);
    pel_chain_close(c);
}

int main(void)
{
    uint8_t seed[32], pk[32];
    dir = test_tmpdir("pel-objindex-");
    for (int i = 0; i < ACCTS; i++) {
        memset(seed, i + 1, sizeof seed);
        if (pel_sign_seed_keypair(accts[i].pk, accts[i].sk, seed)) return 1;
        pel_addr_from_pubkey(accts[i].pk, &accts[i].addr);
    }
    memset(seed, 0x77, sizeof seed);
    if (pel_sign_seed_keypair(pk, node_sk, seed)) return 1;
    memset(&gen, 0, sizeof gen);
    snprintf(gen.params.chain_id, sizeof gen.params.chain_id, "%s", CHAIN);
    gen.params.gas = pel_gas_defaults();
    gen.params.min_gas_price = 1;
    gen.params.modules = pel_modules_table();
    gen.time_ms = 1000;
    gen.accounts = calloc(ACCTS, sizeof *gen.accounts);
    for (int i = 0; i < ACCTS; i++) gen.accounts[i] = (pel_genesis_account){ accts[i].addr, 10000000 };
    gen.n_accounts = ACCTS;
    char err[128];
    if (pel_genesis_finish(&gen, err, sizeof err)) return 1;
    RUN(index_on_a_chain);
    RUN(verify_and_rebuild);
    pel_genesis_free(&gen);
    test_rmdir_all(dir);
    return TEST_END("test_objindex");
}
