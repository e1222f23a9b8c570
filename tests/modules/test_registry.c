/*
 * test_registry.c - the research-object registry (modules/registry.h):
 * every body rule refused with its message and accepted at its boundary;
 * register / version / maintainer through the ledger executor with each
 * rule's allowed and refused case (receipt status, state untouched on
 * failure, fee still paid); first registration of a digest; provenance
 * walks with a cycle; and a property test: random blocks of registrations,
 * versions, links and maintainer changes give byte-identical results on
 * the sequential, Block-STM and declared engines.
 */
#include "test.h"

#include <time.h>

#include "core/codec.h"
#include "core/hash.h"
#include "exec/engine_check.h"
#include "ledger/ledger.h"
#include "modules/modules.h"
#include "modules/registry.h"
#include "modules/spdx.h"

#define CHAIN "reg-test"
#include "modules/module_check.h"

/* ---- building bodies ---- */

typedef struct spec {
    uint8_t kind;
    const char *title;
    uint8_t digests[4][32]; uint32_t n_digests;
    const char *uris[3]; uint32_t n_uris;
    const char *license;
    pel_obj_contrib contrib[3]; uint32_t n_contrib;
    pel_obj_link links[4]; uint32_t n_links;
} spec;

static void spec_default(spec *s, uint8_t seed)
{
    memset(s, 0, sizeof *s);
    s->kind = PEL_OBJ_DATASET;
    s->title = "Ocean temperature 2020-2025";
    memset(s->digests[0], seed, 32);
    s->n_digests = 1;
    s->license = "CC-BY-4.0";
}

static void fields_of(const spec *s, pel_obj_fields *f)
{
    memset(f, 0, sizeof *f);
    f->kind = s->kind;
    f->title = (const uint8_t *)s->title;
    f->title_len = (uint32_t)strlen(s->title);
    f->n_digests = s->n_digests;
    f->digests = &s->digests[0][0];
    f->n_uris = s->n_uris;
    for (uint32_t i = 0; i < s->n_uris; i++) {
        f->uri[i] = (const uint8_t *)s->uris[i];
        f->uri_len[i] = (uint32_t)strlen(s->uris[i]);
    }
    f->license = (const uint8_t *)s->license;
    f->license_len = (uint32_t)strlen(s->license);
    f->n_contrib = s->n_contrib;
    memcpy(f->contrib, s->contrib, sizeof s->contrib);
    f->n_links = s->n_links;
    memcpy(f->links, s->links, sizeof s->links);
}

/* The body of a register (id NULL) or version (id given) transaction. */
static void body_of(const spec *s, const pel_obj_id *id, pel_buf *out)
{
    pel_obj_fields f;
    pel_buf_reset(out);
    if (id) CHECK_EQ_INT(pel_enc_raw(out, id->b, PEL_OBJ_ID_LEN), 0);
    fields_of(s, &f);
    CHECK_EQ_INT(pel_obj_fields_encode(&f, out), 0);
}

static int check(uint16_t type, const pel_buf *b, const char **why)
{
    *why = NULL;
    return pel_registry_module.check(type, b->data, (uint32_t)b->len, why);
}

/* ---- body rules ---- */

static void expect_refused(const spec *s, int code, const char *word)
{
    pel_buf b;
    const char *why;
    pel_buf_init(&b);
    body_of(s, NULL, &b);
    int rc = check(PEL_TX_OBJ_REGISTER, &b, &why);
    CHECK_EQ_INT(rc, code);
    CHECK(why && strstr(why, word));
    if (!why || !strstr(why, word)) fprintf(stderr, "  wanted '%s', got '%s'\n", word, why ? why : "(null)");
    pel_buf_free(&b);
}

