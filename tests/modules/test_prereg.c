/*
 * test_prereg.c - preregistration (modules/prereg.h): commit and reveal
 * (matching and mismatching; embargo by height and by time, registrant
 * early and others refused then allowed), results compared with the
 * primary outcomes (same set: not switched; added and dropped outcomes:
 * OUTCOME-SWITCHED with the lists), status changes, body rules; every
 * block run on all engines with identical results.
 */
#include "test.h"

#include <time.h>

#include "core/codec.h"
#include "modules/prereg.h"
#include "modules/registry.h"

#define CHAIN "prereg-test"
#include "modules/module_check.h"

static void outcomes_of(pel_outcomes *o, const char *const *s, uint32_t n)
{
    memset(o, 0, sizeof *o);
    for (uint32_t i = 0; i < n; i++) snprintf(o->s[i], sizeof o->s[i], "%s", s[i]);
    o->n = n;
}

static void commit_body(const uint8_t cm[32], uint64_t eh, uint64_t et, pel_buf *b)
{
    pel_buf_reset(b);
    CHECK_EQ_INT(pel_enc_raw(b, cm, 32), 0);
    CHECK_EQ_INT(pel_enc_u64(b, eh), 0);
    CHECK_EQ_INT(pel_enc_u64(b, et), 0);
    CHECK_EQ_INT(pel_enc_bytes(b, "NCT01234567", 11), 0);
    CHECK_EQ_INT(pel_enc_u64(b, 120), 0);
}

static void reveal_body(const pel_prereg_id *id, const uint8_t proto[32], const pel_outcomes *o,
                        const uint8_t salt[32], pel_buf *b)
{
    pel_buf_reset(b);
    CHECK_EQ_INT(pel_enc_raw(b, id->b, 16), 0);
    CHECK_EQ_INT(pel_enc_raw(b, proto, 32), 0);
    CHECK_EQ_INT(pel_outcomes_encode(o, b), 0);
    CHECK_EQ_INT(pel_enc_raw(b, salt, 32), 0);
}

static void results_body(const pel_prereg_id *id, const pel_obj_id *obj, const pel_outcomes *o, pel_buf *b)
{
    pel_buf_reset(b);
    CHECK_EQ_INT(pel_enc_raw(b, id->b, 16), 0);
    CHECK_EQ_INT(pel_enc_raw(b, obj->b, 16), 0);
    CHECK_EQ_INT(pel_outcomes_encode(o, b), 0);
}

/* A registered object of `who`, to report results in. */
static void make_object(pel_memstate *ms, uint64_t h, acct *who, uint8_t seed, pel_obj_id *id)
{
    mc_register(ms, h, who, seed, NULL, id);
}

static const char *const primary[] = { "HbA1c at 12 weeks", "adverse events" };

