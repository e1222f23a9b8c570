/*
 * test_view.c - the semantics of pel_view (view.h) as the sequential engine
 * defines them, checked with scripted transactions: each transaction is a
 * list of view operations with the result every operation must give.
 *
 * Every scripted block is then run again through Block-STM (2 and 4
 * threads) and the declared-access engine (2 threads, every transaction
 * with an access list) and must give the sequential result byte for byte.
 */
#include <time.h>
#include "engine_check.h"

/* ---------------- scripted transactions ---------------- */

enum { OP_END = 0, OP_GET, OP_GETV, OP_GETU, OP_PUT, OP_DEL, OP_DELTA, OP_EMIT, OP_ROLLBACK, OP_RET,
       OP_EMITV, OP_COPY, OP_SKIPERR };
/* Random scripts only: OP_EMITV emits the key's value (or the read's code),
 * OP_COPY copies key -> key `len` (deleting it if absent), OP_SKIPERR skips
 * the next operation if the previous one failed. Their results depend on
 * what was read, so a wrong read shows in the result. */

typedef struct op {
    int code;
    int key;          /* index into keys[] */
    int64_t amount;   /* OP_DELTA */
    uint64_t bound;   /* OP_DELTA; OP_GETU: expected value */
    uint32_t len;     /* OP_PUT, OP_EMIT, OP_GETV: value length */
    uint8_t fill;     /* value pattern (see pattern()) */
    int expect;       /* expected return code; OP_RET: the status returned */
} op;

#define GET(k, e)            { .code = OP_GET, .key = (k), .expect = (e) }
#define GETV(k, n, f)        { .code = OP_GETV, .key = (k), .len = (n), .fill = (f) }
#define GETU(k, x)           { .code = OP_GETU, .key = (k), .bound = (x) }
#define PUT(k, n, f, e)      { .code = OP_PUT, .key = (k), .len = (n), .fill = (f), .expect = (e) }
#define DEL(k, e)            { .code = OP_DEL, .key = (k), .expect = (e) }
#define DELTA(k, a, b, e)    { .code = OP_DELTA, .key = (k), .amount = (a), .bound = (b), .expect = (e) }
#define EMIT(n, f, e)        { .code = OP_EMIT, .len = (n), .fill = (f), .expect = (e) }
#define ROLLBACK             { .code = OP_ROLLBACK }
#define RET(s)               { .code = OP_RET, .expect = (s) }
#define END                  { .code = OP_END }

typedef struct script {
    const op *ops;
    const pel_access *access;   /* NULL: undeclared */
} script;

/* check: 1 while the sequential reference runs (on this thread), so the
 * executor can assert every operation's result; 0 under parallel engines,
 * whose speculative executions may legitimately see other values. */
typedef struct xctx { int check; } xctx;

#define NKEYS 16
static pel_key keys[NKEYS];
static pel_key all_keys_sorted[NKEYS];
static pel_access all_writes;   /* every key declared written */
static uint8_t bigbuf[PEL_VAL_MAX + 1];

/* Key i's first byte is a permutation of i, so sorted order differs from
 * index order (write sets must come out sorted by key bytes). */
static void make_keys(void)
{
    for (int i = 0; i < NKEYS; i++) {
        memset(&keys[i], 0, sizeof(keys[i]));
        keys[i].b[0] = (uint8_t)((i * 7 + 5) % NKEYS * 16);
        keys[i].b[31] = (uint8_t)i;
    }
    memcpy(all_keys_sorted, keys, sizeof(keys));
    for (int i = 1; i < NKEYS; i++)
        for (int j = i; j > 0 && pel_key_cmp(&all_keys_sorted[j - 1], &all_keys_sorted[j]) > 0; j--) {
            pel_key t = all_keys_sorted[j];
            all_keys_sorted[j] = all_keys_sorted[j - 1];
            all_keys_sorted[j - 1] = t;
        }
    all_writes = (pel_access){ NULL, 0, all_keys_sorted, NKEYS, NULL, 0 };
}

static uint8_t pattern_byte(uint8_t fill, uint32_t j) { return (uint8_t)(fill + j * 7); }

static const uint8_t *pattern(uint32_t len, uint8_t fill)
{
    for (uint32_t j = 0; j < len && j < sizeof(bigbuf); j++) bigbuf[j] = pattern_byte(fill, j);
    return bigbuf;
}

static int is_pattern(const pel_val *v, uint32_t len, uint8_t fill)
{
    if (v->len != len || (len && !v->p)) return 0;
    for (uint32_t j = 0; j < len; j++)
        if (v->p[j] != pattern_byte(fill, j)) return 0;
    return 1;
}

static void le64(uint8_t b[8], uint64_t x)
{
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(x >> (8 * i));
}