static void body_rules(void)
{
    spec s;
    pel_buf b;
    const char *why;
    pel_buf_init(&b);
    /* accepted: the full set of fields at their limits */
    spec_default(&s, 1);
    memset(s.digests[1], 2, 32);
    memset(s.digests[2], 3, 32);
    s.n_digests = 3;
    s.uris[0] = "doi:10.1234/abc"; s.uris[1] = "https://example.org/x"; s.uris[2] = "ipfs://bafy";
    s.n_uris = 3;
    memset(s.contrib[0].addr.b, 1, 20); s.contrib[0].roles = 1;
    memset(s.contrib[1].addr.b, 2, 20); s.contrib[1].roles = 0x3fff;   /* all 14 roles */
    s.n_contrib = 2;
    s.links[0].relation = PEL_REL_CITES; s.links[1].relation = PEL_REL_SUPERSEDES;
    s.n_links = 2;
    body_of(&s, NULL, &b);
    CHECK_EQ_INT(check(PEL_TX_OBJ_REGISTER, &b, &why), 0);
    /* decode gives back what was encoded */
    pel_dec d;
    pel_obj_fields f;
    pel_dec_init(&d, b.data, b.len);
    CHECK_EQ_INT(pel_obj_fields_decode(&d, &f, &why), 0);
    CHECK_EQ_INT(f.n_digests, 3);
    CHECK_EQ_INT(f.n_uris, 3);
    CHECK_EQ_INT(f.contrib[1].roles, 0x3fff);
    CHECK_EQ_INT(f.links[1].relation, PEL_REL_SUPERSEDES);
    /* trailing byte */
    CHECK_EQ_INT(pel_buf_append(&b, "x", 1), 0);
    CHECK(check(PEL_TX_OBJ_REGISTER, &b, &why) != 0);
    /* refusals, one rule each */
    spec_default(&s, 1); s.kind = PEL_OBJ_KINDS;            expect_refused(&s, PEL_EINVAL, "kind");
    spec_default(&s, 1); s.title = "";                      expect_refused(&s, PEL_EINVAL, "title");
    spec_default(&s, 1); s.title = "bad\ttab";              expect_refused(&s, PEL_EINVAL, "title");
    spec_default(&s, 1); s.title = "\xc3\x28";              expect_refused(&s, PEL_EINVAL, "title");
    spec_default(&s, 1); s.title = "\xed\xa0\x80";          expect_refused(&s, PEL_EINVAL, "title");   /* surrogate */
    spec_default(&s, 1); s.n_digests = 0;                   expect_refused(&s, PEL_EINVAL, "at least one");
    spec_default(&s, 2); memset(s.digests[1], 1, 32); s.n_digests = 2;
    expect_refused(&s, PEL_EINVAL, "ascending");             /* out of order */
    spec_default(&s, 2); memset(s.digests[1], 2, 32); s.n_digests = 2;
    expect_refused(&s, PEL_EINVAL, "distinct");              /* duplicate */
    spec_default(&s, 1); s.uris[0] = "ftp://x"; s.n_uris = 1; expect_refused(&s, PEL_EINVAL, "URI");
    spec_default(&s, 1); s.uris[0] = "https://a b"; s.n_uris = 1; expect_refused(&s, PEL_EINVAL, "URI");
    spec_default(&s, 1); s.uris[0] = "https://b"; s.uris[1] = "https://a"; s.n_uris = 2;
    expect_refused(&s, PEL_EINVAL, "ascending");
    spec_default(&s, 1); s.license = "cc-by-4.0";           expect_refused(&s, PEL_ELICENSE, "SPDX");
    spec_default(&s, 1); s.license = "Proprietary-1.0";     expect_refused(&s, PEL_ELICENSE, "SPDX");
    spec_default(&s, 1); s.n_contrib = 1; s.contrib[0].roles = 0;
    expect_refused(&s, PEL_ECREDIT, "CRediT");
    spec_default(&s, 1); s.n_contrib = 1; s.contrib[0].roles = 1u << 14;
    expect_refused(&s, PEL_ECREDIT, "CRediT");
    spec_default(&s, 1); s.n_contrib = 2; memset(s.contrib[0].addr.b, 2, 20); memset(s.contrib[1].addr.b, 1, 20);
    s.contrib[0].roles = s.contrib[1].roles = 1;             expect_refused(&s, PEL_EINVAL, "contributors");
    spec_default(&s, 1); s.n_links = 1; s.links[0].relation = PEL_REL_COUNT;
    expect_refused(&s, PEL_EINVAL, "relation");
    spec_default(&s, 1); s.n_links = 2; s.links[0].relation = 1; s.links[1].relation = 1;
    expect_refused(&s, PEL_EINVAL, "links");                  /* duplicate link */
    /* maintainer bodies */
    uint8_t mb[16 + 1 + 20] = { 0 };
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_buf_append(&b, mb, sizeof mb), 0);
    CHECK_EQ_INT(check(PEL_TX_OBJ_MAINTAINER, &b, &why), PEL_EINVAL);   /* op 0 */
    b.data[16] = 1;
    CHECK_EQ_INT(check(PEL_TX_OBJ_MAINTAINER, &b, &why), 0);
    b.len--;
    CHECK(check(PEL_TX_OBJ_MAINTAINER, &b, &why) != 0);               /* short */
    /* every SPDX id in the table is found, in order */
    for (unsigned i = 0; i < pel_spdx_count; i++) {
        CHECK(pel_spdx_find(pel_spdx_ids[i].id, strlen(pel_spdx_ids[i].id)) == &pel_spdx_ids[i]);
        if (i) CHECK(strcmp(pel_spdx_ids[i - 1].id, pel_spdx_ids[i].id) < 0);
    }
    CHECK(pel_spdx_canonical("mit") && strcmp(pel_spdx_canonical("mit")->id, "MIT") == 0);
    pel_buf_free(&b);
}