static void lifecycle(void)
{
    pel_memstate *ms;
    acct reg, other;
    pel_buf b;
    uint8_t proto[32], salt[32], cm[32];
    pel_outcomes o, wrong;
    pel_prereg_id id;
    pel_obj_id obj, foreign;
    pel_prereg *r = malloc(sizeof *r);
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&reg, 1); acct_make(&other, 2);
    fund(ms, &reg); fund(ms, &other);
    pel_state st = pel_memstate_reader(ms);
    pel_buf_init(&b);
    memset(proto, 0x11, 32);
    memset(salt, 0x22, 32);
    outcomes_of(&o, primary, 2);
    CHECK_EQ_INT(pel_prereg_commitment(proto, &o, salt, cm), 0);
    /* commit with an embargo until height 10 */
    txbox t;
    pel_block_result res;
    commit_body(cm, 10, 0, &b);
    sign_tx(&reg, PEL_TX_PREREG_COMMIT, &b, &t);
    run_block(ms, 1, &t, 1, &res);
    CHECK_EQ_INT(res.receipts[0].status, 0);
    pel_prereg_id_of(t.tx.id, &id);
    pel_block_result_free(&res);
    free(t.raw);
    CHECK_EQ_INT(pel_prereg_get(&st, &id, r), 0);
    CHECK_MEM(r->commitment, cm, 32);
    CHECK(!r->revealed && strcmp(r->registry_id, "NCT01234567") == 0 && r->sample_size == 120);
    CHECK_EQ_INT(r->time_ms, 1700000000000ull + 1000);
    /* results before the reveal: refused */
    make_object(ms, 2, &reg, 0x31, &obj);
    results_body(&id, &obj, &o, &b);
    CHECK_EQ_INT(run1(ms, 3, &reg, PEL_TX_PREREG_RESULTS, &b, NULL), PEL_EPREREG_STATE);
    /* a reveal that does not match (another salt) */
    uint8_t salt2[32];
    memset(salt2, 0x23, 32);
    reveal_body(&id, proto, &o, salt2, &b);
    CHECK_EQ_INT(run1(ms, 3, &reg, PEL_TX_PREREG_REVEAL, &b, NULL), PEL_EPREREG_MISMATCH);
    const char *const w[] = { "HbA1c at 12 weeks" };
    outcomes_of(&wrong, w, 1);
    reveal_body(&id, proto, &wrong, salt, &b);
    CHECK_EQ_INT(run1(ms, 3, &reg, PEL_TX_PREREG_REVEAL, &b, NULL), PEL_EPREREG_MISMATCH);
    /* under embargo: others refused */
    reveal_body(&id, proto, &o, salt, &b);
    CHECK_EQ_INT(run1(ms, 4, &other, PEL_TX_PREREG_REVEAL, &b, NULL), PEL_EPREREG_EMBARGO);
    /* after the embargo: anyone holding the data */
    CHECK_EQ_INT(run1(ms, 10, &other, PEL_TX_PREREG_REVEAL, &b, NULL), 0);
    CHECK_EQ_INT(run1(ms, 11, &reg, PEL_TX_PREREG_REVEAL, &b, NULL), PEL_EPREREG_STATE);   /* once */
    CHECK_EQ_INT(pel_prereg_get(&st, &id, r), 0);
    CHECK(r->revealed && r->primary.n == 2 && r->reveal_height == 10);
    CHECK_MEM(r->revealer.b, other.addr.b, 20);
    /* results: an object the sender does not control is refused */
    make_object(ms, 12, &other, 0x32, &foreign);
    results_body(&id, &foreign, &o, &b);
    CHECK_EQ_INT(run1(ms, 13, &reg, PEL_TX_PREREG_RESULTS, &b, NULL), PEL_EOBJ_PERM);
    /* the same outcomes, in another order: not switched */
    const char *const same[] = { "adverse events", "HbA1c at 12 weeks" };
    pel_outcomes s2;
    outcomes_of(&s2, same, 2);
    results_body(&id, &obj, &s2, &b);
    CHECK_EQ_INT(run1(ms, 13, &reg, PEL_TX_PREREG_RESULTS, &b, NULL), 0);
    /* one dropped, one added: OUTCOME-SWITCHED */
    const char *const sw[] = { "HbA1c at 12 weeks", "weight loss" };
    outcomes_of(&s2, sw, 2);
    results_body(&id, &obj, &s2, &b);
    CHECK_EQ_INT(run1(ms, 14, &reg, PEL_TX_PREREG_RESULTS, &b, NULL), 0);
    CHECK_EQ_INT(pel_prereg_get(&st, &id, r), 0);
    CHECK_EQ_INT(r->n_results, 2);
    CHECK(!r->results[0].switched);
    CHECK(r->results[1].switched);
    CHECK(r->results[1].added.n == 1 && strcmp(r->results[1].added.s[0], "weight loss") == 0);
    CHECK(r->results[1].dropped.n == 1 && strcmp(r->results[1].dropped.s[0], "adverse events") == 0);
    /* status: registrant only, kept with height and time */
    uint8_t sb[17];
    memcpy(sb, id.b, 16);
    sb[16] = PEL_PREREG_COMPLETED;
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_buf_append(&b, sb, sizeof sb), 0);
    CHECK_EQ_INT(run1(ms, 15, &other, PEL_TX_PREREG_STATUS, &b, NULL), PEL_EPREREG_PERM);
    CHECK_EQ_INT(run1(ms, 15, &reg, PEL_TX_PREREG_STATUS, &b, NULL), 0);
    CHECK_EQ_INT(pel_prereg_get(&st, &id, r), 0);
    CHECK(r->n_status == 1 && r->status[0].status == PEL_PREREG_COMPLETED && r->status[0].height == 15);
    /* unknown preregistration */
    pel_prereg_id ghost;
    memset(ghost.b, 9, 16);
    reveal_body(&ghost, proto, &o, salt, &b);
    CHECK_EQ_INT(run1(ms, 16, &reg, PEL_TX_PREREG_REVEAL, &b, NULL), PEL_EPREREG_UNKNOWN);
    pel_buf_free(&b);
    pel_memstate_free(ms);
    free(r);
}