static int op_run(const op *o, pel_view *v, int check, uint32_t opi)
{
    int rc = 0, good = 1;
    pel_val val;
    uint64_t x;
    switch (o->code) {
    case OP_GET:
        rc = pel_view_get(v, &keys[o->key], &val);
        good = rc == o->expect;
        break;
    case OP_GETV:
        rc = pel_view_get(v, &keys[o->key], &val);
        good = rc == 0 && is_pattern(&val, o->len, o->fill);
        break;
    case OP_GETU:
        rc = pel_view_get_u64(v, &keys[o->key], &x);
        good = rc == 0 && x == o->bound;
        break;
    case OP_PUT: {
        /* bigbuf is shared: parallel runs only use small values, copied. */
        uint8_t small[512];
        const uint8_t *p = o->len <= sizeof(small) ? small : pattern(o->len, o->fill);
        for (uint32_t j = 0; o->len <= sizeof(small) && j < o->len; j++) small[j] = pattern_byte(o->fill, j);
        rc = pel_view_put(v, &keys[o->key], p, o->len);
        good = rc == o->expect;
        break;
    }
    case OP_DEL:
        rc = pel_view_del(v, &keys[o->key]);
        good = rc == o->expect;
        break;
    case OP_DELTA:
        rc = pel_view_delta_add(v, &keys[o->key], o->amount, o->bound);
        good = rc == o->expect;
        break;
    case OP_EMIT: {
        uint8_t small[512];
        const uint8_t *p = o->len <= sizeof(small) ? small : pattern(o->len, o->fill);
        for (uint32_t j = 0; o->len <= sizeof(small) && j < o->len; j++) small[j] = pattern_byte(o->fill, j);
        rc = pel_view_emit(v, p, o->len);
        good = rc == o->expect;
        break;
    }
    case OP_ROLLBACK:
        pel_view_rollback(v);
        break;
    case OP_EMITV: {
        rc = pel_view_get(v, &keys[o->key], &val);
        if (rc == 0) rc = pel_view_emit(v, val.p, val.len);
        else if (rc == PEL_ENOTFOUND || rc == PEL_EACCESS) {
            uint8_t b[8];
            le64(b, (uint64_t)(int64_t)rc);
            rc = pel_view_emit(v, b, 8);
        }
        break;
    }
    case OP_COPY:
        rc = pel_view_get(v, &keys[o->key], &val);
        if (rc == 0) rc = pel_view_put(v, &keys[o->len], val.p, val.len);
        else if (rc == PEL_ENOTFOUND) rc = pel_view_del(v, &keys[o->len]);
        break;
    }
    if (check) {
        if (!good)
            fprintf(stderr, "  tx %u op %u (code %d key %d): rc %d, expected %d\n", v->txn_idx, opi,
                    o->code, o->key, rc, o->expect);
        CHECK(good);
    }
    return rc;
}

static int script_exec(void *ctx, const void *txp, pel_view *v)
{
    const xctx *c = ctx;
    const script *s = txp;
    int status = 0, last = 0;
    for (uint32_t i = 0; s->ops[i].code != OP_END; i++) {
        if (s->ops[i].code == OP_RET) { status = s->ops[i].expect; continue; }
        if (s->ops[i].code == OP_SKIPERR) { if (last && s->ops[i + 1].code != OP_END) i++; continue; }
        int rc = op_run(&s->ops[i], v, c->check, i);
        if (rc == PEL_EHALT || rc == PEL_ENOMEM) return rc;
        last = rc;
    }
    return status;
}

/* ---------------- running a block ---------------- */

static pel_engine *seq, *bstm2, *bstm4, *decl2;
static xctx check_ctx = { 1 }, quiet_ctx = { 0 };

/* base_state - a memstate with keys[k] = pattern(len, fill) for each triple. */
typedef struct init { int key; uint32_t len; uint8_t fill; } init;

static pel_memstate *base_state(const init *in, int n)
{
    pel_memstate *ms = NULL;
    CHECK(pel_memstate_new(&ms) == 0);
    for (int i = 0; ms && i < n; i++)
        CHECK(pel_memstate_put(ms, &keys[in[i].key], pattern(in[i].len, in[i].fill), in[i].len) == 0);
    return ms;
}

static void put_counter(pel_memstate *ms, int k, uint64_t x)
{
    uint8_t b[8];
    le64(b, x);
    CHECK(pel_memstate_put(ms, &keys[k], b, 8) == 0);
}

/* cross_check - the block under Block-STM/2, /4 and declared/2 equals the
 * sequential result; for declared, transactions without a list get one
 * declaring every key written (the sequential run is repeated with them). */
static void cross_check(const pel_state *st, const pel_txdesc *d, uint32_t n)
{
    pel_executor ex = { script_exec, &quiet_ctx };
    pel_block_result ref, r;
    CHECK_EQ_INT(run_engine(seq, st, d, n, &ex, &ref), 0);
    pel_engine *par[] = { bstm2, bstm4 };
    const char *names[] = { "blockstm/2", "blockstm/4" };
    for (int k = 0; k < 2; k++) {
        CHECK_EQ_INT(run_engine(par[k], st, d, n, &ex, &r), 0);
        CHECK(result_eq(&ref, &r, names[k]));
        pel_block_result_free(&r);
    }
    pel_block_result_free(&ref);

    pel_txdesc dd[32];
    CHECK(n <= 32);
    for (uint32_t i = 0; i < n && i < 32; i++) {
        dd[i] = d[i];
        if (!dd[i].access) dd[i].access = &all_writes;
    }
    CHECK_EQ_INT(run_engine(seq, st, dd, n, &ex, &ref), 0);
    CHECK_EQ_INT(run_engine(decl2, st, dd, n, &ex, &r), 0);
    CHECK(result_eq(&ref, &r, "declared/2"));
    pel_block_result_free(&r);
    pel_block_result_free(&ref);
}

/* run_block - the scripts as one block on `ms` through the sequential
 * engine, asserting every operation; then cross_check. */