static void ids_and_names(void)
{
    pel_obj_id id, back;
    uint32_t v;
    char s[PEL_OBJ_ID_STR_LEN + 16];
    uint8_t txid[32];
    memset(txid, 9, 32);
    pel_obj_id_of(txid, &id);
    pel_obj_id_format(&id, s);
    s[PEL_OBJ_ID_STR_LEN] = 0;
    CHECK_EQ_INT(strlen(s), 40);
    CHECK_EQ_INT(pel_obj_id_parse(s, &back, &v), 0);
    CHECK_MEM(back.b, id.b, 16);
    CHECK_EQ_INT(v, 0);
    strcat(s, "@v12");
    CHECK_EQ_INT(pel_obj_id_parse(s, &back, &v), 0);
    CHECK_EQ_INT(v, 12);
    s[PEL_OBJ_ID_STR_LEN + 2] = '0';
    CHECK_EQ_INT(pel_obj_id_parse(s, &back, &v), PEL_EINVAL);          /* @v02 */
    CHECK_EQ_INT(pel_obj_id_parse("pel:obj:XYZ", &back, &v), PEL_EINVAL);
    CHECK_EQ_INT(pel_obj_kind_parse("dataset"), PEL_OBJ_DATASET);
    CHECK_EQ_INT(pel_obj_relation_parse("derived-from"), PEL_REL_DERIVED_FROM);
    CHECK_EQ_INT(pel_credit_role_parse("writing-review-editing"), 13);
    CHECK_EQ_INT(pel_credit_role_parse("writing"), -1);
}

/* ---- execution ---- */

