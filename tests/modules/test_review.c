/*
 * test_review.c - peer-review attestations (modules/review.h): a review is
 * registered as a review object linked to the version it reviews; authors
 * (creator, maintainer, contributor) are refused; one review per reviewer
 * and version; unknown objects and versions refused; body rules; a block
 * of many reviews of one popular version gives identical results on every
 * engine.
 */
#include "test.h"

#include "core/codec.h"
#include "modules/registry.h"
#include "modules/review.h"

#define CHAIN "review-test"
#include "modules/module_check.h"

static void review_body(const pel_obj_id *t, uint32_t v, uint8_t rec, uint8_t seed, const char *ci,
                        const char *lic, uint8_t pseudo, pel_buf *b)
{
    uint8_t dg[32];
    memset(dg, seed, 32);
    pel_buf_reset(b);
    CHECK_EQ_INT(pel_enc_raw(b, t->b, 16), 0);
    CHECK_EQ_INT(pel_enc_u32(b, v), 0);
    CHECK_EQ_INT(pel_enc_u8(b, rec), 0);
    CHECK_EQ_INT(pel_enc_raw(b, dg, 32), 0);
    CHECK_EQ_INT(pel_enc_bytes(b, ci, strlen(ci)), 0);
    CHECK_EQ_INT(pel_enc_bytes(b, lic, strlen(lic)), 0);
    CHECK_EQ_INT(pel_enc_u8(b, pseudo), 0);
}

/* alice's article with carol as a contributor */
static void make_article(pel_memstate *ms, acct *alice, const acct *carol, pel_obj_id *id)
{
    mc_register(ms, 1, alice, 0xab, &carol->addr, id);
}

static void rules(void)
{
    pel_memstate *ms;
    acct alice, bob, carol, dave;
    pel_obj_id art, rid, ghost;
    pel_buf b;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&alice, 1); acct_make(&bob, 2); acct_make(&carol, 3); acct_make(&dave, 4);
    fund(ms, &alice); fund(ms, &bob); fund(ms, &carol); fund(ms, &dave);
    pel_state st = pel_memstate_reader(ms);
    pel_buf_init(&b);
    make_article(ms, &alice, &carol, &art);
    /* bob reviews v1: a review object linked to it, and the record */
    review_body(&art, 1, PEL_REVIEW_MINOR, 0x51, "none", "CC-BY-4.0", 0, &b);
    CHECK_EQ_INT(run1(ms, 2, &bob, PEL_TX_REVIEW, &b, &rid), 0);
    pel_review r;
    CHECK_EQ_INT(pel_review_get(&st, &rid, &r), 0);
    CHECK(r.recommendation == PEL_REVIEW_MINOR && r.version == 1 && !r.pseudonymous);
    CHECK_MEM(r.target.b, art.b, 16);
    CHECK(strcmp(r.competing, "none") == 0);
    pel_obj_head h;
    pel_buf raw;
    pel_obj_version ver;
    pel_buf_init(&raw);
    CHECK_EQ_INT(pel_registry_head(&st, &rid, &h), 0);
    CHECK_EQ_INT(h.kind, PEL_OBJ_REVIEW);
    CHECK_MEM(h.creator.b, bob.addr.b, 20);
    CHECK_EQ_INT(pel_registry_version(&st, &rid, 1, &raw, &ver), 0);
    CHECK(ver.fields.n_links == 1 && ver.fields.links[0].relation == PEL_REL_REVIEWS &&
          ver.fields.links[0].version == 1);
    /* the review object's title names what it reviews: "Review of pel:obj:<hex>@v1" */
    char want[64] = "Review of pel:obj:";
    for (int i = 0; i < 16; i++) snprintf(want + 18 + 2 * i, 3, "%02x", art.b[i]);
    strcat(want, "@v1");
    CHECK(ver.fields.title_len == strlen(want) && memcmp(ver.fields.title, want, strlen(want)) == 0);
    uint64_t refs;
    CHECK_EQ_INT(pel_registry_refs(&st, &art, &refs), 0);
    CHECK_EQ_INT(refs, 1);
    /* the same reviewer and version again */
    review_body(&art, 1, PEL_REVIEW_ACCEPT, 0x52, "", "CC-BY-4.0", 0, &b);
    CHECK_EQ_INT(run1(ms, 3, &bob, PEL_TX_REVIEW, &b, NULL), PEL_EREVIEW_DUP);
    /* authors: creator, contributor, maintainer */
    CHECK_EQ_INT(run1(ms, 3, &alice, PEL_TX_REVIEW, &b, NULL), PEL_EREVIEW_AUTHOR);
    CHECK_EQ_INT(run1(ms, 3, &carol, PEL_TX_REVIEW, &b, NULL), PEL_EREVIEW_AUTHOR);
    uint8_t mb[37];
    memcpy(mb, art.b, 16); mb[16] = 1; memcpy(mb + 17, dave.addr.b, 20);
    pel_buf mbuf = { mb, sizeof mb, sizeof mb };
    CHECK_EQ_INT(run1(ms, 4, &alice, PEL_TX_OBJ_MAINTAINER, &mbuf, NULL), 0);
    CHECK_EQ_INT(run1(ms, 5, &dave, PEL_TX_REVIEW, &b, NULL), PEL_EREVIEW_AUTHOR);
    /* versions and objects that do not exist */
    review_body(&art, 2, PEL_REVIEW_ACCEPT, 0x53, "", "CC-BY-4.0", 0, &b);
    CHECK_EQ_INT(run1(ms, 5, &bob, PEL_TX_REVIEW, &b, NULL), PEL_EOBJ_VERSION);
    memset(ghost.b, 7, 16);
    review_body(&ghost, 1, PEL_REVIEW_ACCEPT, 0x54, "", "CC-BY-4.0", 0, &b);
    CHECK_EQ_INT(run1(ms, 5, &bob, PEL_TX_REVIEW, &b, NULL), PEL_EOBJ_UNKNOWN);
    /* a review can be reviewed (it is an object) */
    review_body(&rid, 1, PEL_REVIEW_COMMENT, 0x55, "", "CC0-1.0", 1, &b);
    CHECK_EQ_INT(run1(ms, 6, &carol, PEL_TX_REVIEW, &b, NULL), 0);
    pel_buf_free(&raw);
    pel_buf_free(&b);
    pel_memstate_free(ms);
}