/* Embargo by time: the block's timestamp (here 1700000000000 + h * 1000). */
static void embargo_by_time(void)
{
    pel_memstate *ms;
    acct reg, other;
    pel_buf b;
    uint8_t proto[32], salt[32], cm[32];
    pel_outcomes o;
    pel_prereg_id id;
    txbox t;
    pel_block_result res;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&reg, 3); acct_make(&other, 4);
    fund(ms, &reg); fund(ms, &other);
    pel_buf_init(&b);
    memset(proto, 0x33, 32);
    memset(salt, 0x44, 32);
    outcomes_of(&o, primary, 1);
    CHECK_EQ_INT(pel_prereg_commitment(proto, &o, salt, cm), 0);
    commit_body(cm, 0, 1700000000000ull + 20 * 1000, &b);
    sign_tx(&reg, PEL_TX_PREREG_COMMIT, &b, &t);
    run_block(ms, 1, &t, 1, &res);
    pel_prereg_id_of(t.tx.id, &id);
    pel_block_result_free(&res);
    free(t.raw);
    reveal_body(&id, proto, &o, salt, &b);
    CHECK_EQ_INT(run1(ms, 19, &other, PEL_TX_PREREG_REVEAL, &b, NULL), PEL_EPREREG_EMBARGO);
    CHECK_EQ_INT(run1(ms, 20, &other, PEL_TX_PREREG_REVEAL, &b, NULL), 0);
    pel_buf_free(&b);
    pel_memstate_free(ms);
}