static void register_version_maintain(void)
{
    pel_memstate *ms;
    acct alice, bob, carol;
    spec s;
    pel_buf b, raw;
    pel_obj_id a_id, b_id, ghost;
    pel_obj_head hd;
    pel_obj_version ver;
    pel_digest_first first;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&alice, 1); acct_make(&bob, 2); acct_make(&carol, 3);
    fund(ms, &alice); fund(ms, &bob); fund(ms, &carol);
    pel_state st = pel_memstate_reader(ms);
    pel_buf_init(&b);
    pel_buf_init(&raw);
    /* alice registers A */
    spec_default(&s, 0xa1);
    body_of(&s, NULL, &b);
    CHECK_EQ_INT(run1(ms, 1, &alice, PEL_TX_OBJ_REGISTER, &b, &a_id), 0);
    CHECK_EQ_INT(pel_registry_head(&st, &a_id, &hd), 0);
    CHECK_EQ_INT(hd.versions, 1);
    CHECK_MEM(hd.creator.b, alice.addr.b, 20);
    CHECK_EQ_INT(pel_registry_version(&st, &a_id, 0, &raw, &ver), 0);
    CHECK_EQ_INT(ver.first_mask, 1);
    CHECK_EQ_INT(ver.height, 1);
    CHECK_EQ_INT(pel_registry_first(&st, s.digests[0], &first), 0);
    CHECK_MEM(first.id.b, a_id.b, 16);
    CHECK_MEM(first.registrant.b, alice.addr.b, 20);
    /* bob registers B with the same content and a link to A: allowed, not first */
    s.n_links = 1; s.links[0].relation = PEL_REL_DERIVED_FROM; s.links[0].target = a_id; s.links[0].version = 1;
    body_of(&s, NULL, &b);
    CHECK_EQ_INT(run1(ms, 2, &bob, PEL_TX_OBJ_REGISTER, &b, &b_id), 0);
    CHECK_EQ_INT(pel_registry_version(&st, &b_id, 1, &raw, &ver), 0);
    CHECK_EQ_INT(ver.first_mask, 0);
    CHECK_EQ_INT(pel_registry_first(&st, s.digests[0], &first), 0);
    CHECK_MEM(first.id.b, a_id.b, 16);                  /* still alice's */
    uint64_t refs;
    CHECK_EQ_INT(pel_registry_refs(&st, &a_id, &refs), 0);
    CHECK_EQ_INT(refs, 1);
    /* links to an unknown object or an unknown version fail (and change nothing) */
    memset(ghost.b, 0x55, 16);
    s.links[0].target = ghost;
    body_of(&s, NULL, &b);
    CHECK_EQ_INT(run1(ms, 3, &bob, PEL_TX_OBJ_REGISTER, &b, NULL), PEL_EOBJ_UNKNOWN);
    s.links[0].target = a_id; s.links[0].version = 2;
    body_of(&s, NULL, &b);
    CHECK_EQ_INT(run1(ms, 3, &bob, PEL_TX_OBJ_REGISTER, &b, NULL), PEL_EOBJ_VERSION);
    CHECK_EQ_INT(pel_registry_refs(&st, &a_id, &refs), 0);
    CHECK_EQ_INT(refs, 1);
    /* versions: only controllers; the kind stays */
    spec_default(&s, 0xa2);
    body_of(&s, &a_id, &b);
    CHECK_EQ_INT(run1(ms, 4, &bob, PEL_TX_OBJ_VERSION, &b, NULL), PEL_EOBJ_PERM);
    s.kind = PEL_OBJ_CODE;
    body_of(&s, &a_id, &b);
    CHECK_EQ_INT(run1(ms, 4, &alice, PEL_TX_OBJ_VERSION, &b, NULL), PEL_EOBJ_KIND);
    s.kind = PEL_OBJ_DATASET;
    s.n_links = 1; s.links[0].relation = PEL_REL_CITES; s.links[0].target = a_id; s.links[0].version = 0;
    body_of(&s, &a_id, &b);
    CHECK_EQ_INT(run1(ms, 4, &alice, PEL_TX_OBJ_VERSION, &b, NULL), PEL_EINVAL);   /* self-link */
    /* A v2 links to B: a cycle A -> B -> A for the walk below */
    s.links[0].target = b_id;
    body_of(&s, &a_id, &b);
    CHECK_EQ_INT(run1(ms, 4, &alice, PEL_TX_OBJ_VERSION, &b, NULL), 0);
    CHECK_EQ_INT(pel_registry_head(&st, &a_id, &hd), 0);
    CHECK_EQ_INT(hd.versions, 2);
    CHECK_EQ_INT(pel_registry_version(&st, &a_id, 3, &raw, &ver), PEL_EOBJ_VERSION);
    CHECK_EQ_INT(pel_registry_version(&st, &a_id, 2, &raw, &ver), 0);
    CHECK_EQ_INT(ver.first_mask, 1);
    /* maintainers: alice adds carol; carol may publish; bob may not add */
    uint8_t mb[16 + 1 + 20];
    memcpy(mb, a_id.b, 16); mb[16] = 1; memcpy(mb + 17, carol.addr.b, 20);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_buf_append(&b, mb, sizeof mb), 0);
    CHECK_EQ_INT(run1(ms, 5, &bob, PEL_TX_OBJ_MAINTAINER, &b, NULL), PEL_EOBJ_PERM);
    CHECK_EQ_INT(run1(ms, 5, &alice, PEL_TX_OBJ_MAINTAINER, &b, NULL), 0);
    CHECK_EQ_INT(run1(ms, 5, &alice, PEL_TX_OBJ_MAINTAINER, &b, NULL), PEL_EOBJ_MAINT);   /* twice */
    memcpy(mb + 17, alice.addr.b, 20);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_buf_append(&b, mb, sizeof mb), 0);
    CHECK_EQ_INT(run1(ms, 5, &alice, PEL_TX_OBJ_MAINTAINER, &b, NULL), PEL_EOBJ_MAINT);   /* creator */
    spec_default(&s, 0xa3);
    body_of(&s, &a_id, &b);
    CHECK_EQ_INT(run1(ms, 6, &carol, PEL_TX_OBJ_VERSION, &b, NULL), 0);
    memcpy(mb + 17, carol.addr.b, 20); mb[16] = 2;
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_buf_append(&b, mb, sizeof mb), 0);
    CHECK_EQ_INT(run1(ms, 7, &carol, PEL_TX_OBJ_MAINTAINER, &b, NULL), 0);   /* removes itself */
    CHECK_EQ_INT(run1(ms, 7, &carol, PEL_TX_OBJ_MAINTAINER, &b, NULL), PEL_EOBJ_PERM);
    CHECK_EQ_INT(pel_registry_head(&st, &a_id, &hd), 0);
    CHECK_EQ_INT(hd.versions, 3);
    CHECK_EQ_INT(hd.n_maint, 0);
    /* the version of a missing object */
    body_of(&s, &ghost, &b);
    CHECK_EQ_INT(run1(ms, 8, &alice, PEL_TX_OBJ_VERSION, &b, NULL), PEL_EOBJ_UNKNOWN);
    pel_buf_free(&b);
    pel_buf_free(&raw);
    pel_memstate_free(ms);
}