static void run_block(pel_memstate *ms, const script *s, uint32_t n, pel_block_result *r)
{
    pel_txdesc d[32];
    for (uint32_t i = 0; i < n; i++) d[i] = (pel_txdesc){ &s[i], s[i].access };
    pel_state st = pel_memstate_reader(ms);
    pel_executor ex = { script_exec, &check_ctx };
    int rc = run_engine(seq, &st, d, n, &ex, r);
    CHECK_EQ_INT(rc, 0);
    if (rc) memset(r, 0, sizeof(*r));
    cross_check(&st, d, n);
}

/* find_write - the write of key k in ws, or NULL. */
static const pel_write *find_write(const pel_writeset *ws, int k)
{
    for (uint32_t i = 0; i < ws->n; i++)
        if (pel_key_eq(&ws->w[i].key, &keys[k])) return &ws->w[i];
    return NULL;
}

static int write_is(const pel_writeset *ws, int k, uint32_t len, uint8_t fill)
{
    const pel_write *w = find_write(ws, k);
    return w && w->kind == PEL_W_PUT && is_pattern(&w->val, len, fill);
}

static int write_is_u64(const pel_writeset *ws, int k, uint64_t x)
{
    const pel_write *w = find_write(ws, k);
    uint8_t b[8];
    le64(b, x);
    return w && w->kind == PEL_W_PUT && w->val.len == 8 && memcmp(w->val.p, b, 8) == 0;
}

static int sorted_unique(const pel_writeset *ws)
{
    for (uint32_t i = 1; i < ws->n; i++)
        if (pel_key_cmp(&ws->w[i - 1].key, &ws->w[i].key) >= 0) return 0;
    return 1;
}

/* ---------------- tests ---------------- */