static void body_rules(void)
{
    pel_buf b;
    const char *why;
    pel_prereg_id id;
    uint8_t z[32] = { 0 };
    pel_outcomes o;
    memset(id.b, 1, 16);
    pel_buf_init(&b);
    commit_body(z, 0, 0, &b);
    CHECK_EQ_INT(pel_prereg_module.check(PEL_TX_PREREG_COMMIT, b.data, (uint32_t)b.len, &why), 0);
    CHECK(pel_buf_append(&b, "x", 1) == 0);
    CHECK(pel_prereg_module.check(PEL_TX_PREREG_COMMIT, b.data, (uint32_t)b.len, &why) != 0);
    const char *const dup[] = { "a", "a" };
    outcomes_of(&o, dup, 2);
    reveal_body(&id, z, &o, z, &b);
    CHECK_EQ_INT(pel_prereg_module.check(PEL_TX_PREREG_REVEAL, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    CHECK(why && strstr(why, "distinct"));
    const char *const ctl[] = { "a\nb" };
    outcomes_of(&o, ctl, 1);
    reveal_body(&id, z, &o, z, &b);
    CHECK_EQ_INT(pel_prereg_module.check(PEL_TX_PREREG_REVEAL, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    o.n = 0;
    reveal_body(&id, z, &o, z, &b);
    CHECK_EQ_INT(pel_prereg_module.check(PEL_TX_PREREG_REVEAL, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    uint8_t sb[17];
    memcpy(sb, id.b, 16);
    sb[16] = PEL_PREREG_STATUSES;
    CHECK_EQ_INT(pel_prereg_module.check(PEL_TX_PREREG_STATUS, sb, 17, &why), PEL_EINVAL);
    char s[PEL_PREREG_ID_STR_LEN + 1];
    pel_prereg_id back;
    pel_prereg_id_format(&id, s);
    s[PEL_PREREG_ID_STR_LEN] = 0;
    CHECK_EQ_INT(pel_prereg_id_parse(s, &back), 0);
    CHECK_MEM(back.b, id.b, 16);
    CHECK_EQ_INT(pel_prereg_id_parse("pel:prereg:00", &back), PEL_EINVAL);
    pel_buf_free(&b);
}

/* Random blocks mixing commits, reveals (right and wrong), results and
 * status changes on a few preregistrations: identical on every engine
 * (run_block checks), and the rules hold whatever the order. */
static void random_blocks_all_engines(void)
{
    enum { K = 6 };
    pel_memstate *ms;
    acct a[4];
    pel_buf b;
    pel_prereg_id ids[K];
    pel_obj_id objs[4];
    uint8_t proto[32], salt[32], cm[32];
    pel_outcomes o;
    const char *const pool[] = { "o1", "o2", "o3", "o4" };
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL), x = seed;
    int iters = (int)(test_env_u64("PEL_TEST_ITERS", 1000) / 50) + 1;
    int counts[3] = { 0 };
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    pel_buf_init(&b);
    for (int i = 0; i < 4; i++) { acct_make(&a[i], (uint8_t)(0x60 + i)); fund(ms, &a[i]); }
    for (int i = 0; i < 4; i++) make_object(ms, 1, &a[i], (uint8_t)(0x70 + i), &objs[i]);
    memset(proto, 0x55, 32);
    memset(salt, 0x66, 32);
    outcomes_of(&o, pool, 2);
    CHECK_EQ_INT(pel_prereg_commitment(proto, &o, salt, cm), 0);
    for (int i = 0; i < K; i++) {             /* K preregistrations, embargo until height 3 */
        txbox t;
        pel_block_result res;
        commit_body(cm, 3, 0, &b);
        sign_tx(&a[i % 4], PEL_TX_PREREG_COMMIT, &b, &t);
        run_block(ms, 2, &t, 1, &res);
        pel_prereg_id_of(t.tx.id, &ids[i]);
        pel_block_result_free(&res);
        free(t.raw);
    }
    for (int blk = 0; blk < iters; blk++) {
        txbox t[32];
        for (int n = 0; n < 32; n++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            uint32_t r = (uint32_t)(x >> 33), who = r % 4, k = (r >> 4) % K;
            uint16_t type;
            if ((r >> 8) % 3 == 0) {
                uint8_t s2[32];
                memcpy(s2, salt, 32);
                s2[0] ^= (uint8_t)((r >> 12) % 4 == 0);  /* a quarter wrong */
                reveal_body(&ids[k], proto, &o, s2, &b);
                type = PEL_TX_PREREG_REVEAL;
            } else if ((r >> 8) % 3 == 1) {
                pel_outcomes rep;
                outcomes_of(&rep, pool + (r >> 14) % 3, 1 + (r >> 16) % 2);
                results_body(&ids[k], &objs[(r >> 18) % 4], &rep, &b);
                type = PEL_TX_PREREG_RESULTS;
            } else {
                uint8_t sb[17];
                memcpy(sb, ids[k].b, 16);
                sb[16] = (uint8_t)((r >> 20) % PEL_PREREG_STATUSES);
                pel_buf_reset(&b);
                CHECK_EQ_INT(pel_buf_append(&b, sb, 17), 0);
                type = PEL_TX_PREREG_STATUS;
            }
            sign_tx(&a[who], type, &b, &t[n]);
        }
        pel_block_result res;
        run_block(ms, 3 + (uint64_t)blk, t, 32, &res);
        for (int n = 0; n < 32; n++) {
            int st = res.receipts[n].status;
            counts[st == 0 ? 0 : (st <= PEL_EPREREG_UNKNOWN && st >= PEL_EPREREG_FULL) || st == PEL_EOBJ_PERM ? 1 : 2]++;
            free(t[n].raw);
        }
        pel_block_result_free(&res);
    }
    printf("  prereg property: seed 0x%llx, %d blocks of 32: %d ok, %d refused by a rule, %d other\n",
           (unsigned long long)seed, iters, counts[0], counts[1], counts[2]);
    CHECK(counts[0] > 0 && counts[1] > 0);
    CHECK_EQ_INT(counts[2], 0);
    pel_buf_free(&b);
    pel_memstate_free(ms);
}

int main(void)
{
    if (mc_setup()) return 1;
    RUN(lifecycle);
    RUN(random_blocks_all_engines);
    RUN(embargo_by_time);
    RUN(body_rules);
    mc_teardown();
    return TEST_END("test_prereg");
}