/* ---- provenance ---- */

typedef struct edges { pel_obj_edge e[32]; int n; } edges;

static int collect(void *arg, const pel_obj_edge *e)
{
    edges *x = arg;
    if (x->n < 32) x->e[x->n++] = *e;
    return 0;
}

static void provenance_walks(void)
{
    pel_memstate *ms;
    acct a;
    spec s;
    pel_buf b;
    pel_obj_id id[4];
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&a, 4);
    fund(ms, &a);
    pel_buf_init(&b);
    /* id0 <- id1 <- id2 (derived-from), id2 also cites id0; then id0 v2 cites id2 (cycle) */
    for (int i = 0; i < 3; i++) {
        spec_default(&s, (uint8_t)(0x10 + i));
        if (i >= 1) { s.links[s.n_links].relation = PEL_REL_DERIVED_FROM; s.links[s.n_links++].target = id[i - 1]; }
        if (i == 2) { s.links[0].relation = PEL_REL_CITES; s.links[0].target = id[0];
                      s.links[1].relation = PEL_REL_DERIVED_FROM; s.links[1].target = id[1]; s.n_links = 2; }
        body_of(&s, NULL, &b);
        CHECK_EQ_INT(run1(ms, (uint64_t)i + 1, &a, PEL_TX_OBJ_REGISTER, &b, &id[i]), 0);
    }
    spec_default(&s, 0x20);
    s.links[0].relation = PEL_REL_CITES; s.links[0].target = id[2]; s.n_links = 1;
    body_of(&s, &id[0], &b);
    CHECK_EQ_INT(run1(ms, 4, &a, PEL_TX_OBJ_VERSION, &b, NULL), 0);
    pel_state st = pel_memstate_reader(ms);
    edges x = { .n = 0 };
    CHECK_EQ_INT(pel_registry_upstream(&st, &id[2], 0, 10, collect, &x), 0);
    /* id2 -> id0 (cites), id2 -> id1; id0 (latest = v2) -> id2; id1 -> id0 */
    CHECK_EQ_INT(x.n, 4);
    CHECK_EQ_INT(x.e[0].depth, 1);
    CHECK_EQ_INT(x.e[2].depth, 2);
    x.n = 0;
    CHECK_EQ_INT(pel_registry_upstream(&st, &id[2], 0, 1, collect, &x), 0);
    CHECK_EQ_INT(x.n, 2);                               /* depth 1: direct links only */
    x.n = 0;
    CHECK_EQ_INT(pel_registry_upstream(&st, &id[1], 0, 10, collect, &x), 0);
    /* id1 -> id0, id0 -> id2, then id2's two links back to id0 and id1:
     * reported (they are edges of the graph) but not expanded again */
    CHECK_EQ_INT(x.n, 4);
    CHECK_EQ_INT(x.e[3].depth, 3);
    x.n = 0;
    pel_obj_id ghost;
    memset(ghost.b, 1, 16);
    CHECK_EQ_INT(pel_registry_upstream(&st, &ghost, 0, 3, collect, &x), PEL_EOBJ_UNKNOWN);
    pel_buf_free(&b);
    pel_memstate_free(ms);
}