static void test_get_absent_and_own_writes(void)
{
    static const op t0[] = { GET(1, PEL_ENOTFOUND), END };
    static const op t1[] = { GETV(2, 5, 0x40), PUT(1, 5, 0xa0, 0), GETV(1, 5, 0xa0),
                             PUT(1, 3, 0xb0, 0), GETV(1, 3, 0xb0), END };
    static const script s[] = { { t0, NULL }, { t1, NULL } };
    static const init in[] = { { 2, 5, 0x40 } };
    pel_memstate *ms = base_state(in, 1);
    pel_block_result r;
    run_block(ms, s, 2, &r);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_INT(r.receipts[0].status, 0);
    CHECK_EQ_INT(r.receipts[0].gas_used, PEL_GAS_GET);
    CHECK_EQ_INT(r.tx_writes[0].n, 0);
    /* get 5 bytes, put 5, get 5, put 3, get 3 */
    CHECK_EQ_INT(r.receipts[1].gas_used, (PEL_GAS_GET + 5) + (PEL_GAS_PUT + 5) + (PEL_GAS_GET + 5)
                                          + (PEL_GAS_PUT + 3) + (PEL_GAS_GET + 3));
    CHECK_EQ_INT(r.tx_writes[1].n, 1);   /* key 2 was only read */
    CHECK(write_is(&r.tx_writes[1], 1, 3, 0xb0));
    CHECK_EQ_INT(r.block_writes.n, 1);
    CHECK(write_is(&r.block_writes, 1, 3, 0xb0));
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_del(void)
{
    static const op t0[] = { DEL(2, 0), GET(2, PEL_ENOTFOUND), DEL(3, 0), END };
    static const op t1[] = { GET(2, PEL_ENOTFOUND), PUT(3, 2, 1, 0), END };
    static const script s[] = { { t0, NULL }, { t1, NULL } };
    static const init in[] = { { 2, 5, 0x40 } };
    pel_memstate *ms = base_state(in, 1);
    pel_block_result r;
    run_block(ms, s, 2, &r);
    CHECK_EQ_INT(r.receipts[0].gas_used, PEL_GAS_PUT + PEL_GAS_GET + PEL_GAS_PUT);
    CHECK_EQ_INT(r.tx_writes[0].n, 2);
    const pel_write *w = find_write(&r.tx_writes[0], 2);
    CHECK(w && w->kind == PEL_W_DEL && w->val.len == 0);
    w = find_write(&r.tx_writes[0], 3);   /* deleting an absent key is still a write */
    CHECK(w && w->kind == PEL_W_DEL);
    CHECK_EQ_INT(r.block_writes.n, 2);
    w = find_write(&r.block_writes, 2);
    CHECK(w && w->kind == PEL_W_DEL);
    CHECK(write_is(&r.block_writes, 3, 2, 1));   /* re-created by tx 1 */
    CHECK(pel_memstate_apply(ms, &r.block_writes) == 0);
    CHECK_EQ_INT(pel_memstate_count(ms), 1);
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_value_limits(void)
{
    static const op t0[] = { PUT(1, PEL_VAL_MAX, 3, 0), GETV(1, PEL_VAL_MAX, 3), PUT(4, 0, 0, 0), GETV(4, 0, 0), END };
    static const op t1[] = { PUT(2, PEL_VAL_MAX + 1, 4, PEL_ERANGE), GET(2, PEL_ENOTFOUND),
                             EMIT(PEL_VAL_MAX + 1, 0, PEL_ERANGE), END };
    static const script s[] = { { t0, NULL }, { t1, NULL } };
    pel_memstate *ms = base_state(NULL, 0);
    pel_block_result r;
    pel_txdesc d[2] = { { &s[0], NULL }, { &s[1], NULL } };
    pel_state st = pel_memstate_reader(ms);
    pel_executor ex = { script_exec, &check_ctx };
    CHECK_EQ_INT(run_engine(seq, &st, d, 2, &ex, &r), 0);   /* big values: sequential only */
    CHECK_EQ_INT(r.receipts[0].gas_used, (PEL_GAS_PUT + PEL_VAL_MAX) + (PEL_GAS_GET + PEL_VAL_MAX)
                                          + PEL_GAS_PUT + PEL_GAS_GET);
    CHECK(write_is(&r.tx_writes[0], 1, PEL_VAL_MAX, 3));
    CHECK(write_is(&r.tx_writes[0], 4, 0, 0));   /* an empty value is present, not deleted */
    CHECK_EQ_INT(r.receipts[1].status, 0);
    CHECK_EQ_INT(r.tx_writes[1].n, 0);
    CHECK_EQ_INT(r.receipts[1].events_len, 0);
    CHECK(pel_memstate_apply(ms, &r.block_writes) == 0);
    pel_val v;
    CHECK(pel_state_get(&st, &keys[1], &v) == 0 && is_pattern(&v, PEL_VAL_MAX, 3));
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_delta(void)
{
    /* base: key 5 = counter 100, key 6 = 3-byte value (not a counter) */
    static const op t0[] = {   /* additions only: the base is never read */
        DELTA(5, 50, 1000, 0),             /* 150 */
        DELTA(5, 900, 1000, PEL_EBOUND),   /* 1050 > 1000: nothing changes */
        DELTA(5, -151, UINT64_MAX, PEL_EBOUND),   /* below zero */
        DELTA(5, 7, 1000, 0),              /* 157 */
        DELTA(6, 1, UINT64_MAX, PEL_ETYPE),
        DELTA(7, 5, 10, 0),                /* absent = 0 -> 5 */
        DELTA(8, 11, 10, PEL_EBOUND),      /* absent, 11 > 10 */
        DELTA(9, -1, 10, PEL_EBOUND),      /* absent, below zero */
        END };
    static const op t1[] = {   /* reads see the additions of tx 0 */
        GETU(5, 157), DELTA(5, 43, 200, 0), DELTA(5, 1, 200, PEL_EBOUND), GETU(5, 200),
        DELTA(5, -200, 200, 0), GETU(5, 0),
        GET(8, PEL_ENOTFOUND), GET(9, PEL_ENOTFOUND), GETU(7, 5), END };
    static const op t2[] = {   /* addition then get: base + sum */
        DELTA(5, 30, 1000, 0), DELTA(5, 12, 1000, 0), GETU(5, 42),
        DELTA(7, -5, 10, 0), GETU(7, 0),
        PUT(10, 3, 9, 0), DELTA(10, 1, 100, PEL_ETYPE),   /* own non-counter write */
        PUT(11, 8, 0, 0), DELTA(11, 1, UINT64_MAX, 0),     /* own 8-byte write is a counter */
        DEL(12, 0), DELTA(12, 4, 4, 0),                    /* deleted = absent = 0 */
        END };
    static const op t3[] = {   /* second addition crosses its bound; the first stays */
        DELTA(5, 10, 100, 0), DELTA(5, 60, 100, PEL_EBOUND), DELTA(5, 48, 100, 0), END };
    static const script s[] = { { t0, NULL }, { t1, NULL }, { t2, NULL }, { t3, NULL } };
    static const init in[] = { { 6, 3, 1 } };
    pel_memstate *ms = base_state(in, 1);
    put_counter(ms, 5, 100);
    pel_block_result r;
    run_block(ms, s, 4, &r);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(r.receipts[i].status, 0);
    CHECK_EQ_INT(r.receipts[0].gas_used, 8 * PEL_GAS_DELTA);   /* failed additions are charged */
    CHECK_EQ_INT(r.tx_writes[0].n, 2);
    CHECK(write_is_u64(&r.tx_writes[0], 5, 157));
    CHECK(write_is_u64(&r.tx_writes[0], 7, 5));
    CHECK(find_write(&r.tx_writes[0], 6) == NULL);
    CHECK(find_write(&r.tx_writes[0], 8) == NULL);
    CHECK_EQ_INT(r.receipts[1].gas_used, 3 * PEL_GAS_DELTA + 4 * (PEL_GAS_GET + 8) + 2 * PEL_GAS_GET);
    CHECK_EQ_INT(r.tx_writes[1].n, 1);
    CHECK(write_is_u64(&r.tx_writes[1], 5, 0));
    CHECK(write_is_u64(&r.tx_writes[2], 5, 42));
    CHECK(write_is_u64(&r.tx_writes[2], 7, 0));
    CHECK(write_is(&r.tx_writes[2], 10, 3, 9));
    uint8_t one[8] = { 1 + pattern_byte(0, 0), pattern_byte(0, 1), pattern_byte(0, 2), pattern_byte(0, 3),
                       pattern_byte(0, 4), pattern_byte(0, 5), pattern_byte(0, 6), pattern_byte(0, 7) };
    const pel_write *w = find_write(&r.tx_writes[2], 11);
    CHECK(w && w->val.len == 8 && memcmp(w->val.p, one, 8) == 0);
    CHECK(write_is_u64(&r.tx_writes[2], 12, 4));
    CHECK_EQ_INT(r.tx_writes[3].n, 1);
    CHECK(write_is_u64(&r.tx_writes[3], 5, 100));
    CHECK(write_is_u64(&r.block_writes, 5, 100));
    CHECK(write_is_u64(&r.block_writes, 7, 0));
    CHECK(find_write(&r.block_writes, 6) == NULL);
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_rollback(void)
{
    static const op t0[] = {
        PUT(1, 3, 1, 0), EMIT(4, 2, 0), DELTA(5, 5, 100, 0), DEL(2, 0),
        ROLLBACK,
        GET(1, PEL_ENOTFOUND), GETV(2, 6, 7), GETU(5, 10),   /* own writes gone, base visible */
        PUT(3, 2, 3, 0), EMIT(1, 4, 0), RET(0), END };
    static const op t1[] = { GET(1, PEL_ENOTFOUND), GETV(2, 6, 7), GETU(5, 10), GETV(3, 2, 3), END };
    static const script s[] = { { t0, NULL }, { t1, NULL } };
    static const init in[] = { { 2, 6, 7 } };
    pel_memstate *ms = base_state(in, 1);
    put_counter(ms, 5, 10);
    pel_block_result r;
    run_block(ms, s, 2, &r);
    CHECK_EQ_INT(r.receipts[0].status, 0);
    CHECK_EQ_INT(r.receipts[0].gas_used,
                 (PEL_GAS_PUT + 3) + (PEL_GAS_EVENT + 4) + PEL_GAS_DELTA + PEL_GAS_PUT      /* before */
                 + PEL_GAS_GET + (PEL_GAS_GET + 6) + (PEL_GAS_GET + 8)                       /* reads */
                 + (PEL_GAS_PUT + 2) + (PEL_GAS_EVENT + 1));                                 /* after */
    CHECK_EQ_INT(r.tx_writes[0].n, 1);
    CHECK(write_is(&r.tx_writes[0], 3, 2, 3));
    static const uint8_t ev[] = { 1, 0, 0, 0, 4 };
    CHECK_EQ_INT(r.receipts[0].events_len, 5);
    if (r.receipts[0].events_len == 5) CHECK_MEM(r.receipts[0].events, ev, 5);
    CHECK_EQ_INT(r.block_writes.n, 1);
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_events(void)
{
    static const op t0[] = { EMIT(3, 0x61, 0), EMIT(0, 0, 0), EMIT(300, 9, 0), END };
    static const op t1[] = { PUT(1, 1, 1, 0), END };
    static const op t2[] = { EMIT(2, 0x10, 0), RET(PEL_EABORT), END };
    static const script s[] = { { t0, NULL }, { t1, NULL }, { t2, NULL } };
    pel_memstate *ms = base_state(NULL, 0);
    pel_block_result r;
    run_block(ms, s, 3, &r);
    CHECK_EQ_INT(r.receipts[0].gas_used, (PEL_GAS_EVENT + 3) + PEL_GAS_EVENT + (PEL_GAS_EVENT + 300));
    CHECK_EQ_INT(r.receipts[0].events_len, 4 + 3 + 4 + 4 + 300);
    uint8_t want[315];
    memcpy(want, "\x03\x00\x00\x00", 4);
    for (int j = 0; j < 3; j++) want[4 + j] = pattern_byte(0x61, (uint32_t)j);
    memcpy(want + 7, "\x00\x00\x00\x00\x2c\x01\x00\x00", 8);   /* 0, then 300 LE */
    for (int j = 0; j < 300; j++) want[15 + j] = pattern_byte(9, (uint32_t)j);
    if (r.receipts[0].events_len == 315) CHECK_MEM(r.receipts[0].events, want, 315);
    CHECK_EQ_INT(r.receipts[1].events_len, 0);
    CHECK_EQ_INT(r.receipts[2].status, PEL_EABORT);   /* a failing status keeps its events */
    CHECK_EQ_INT(r.receipts[2].events_len, 6);
    if (r.receipts[2].events_len == 6)
        CHECK(r.receipts[2].events[0] == 2 && r.receipts[2].events[4] == 0x10 && r.receipts[2].events[5] == 0x17);
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_write_sets_sorted_and_last_value(void)
{
    static const op t0[] = { PUT(5, 1, 50, 0), PUT(1, 1, 10, 0), PUT(3, 1, 30, 0), PUT(2, 1, 20, 0),
                             PUT(9, 1, 90, 0), PUT(14, 1, 140, 0), PUT(0, 1, 0, 0), PUT(7, 1, 70, 0), END };
    static const op t1[] = { GETV(5, 1, 50), GETV(3, 1, 30), PUT(1, 2, 11, 0), DEL(3, 0), PUT(5, 1, 51, 0),
                             PUT(5, 2, 52, 0), END };
    static const op t2[] = { GET(3, PEL_ENOTFOUND), GETV(1, 2, 11), GETV(5, 2, 52), GETV(2, 1, 20),
                             PUT(7, 4, 71, 0), DEL(14, 0), PUT(14, 1, 141, 0), END };
    static const script s[] = { { t0, NULL }, { t1, NULL }, { t2, NULL } };
    pel_memstate *ms = base_state(NULL, 0);
    pel_block_result r;
    run_block(ms, s, 3, &r);
    CHECK_EQ_INT(r.tx_writes[0].n, 8);   /* more keys than the view's inline buffer */
    CHECK(sorted_unique(&r.tx_writes[0]));
    CHECK_EQ_INT(r.tx_writes[1].n, 3);
    CHECK(sorted_unique(&r.tx_writes[1]));
    CHECK(write_is(&r.tx_writes[1], 5, 2, 52));   /* last put within the tx */
    CHECK_EQ_INT(r.tx_writes[2].n, 2);
    CHECK(write_is(&r.tx_writes[2], 14, 1, 141));
    const pel_writeset *b = &r.block_writes;
    CHECK_EQ_INT(b->n, 8);
    CHECK(sorted_unique(b));
    CHECK(write_is(b, 0, 1, 0));
    CHECK(write_is(b, 1, 2, 11));
    CHECK(write_is(b, 2, 1, 20));
    const pel_write *w = find_write(b, 3);
    CHECK(w && w->kind == PEL_W_DEL);
    CHECK(write_is(b, 5, 2, 52));
    CHECK(write_is(b, 7, 4, 71));
    CHECK(write_is(b, 9, 1, 90));
    CHECK(write_is(b, 14, 1, 141));
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_access_lists(void)
{
    /* reads {1}, writes {2}, deltas {3} */
    static pel_key rd[1], wr[1], dl[1];
    rd[0] = keys[1]; wr[0] = keys[2]; dl[0] = keys[3];
    static const pel_access acc = { rd, 1, wr, 1, dl, 1 };
    static const op t0[] = { GET(2, PEL_ENOTFOUND), GETV(1, 4, 1), DELTA(3, 1, 10, 0), DELTA(2, 2, 10, 0),
                             GETU(2, 2), END };
    static const op t1[] = { GET(3, PEL_EACCESS), RET(0), END };                  /* get of delta-only */
    static const op t2[] = { PUT(1, 1, 1, PEL_EACCESS), RET(0), END };            /* put of read-only */
    static const op t3[] = { DEL(1, PEL_EACCESS), DELTA(1, 1, 10, PEL_EACCESS), END };
    static const op t5[] = { GET(4, PEL_EACCESS), GET(2, PEL_EACCESS) /* sticky */, ROLLBACK,
                             PUT(2, 1, 5, 0), RET(0), END };
    static const op t6[] = { PUT(9, 1, 1, PEL_EACCESS), RET(PEL_EABORT), END };
    /* the violation is ignored; the flag is sticky: the read of key 1 is refused too */
    static const op t4[] = { PUT(2, 2, 2, 0), DELTA(3, 1, 10, 0), EMIT(3, 0, 0),
                             GET(3, PEL_EACCESS), GET(1, PEL_EACCESS), RET(0), END };
    static const script s[7] = { { t0, &acc }, { t1, &acc }, { t2, &acc }, { t3, &acc },
                                 { t4, &acc }, { t5, &acc }, { t6, &acc } };
    static const init in[] = { { 1, 4, 1 } };
    pel_memstate *ms = base_state(in, 1);
    pel_block_result r;
    run_block(ms, s, 7, &r);
    CHECK_EQ_INT(r.receipts[0].status, 0);
    CHECK_EQ_INT(r.tx_writes[0].n, 2);
    CHECK(write_is_u64(&r.tx_writes[0], 2, 2));
    CHECK(write_is_u64(&r.tx_writes[0], 3, 1));
    for (int i = 1; i <= 4; i++) {
        CHECK_EQ_INT(r.receipts[i].status, PEL_EACCESS);
        CHECK_EQ_INT(r.tx_writes[i].n, 0);
        CHECK_EQ_INT(r.receipts[i].events_len, 0);
    }
    /* refused operations cost nothing; the accepted ones before stay charged */
    CHECK_EQ_INT(r.receipts[1].gas_used, 0);
    CHECK_EQ_INT(r.receipts[4].gas_used, (PEL_GAS_PUT + 2) + PEL_GAS_DELTA + (PEL_GAS_EVENT + 3));
    CHECK_EQ_INT(r.receipts[5].status, 0);   /* rollback clears the flag */
    CHECK_EQ_INT(r.tx_writes[5].n, 1);
    CHECK(write_is(&r.tx_writes[5], 2, 1, 5));
    CHECK_EQ_INT(r.receipts[6].status, PEL_EACCESS);   /* forced over the tx's own status */
    CHECK_EQ_INT(r.block_writes.n, 2);
    CHECK(write_is(&r.block_writes, 2, 1, 5));
    CHECK(write_is_u64(&r.block_writes, 3, 1));
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

static void test_error_status_keeps_writes(void)
{
    static const op t0[] = { PUT(1, 2, 1, 0), DELTA(5, 3, 10, 0), EMIT(1, 1, 0), RET(PEL_EABORT), END };
    static const op t1[] = { GETV(1, 2, 1), GETU(5, 3), PUT(2, 1, 2, 0), ROLLBACK, PUT(3, 1, 3, 0),
                             RET(PEL_EFUNDS), END };
    static const op t2[] = { GETV(1, 2, 1), GET(2, PEL_ENOTFOUND), GETV(3, 1, 3), END };
    static const script s[] = { { t0, NULL }, { t1, NULL }, { t2, NULL } };
    pel_memstate *ms = base_state(NULL, 0);
    pel_block_result r;
    run_block(ms, s, 3, &r);
    CHECK_EQ_INT(r.receipts[0].status, PEL_EABORT);
    CHECK_EQ_INT(r.tx_writes[0].n, 2);   /* the engine does not discard them */
    CHECK(write_is(&r.tx_writes[0], 1, 2, 1));
    CHECK(write_is_u64(&r.tx_writes[0], 5, 3));
    CHECK_EQ_INT(r.receipts[0].events_len, 5);
    CHECK_EQ_INT(r.receipts[1].status, PEL_EFUNDS);
    CHECK_EQ_INT(r.tx_writes[1].n, 1);
    CHECK(write_is(&r.tx_writes[1], 3, 1, 3));
    CHECK_EQ_INT(r.receipts[2].status, 0);
    CHECK_EQ_INT(r.block_writes.n, 3);
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

/* A block mixing everything above with several transactions on the same
 * keys, so the parallel engines have conflicts to resolve. */
static void test_mixed_conflicts(void)
{
    static const op t0[] = { DELTA(5, 10, 100, 0), PUT(1, 4, 1, 0), END };
    static const op t1[] = { DELTA(5, 50, 60, 0), DELTA(5, 1, 60, PEL_EBOUND), EMIT(1, 1, 0), END };
    static const op t2[] = { GETU(5, 60), PUT(2, 1, 2, 0), DELTA(5, -60, 60, 0), END };
    static const op t3[] = { GETV(1, 4, 1), GETV(2, 1, 2), DEL(1, 0), ROLLBACK, DEL(2, 0), RET(PEL_EABORT), END };
    static const op t4[] = { GET(2, PEL_ENOTFOUND), GETV(1, 4, 1), DELTA(5, 1, 1, 0), GETU(5, 1), END };
    static const op t5[] = { DELTA(5, 1, 1, PEL_EBOUND), DELTA(5, -1, 1, 0), PUT(1, 3, 3, 0), END };
    static const script s[] = { { t0, NULL }, { t1, NULL }, { t2, NULL }, { t3, NULL }, { t4, NULL }, { t5, NULL } };
    pel_memstate *ms = base_state(NULL, 0);
    pel_block_result r;
    run_block(ms, s, 6, &r);
    CHECK_EQ_INT(r.receipts[3].status, PEL_EABORT);
    CHECK(write_is_u64(&r.block_writes, 5, 0));
    CHECK(write_is(&r.block_writes, 1, 3, 3));
    const pel_write *w = find_write(&r.block_writes, 2);
    CHECK(w && w->kind == PEL_W_DEL);
    pel_block_result_free(&r);
    pel_memstate_free(ms);
}

/* ---------------- random scripts ---------------- */

static pel_engine *bstm2nf, *bstm4nf, *decl4;

enum { RK = 5 };   /* keys used by random scripts */

static op random_op(pel_rng *g)
{
    static const uint64_t bounds[] = { 10, 30, 100, UINT64_MAX };
    op o = { .key = (int)pel_rng_below(g, RK) };
    switch (pel_rng_below(g, 16)) {
    case 0: case 1: o.code = OP_EMITV; break;
    case 2: case 3: o.code = OP_COPY; o.len = pel_rng_below(g, RK); break;
    case 4: case 5: o.code = OP_PUT; o.fill = (uint8_t)pel_rng_next(g);
        o.len = pel_rng_below(g, 3) == 0 ? 8 : pel_rng_below(g, 13); break;
    case 6: o.code = OP_DEL; break;
    case 7: case 8: case 9: case 10: o.code = OP_DELTA;
        o.amount = (int64_t)pel_rng_below(g, 41) - 20; o.bound = bounds[pel_rng_below(g, 4)]; break;
    case 11: o.code = OP_EMIT; o.len = pel_rng_below(g, 5); o.fill = (uint8_t)pel_rng_next(g); break;
    case 12: o.code = OP_ROLLBACK; break;
    case 13: case 14: o.code = OP_SKIPERR; break;
    default: o.code = OP_GET; break;
    }
    return o;
}

/* honest_access - the tightest list that allows every operation of the
 * script (a key only added to is a delta; read and added: read + delta). */
static pel_access *honest_access(const op *ops, pel_arena *a, int drop)
{
    int rd[RK] = {0}, wr[RK] = {0}, dl[RK] = {0};
    for (const op *o = ops; o->code != OP_END; o++) {
        if (o->code == OP_GET || o->code == OP_EMITV || o->code == OP_COPY) rd[o->key] = 1;
        if (o->code == OP_PUT || o->code == OP_DEL) wr[o->key] = 1;
        if (o->code == OP_COPY) wr[o->len] = 1;
        if (o->code == OP_DELTA) dl[o->key] = 1;
    }
    if (drop >= 0) rd[drop] = wr[drop] = dl[drop] = 0;   /* an undeclared access */
    pel_access *acc = pel_arena_alloc(a, sizeof(*acc));
    pel_key *k = pel_arena_alloc(a, 3 * RK * sizeof(pel_key));
    if (!acc || !k) return NULL;
    uint32_t n[3] = { 0, 0, 0 };
    for (uint32_t j = 0; j < NKEYS; j++) {   /* all_keys_sorted is in key order */
        int i = (int)(all_keys_sorted[j].b[31]);
        if (i >= RK) continue;
        if (wr[i]) k[RK + n[1]++] = keys[i];
        else {
            if (rd[i]) k[n[0]++] = keys[i];
            if (dl[i]) k[2 * RK + n[2]++] = keys[i];
        }
    }
    *acc = (pel_access){ k, n[0], k + RK, n[1], k + 2 * RK, n[2] };
    return acc;
}

static int random_block(uint64_t seed)
{
    pel_rng g = { seed };
    pel_arena a;
    pel_arena_init(&a, 0);
    uint32_t n = 1 + pel_rng_below(&g, 40);
    script *s = pel_arena_alloc(&a, n * sizeof(*s));
    pel_txdesc *d = pel_arena_alloc(&a, n * sizeof(*d));
    pel_txdesc *dd = pel_arena_alloc(&a, n * sizeof(*dd));
    pel_memstate *ms = NULL;
    int ok = s && d && dd && pel_memstate_new(&ms) == 0;
    for (int k = 0; ok && k < RK; k++) {   /* counters, other values, absent */
        uint32_t r = pel_rng_below(&g, 3);
        if (r == 0) put_counter(ms, k, pel_rng_below(&g, 60));
        else if (r == 1) CHECK(pel_memstate_put(ms, &keys[k], pattern(3, (uint8_t)k), 3) == 0);
    }
    int declare_all = pel_rng_below(&g, 2);
    for (uint32_t i = 0; ok && i < n; i++) {
        uint32_t nops = 1 + pel_rng_below(&g, 8);
        op *ops = pel_arena_alloc(&a, (nops + 2) * sizeof(op));
        if (!ops) { ok = 0; break; }
        for (uint32_t j = 0; j < nops; j++) ops[j] = random_op(&g);
        ops[nops] = (op){ .code = pel_rng_below(&g, 6) == 0 ? OP_RET : OP_END, .expect = PEL_EABORT };
        ops[nops + 1] = (op){ .code = OP_END };
        int drop = pel_rng_below(&g, 10) == 0 ? (int)pel_rng_below(&g, RK) : -1;
        const pel_access *acc = honest_access(ops, &a, drop);
        if (!acc) { ok = 0; break; }
        s[i] = (script){ ops, NULL };
        d[i] = (pel_txdesc){ &s[i], declare_all || pel_rng_below(&g, 2) ? acc : NULL };
        dd[i] = (pel_txdesc){ &s[i], acc };
    }
    CHECK(ok);
    pel_state st = pel_memstate_reader(ms);
    pel_executor ex = { script_exec, &quiet_ctx };
    pel_block_result ref, ref_decl, r;
    ok = ok && run_engine(seq, &st, d, n, &ex, &ref) == 0;
    ok = ok && run_engine(seq, &st, dd, n, &ex, &ref_decl) == 0;
    CHECK(ok);
    int same = ok;
    pel_engine *es[] = { bstm2nf, bstm4nf, bstm2, decl2, decl4 };
    const char *names[] = { "blockstm/2-nofallback", "blockstm/4-nofallback", "blockstm/2", "declared/2", "declared/4" };
    for (int e = 0; ok && e < 5; e++) {
        const pel_txdesc *use = e < 3 ? d : dd;
        if (run_engine(es[e], &st, use, n, &ex, &r) != 0) { CHECK(0); same = 0; continue; }
        int eq = result_eq(e < 3 ? &ref : &ref_decl, &r, names[e]);
        CHECK(eq);
        if (!eq) { same = 0; fprintf(stderr, "  random script block seed 0x%llx (n=%u)\n", (unsigned long long)seed, n); }
        pel_block_result_free(&r);
    }
    if (ok) { pel_block_result_free(&ref); pel_block_result_free(&ref_decl); }
    pel_memstate_free(ms);
    pel_arena_free(&a);
    return same;
}

static void test_random_scripts(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL);
    uint32_t dflt = test_env_u64("PEL_TEST_TSAN", 0) ? 60 : 1000;
#if defined(__SANITIZE_ADDRESS__)
    dflt = 200;   /* thread hand-offs are slow under ASan */
#endif
    uint32_t iters = (uint32_t)test_env_u64("PEL_TEST_ITERS", dflt);
    printf("test_view: random scripts seed 0x%llx, %u blocks (replay: PEL_TEST_SEED=0x%llx)\n",
           (unsigned long long)seed, iters, (unsigned long long)seed);
    pel_rng master = { seed };
    uint32_t failures = 0;
    for (uint32_t i = 0; i < iters && failures < 3; i++) failures += !random_block(pel_rng_next(&master));
    CHECK_EQ_INT(failures, 0);
}

int main(void)
{
    make_keys();
    pel_engine_opts o = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    CHECK(pel_engine_new(&o, &seq) == 0);
    o = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 2);
    CHECK(pel_engine_new(&o, &bstm2) == 0);
    o = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 4);
    CHECK(pel_engine_new(&o, &bstm4) == 0);
    o = pel_engine_defaults(PEL_ENGINE_DECLARED, 2);
    o.wave_min_parallel = 2;   /* small blocks: waves must really run in parallel */
    CHECK(pel_engine_new(&o, &decl2) == 0);
    o = pel_engine_defaults(PEL_ENGINE_DECLARED, 4);
    o.wave_min_parallel = 2;
    CHECK(pel_engine_new(&o, &decl4) == 0);
    o = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 2);
    o.storm_ratio = 0;
    CHECK(pel_engine_new(&o, &bstm2nf) == 0);
    o = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 4);
    o.storm_ratio = 0;
    CHECK(pel_engine_new(&o, &bstm4nf) == 0);
    if (!seq || !bstm2 || !bstm4 || !decl2 || !decl4 || !bstm2nf || !bstm4nf) return TEST_END("test_view");
    RUN(test_get_absent_and_own_writes);
    RUN(test_del);
    RUN(test_value_limits);
    RUN(test_delta);
    RUN(test_rollback);
    RUN(test_events);
    RUN(test_write_sets_sorted_and_last_value);
    RUN(test_access_lists);
    RUN(test_error_status_keeps_writes);
    RUN(test_mixed_conflicts);
    RUN(test_random_scripts);
    pel_engine_free(decl4);
    pel_engine_free(bstm2nf);
    pel_engine_free(bstm4nf);
    pel_engine_free(seq);
    pel_engine_free(bstm2);
    pel_engine_free(bstm4);
    pel_engine_free(decl2);
    return TEST_END("test_view");
}