static void body_rules(void)
{
    pel_buf b;
    pel_obj_id t;
    const char *why;
    memset(t.b, 1, 16);
    pel_buf_init(&b);
    review_body(&t, 1, PEL_REVIEW_REJECT, 1, "funded by a competitor", "MIT", 1, &b);
    CHECK_EQ_INT(pel_review_module.check(PEL_TX_REVIEW, b.data, (uint32_t)b.len, &why), 0);
    review_body(&t, 0, 0, 1, "", "MIT", 0, &b);
    CHECK_EQ_INT(pel_review_module.check(PEL_TX_REVIEW, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    review_body(&t, 1, PEL_REVIEW_RECS, 1, "", "MIT", 0, &b);
    CHECK_EQ_INT(pel_review_module.check(PEL_TX_REVIEW, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    CHECK(why && strstr(why, "recommendation"));
    review_body(&t, 1, 0, 1, "", "mit", 0, &b);
    CHECK_EQ_INT(pel_review_module.check(PEL_TX_REVIEW, b.data, (uint32_t)b.len, &why), PEL_ELICENSE);
    review_body(&t, 1, 0, 1, "", "MIT", 2, &b);
    CHECK_EQ_INT(pel_review_module.check(PEL_TX_REVIEW, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    review_body(&t, 1, 0, 1, "line\nbreak", "MIT", 0, &b);
    CHECK_EQ_INT(pel_review_module.check(PEL_TX_REVIEW, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    review_body(&t, 1, 0, 1, "", "MIT", 0, &b);
    CHECK(pel_buf_append(&b, "x", 1) == 0);
    CHECK(pel_review_module.check(PEL_TX_REVIEW, b.data, (uint32_t)b.len, &why) != 0);
    pel_buf_free(&b);
}

/* 40 reviewers review one popular version in one block (two try twice):
 * identical on every engine (run_block), 40 succeed, 2 are duplicates. */
static void many_reviews_one_block(void)
{
    pel_memstate *ms;
    acct alice, carol, rv[40];
    pel_obj_id art;
    pel_buf b;
    txbox t[42];
    pel_block_result r;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&alice, 1); acct_make(&carol, 3);
    fund(ms, &alice);
    make_article(ms, &alice, &carol, &art);
    pel_buf_init(&b);
    for (int i = 0; i < 40; i++) {
        acct_make(&rv[i], (uint8_t)(0x80 + i));
        fund(ms, &rv[i]);
        review_body(&art, 1, (uint8_t)(i % PEL_REVIEW_RECS), (uint8_t)i, "", "CC-BY-4.0", 0, &b);
        sign_tx(&rv[i], PEL_TX_REVIEW, &b, &t[i]);
    }
    for (int i = 0; i < 2; i++) {
        review_body(&art, 1, 0, (uint8_t)(100 + i), "", "CC-BY-4.0", 0, &b);
        sign_tx(&rv[i], PEL_TX_REVIEW, &b, &t[40 + i]);
    }
    run_block(ms, 2, t, 42, &r);
    int ok = 0, dup = 0;
    for (int i = 0; i < 42; i++) {
        ok += r.receipts[i].status == 0;
        dup += r.receipts[i].status == PEL_EREVIEW_DUP;
        free(t[i].raw);
    }
    CHECK_EQ_INT(ok, 40);
    CHECK_EQ_INT(dup, 2);
    pel_block_result_free(&r);
    pel_state st = pel_memstate_reader(ms);
    uint64_t refs;
    CHECK_EQ_INT(pel_registry_refs(&st, &art, &refs), 0);
    CHECK_EQ_INT(refs, 40);
    pel_buf_free(&b);
    pel_memstate_free(ms);
}

int main(void)
{
    if (mc_setup()) return 1;
    RUN(rules);
    RUN(body_rules);
    RUN(many_reviews_one_block);
    mc_teardown();
    return TEST_END("test_review");
}