/* ---- the property: random registry blocks on every engine ---- */

static void random_blocks_all_engines(void)
{
    pel_memstate *ms;
    acct a[6];
    pel_obj_id ids[256];
    int n_ids = 0;
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL), x = seed;
    int iters = (int)(test_env_u64("PEL_TEST_ITERS", 1000) / 25) + 1;   /* 48-tx blocks on 4 engines */
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    for (int i = 0; i < 6; i++) { acct_make(&a[i], (uint8_t)(0x40 + i)); fund(ms, &a[i]); }
    pel_buf b;
    pel_buf_init(&b);
    int statuses[8] = { 0 };
    for (int blk = 0; blk < iters; blk++) {
        txbox t[48];
        uint32_t n = 0;
        for (; n < 48; n++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            uint32_t r = (uint32_t)(x >> 33);
            acct *from = &a[r % 6];
            spec s;
            spec_default(&s, (uint8_t)(r >> 8));          /* digests repeat: first-ness races */
            if (n_ids && (r >> 4) % 3 == 0) {
                s.links[0].relation = (uint8_t)((r >> 12) % PEL_REL_COUNT);
                s.links[0].target = ids[(r >> 16) % n_ids];   /* a popular object */
                s.links[0].version = (r >> 20) % 3;
                s.n_links = 1;
            }
            uint16_t type = PEL_TX_OBJ_REGISTER;
            pel_obj_id *target = NULL;
            if (n_ids && (r >> 24) % 4 == 0) { type = PEL_TX_OBJ_VERSION; target = &ids[(r >> 10) % n_ids]; }
            if (n_ids && (r >> 24) % 8 == 1) {
                uint8_t mb[37];
                memcpy(mb, ids[(r >> 10) % n_ids].b, 16);
                mb[16] = (uint8_t)(1 + (r >> 28) % 2);
                memcpy(mb + 17, a[(r >> 5) % 6].addr.b, 20);
                pel_buf_reset(&b);
                CHECK_EQ_INT(pel_buf_append(&b, mb, sizeof mb), 0);
                type = PEL_TX_OBJ_MAINTAINER;
            } else {
                if (target && s.n_links && memcmp(s.links[0].target.b, target->b, 16) == 0) s.n_links = 0;
                body_of(&s, target, &b);
            }
            sign_tx(from, type, &b, &t[n]);
        }
        pel_block_result r;
        run_block(ms, (uint64_t)blk + 1, t, n, &r);
        for (uint32_t i = 0; i < n; i++) {
            int stt = r.receipts[i].status;
            statuses[stt == 0 ? 0 : stt == PEL_EOBJ_PERM ? 1 : stt == PEL_EOBJ_VERSION ? 2 : stt == PEL_EOBJ_MAINT ? 3 : 4]++;
            if (stt == 0 && t[i].tx.type == PEL_TX_OBJ_REGISTER && n_ids < 256) pel_obj_id_of(t[i].tx.id, &ids[n_ids++]);
            free(t[i].raw);
        }
        pel_block_result_free(&r);
    }
    printf("  registry property: seed 0x%llx, %d blocks of 48: %d ok, %d perm, %d version, %d maint, %d other\n",
           (unsigned long long)seed, iters, statuses[0], statuses[1], statuses[2], statuses[3], statuses[4]);
    CHECK(statuses[0] > iters * 10);
    CHECK(statuses[1] > 0);
    CHECK_EQ_INT(statuses[4], 0);
    pel_buf_free(&b);
    pel_memstate_free(ms);
}

int main(void)
{
    if (mc_setup()) return 1;
    RUN(body_rules);
    RUN(ids_and_names);
    RUN(register_version_maintain);
    RUN(provenance_walks);
    RUN(random_blocks_all_engines);
    mc_teardown();
    return TEST_END("test_registry");
}
