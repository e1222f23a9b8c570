/*
 * test_chain.c - the chain on disk: genesis, build + commit, reopen,
 * queries, and that pel_chain_verify (the replay check behind
 * `pel admin verify` and the crash test) notices every kind of damage.
 */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hash.h"
#include "node/chain.h"
#include "state/history.h"
#include "state/smt.h"

#define ACCTS 6

typedef struct account { uint8_t pk[32], sk[64]; pel_addr addr; uint64_t nonce; } account;

static char dir[64];
static account accts[ACCTS];
static pel_genesis gen;

static void make_genesis(pel_genesis *g, const char *chain)
{
    memset(g, 0, sizeof *g);
    snprintf(g->params.chain_id, sizeof g->params.chain_id, "%s", chain);
    g->params.gas = pel_gas_defaults();
    g->params.min_gas_price = 1;
    g->time_ms = 1000;
    g->accounts = calloc(ACCTS, sizeof *g->accounts);
    for (int i = 0; i < ACCTS; i++) {
        g->accounts[i].addr = accts[i].addr;
        g->accounts[i].balance = 1000000;
    }
    g->n_accounts = ACCTS;
    char err[128];
    if (pel_genesis_finish(g, err, sizeof err)) abort();
}

typedef struct txs { uint8_t *raw[64]; pel_tx tx[64]; const pel_tx *ptr[64]; uint32_t n; } txs;

static void add_transfer(txs *t, int from, int to, uint64_t amount)
{
    uint8_t body[PEL_TRANSFER_BODY_LEN];
    pel_tx tx;
    pel_buf b;
    memset(&tx, 0, sizeof tx);
    pel_transfer_body(&accts[to].addr, amount, body);
    tx.chain_id = (const uint8_t *)gen.params.chain_id;
    tx.chain_id_len = (uint32_t)strlen(gen.params.chain_id);
    tx.nonce = accts[from].nonce++;
    tx.gas_limit = 10000;
    tx.gas_price = 1;
    tx.type = PEL_TX_TRANSFER;
    tx.body = body;
    tx.body_len = sizeof body;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_tx_sign(&tx, accts[from].sk, &b), 0);
    t->raw[t->n] = malloc(b.len);
    memcpy(t->raw[t->n], b.data, b.len);
    CHECK_EQ_INT(pel_tx_decode(t->raw[t->n], b.len, &t->tx[t->n]), 0);
    t->ptr[t->n] = &t->tx[t->n];
    t->n++;
    pel_buf_free(&b);
}

static void free_txs(txs *t)
{
    for (uint32_t i = 0; i < t->n; i++) free(t->raw[i]);
    t->n = 0;
}

/* Commit `blocks` blocks of random transfers (one failing transfer each). */
static void grow(pel_chain *c, pel_engine *e, int blocks, uint8_t proposer_sk[64])
{
    static uint64_t rng = 99;
    for (int b = 0; b < blocks; b++) {
        txs t = { .n = 0 };
        for (int i = 0; i < 20; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            int from = (int)((rng >> 33) % ACCTS), to = (int)((rng >> 40) % ACCTS);
            add_transfer(&t, from, to, 1 + (rng >> 50) % 100);
        }
        add_transfer(&t, 0, 1, 999999999);              /* fails: insufficient funds */
        pel_built_block bb;
        CHECK_EQ_INT(pel_chain_build(c, e, t.ptr, t.n, 5000 + (uint64_t)b, proposer_sk, &bb), 0);
        CHECK_EQ_INT(bb.result.receipts[t.n - 1].status, PEL_EFUNDS);
        CHECK_EQ_INT(pel_chain_commit(c, &bb), 0);
        pel_built_block_free(&bb);
        free_txs(&t);
    }
}

static uint8_t node_pk[32], node_sk[64];

static pel_chain_opts small_store(void)
{
    pel_chain_opts so = pel_chain_defaults();
    so.store.map_size = 64u << 20;
    so.sk = node_sk;
    return so;
}

static void build_commit_reopen(void)
{
    char err[256];
    pel_chain *c;
    pel_engine *e;
    pel_chain_opts so = small_store();
    pel_engine_opts eo = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 2);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_get_head(c).height, 0);
    CHECK_EQ_INT(pel_engine_new(&eo, &e), 0);
    grow(c, e, 5, node_sk);
    pel_chain_head h = pel_chain_get_head(c);
    CHECK_EQ_INT(h.height, 5);
    CHECK_EQ_INT(h.history_size, 5 * 21);
    /* queries */
    uint64_t bal, nonce, height;
    uint32_t index;
    CHECK_EQ_INT(pel_chain_account(c, &accts[0].addr, &bal, &nonce), 0);
    CHECK_EQ_INT(nonce, accts[0].nonce);
    pel_buf rec;
    pel_buf_init(&rec);
    CHECK_EQ_INT(pel_chain_block(c, 3, &rec), 0);
    pel_block_header hd;
    const uint8_t **raw;
    uint32_t *lens, n;
    CHECK_EQ_INT(pel_block_record_decode(rec.data, rec.len, &hd, &raw, &lens, &n), 0);
    CHECK_EQ_INT(hd.height, 3);
    CHECK_EQ_INT(n, 21);
    CHECK_EQ_INT(pel_block_header_verify(&hd), 0);
    CHECK_MEM(hd.proposer, node_pk, 32);
    pel_tx tx;
    CHECK_EQ_INT(pel_tx_decode(raw[7], lens[7], &tx), 0);
    CHECK_EQ_INT(pel_chain_tx_location(c, tx.id, &height, &index), 0);
    CHECK_EQ_INT(height, 3);
    CHECK_EQ_INT(index, 7);
    free(raw);
    free(lens);
    CHECK_EQ_INT(pel_chain_block(c, 6, &rec), PEL_ENOTFOUND);
    pel_buf_free(&rec);
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), 0);
    pel_engine_free(e);
    pel_chain_close(c);
    /* reopen: same head, no replay */
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    pel_chain_head h2 = pel_chain_get_head(c);
    CHECK_EQ_INT(h2.height, 5);
    CHECK_MEM(h2.hash, h.hash, 32);
    CHECK_MEM(h2.state_root, h.state_root, 32);
    pel_chain_close(c);
}

static void other_genesis_refused(void)
{
    char err[256] = "";
    pel_chain *c;
    pel_genesis other;
    pel_chain_opts so = small_store();
    make_genesis(&other, "another-chain");
    CHECK_EQ_INT(pel_chain_open(dir, &other, &so, &c, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "another genesis") != NULL);
    pel_genesis_free(&other);
}

static void put_format_bytes(const uint8_t *v, size_t len)
{
    pel_store *s;
    pel_store_txn *w;
    pel_chain_opts so = small_store();
    CHECK_EQ_INT(pel_store_open(dir, &so.store, &s), 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    if (v) CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "format", 6, v, len), 0);
    else CHECK_EQ_INT(pel_store_del(w, PEL_T_META, "format", 6), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_store_close(s);
}

/* The recorded format, or 0 when the store has no record. */
static uint64_t stored_format(pel_chain *c)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(pel_chain_store(c), PEL_T_META, "format", 6, &b);
    uint64_t f = rc == 0 && b.len == 4 ? pel_le_load(b.data, 4) : rc == PEL_ENOTFOUND ? 0 : UINT64_MAX;
    pel_buf_free(&b);
    return f;
}

/* The store format record: written at genesis, added to a store made before
 * it (but not by a read-only open), a newer format or a damaged record
 * refused with a message, by writable and read-only opens alike. */
static void store_format(void)
{
    char err[256] = "";
    pel_chain *c;
    pel_chain_opts so = small_store(), ro = small_store();
    ro.store.read_only = 1;
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(stored_format(c), PEL_CHAIN_FORMAT);
    pel_chain_close(c);
    /* a store from before the record: read-only leaves it, writable adds it */
    put_format_bytes(NULL, 0);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &ro, &c, err, sizeof err), 0);
    CHECK_EQ_INT(stored_format(c), 0);
    pel_chain_close(c);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(stored_format(c), PEL_CHAIN_FORMAT);
    CHECK_EQ_INT(pel_chain_get_head(c).height, 5);
    pel_chain_close(c);
    /* an older format this binary reads */
    uint8_t v[4];
    pel_le_store(v, 1, 4);
    put_format_bytes(v, 4);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(stored_format(c), 1);
    pel_chain_close(c);
    /* a newer one: refused, whatever the open */
    pel_le_store(v, PEL_CHAIN_FORMAT + 1, 4);
    put_format_bytes(v, 4);
    err[0] = 0;
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "newer PEL") != NULL);
    err[0] = 0;
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &ro, &c, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "newer PEL") != NULL);
    /* damaged: a zero or a record of the wrong length */
    pel_le_store(v, 0, 4);
    put_format_bytes(v, 4);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), PEL_ECORRUPT);
    CHECK(strstr(err, "damaged") != NULL);
    pel_le_store(v, PEL_CHAIN_FORMAT, 4);
    put_format_bytes(v, 3);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), PEL_ECORRUPT);
    put_format_bytes(v, 4);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(stored_format(c), PEL_CHAIN_FORMAT);
    pel_chain_close(c);
}

/* Damage one record with a raw store transaction, check verify names it,
 * then undo the damage. */
typedef void (*damage_fn)(pel_store_txn *w, pel_buf *saved, int undo);

static void put_u64_state(pel_store_txn *w, const pel_key *k, uint64_t v)
{
    uint8_t b[8];
    pel_le_store(b, v, 8);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, k->b, 32, b, 8), 0);
}

static void dmg_balance(pel_store_txn *w, pel_buf *saved, int undo)
{
    pel_key k;
    pel_key_balance(&accts[2].addr, &k);
    if (!undo) {
        CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_STATE, k.b, 32, saved), 0);
        put_u64_state(w, &k, pel_le_load(saved->data, 8) + 1);
    } else {
        CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, k.b, 32, saved->data, saved->len), 0);
    }
}

static void dmg_extra_key(pel_store_txn *w, pel_buf *saved, int undo)
{
    (void)saved;
    pel_key k;
    memset(k.b, 0xab, 32);
    if (!undo) put_u64_state(w, &k, 7);
    else CHECK_EQ_INT(pel_store_del(w, PEL_T_STATE, k.b, 32), 0);
}

static void dmg_receipt(pel_store_txn *w, pel_buf *saved, int undo)
{
    uint8_t key[12] = { 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4 };   /* block 2, tx 4 */
    if (!undo) {
        CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_RECEIPTS, key, 12, saved), 0);
        pel_buf copy;
        pel_buf_init(&copy);
        CHECK_EQ_INT(pel_buf_append(&copy, saved->data, saved->len), 0);
        copy.data[5] ^= 1;                                   /* gas_used */
        CHECK_EQ_INT(pel_store_put(w, PEL_T_RECEIPTS, key, 12, copy.data, copy.len), 0);
        pel_buf_free(&copy);
    } else {
        CHECK_EQ_INT(pel_store_put(w, PEL_T_RECEIPTS, key, 12, saved->data, saved->len), 0);
    }
}

static void dmg_block(pel_store_txn *w, pel_buf *saved, int undo)
{
    uint8_t key[8];
    pel_chain_height_key(4, key);
    if (!undo) {
        CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_BLOCKS, key, 8, saved), 0);
        CHECK_EQ_INT(pel_store_del(w, PEL_T_BLOCKS, key, 8), 0);
    } else {
        CHECK_EQ_INT(pel_store_put(w, PEL_T_BLOCKS, key, 8, saved->data, saved->len), 0);
    }
}

static void dmg_block_beyond(pel_store_txn *w, pel_buf *saved, int undo)
{
    uint8_t key[8], k3[8];
    pel_chain_height_key(6, key);
    pel_chain_height_key(3, k3);
    if (!undo) {
        CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_BLOCKS, k3, 8, saved), 0);
        CHECK_EQ_INT(pel_store_put(w, PEL_T_BLOCKS, key, 8, saved->data, saved->len), 0);
    } else {
        CHECK_EQ_INT(pel_store_del(w, PEL_T_BLOCKS, key, 8), 0);
    }
}

/* Flips bit `mask` of byte `at` of block 2's record (at < 0: from the end). */
static void dmg_block2_byte(pel_store_txn *w, pel_buf *saved, int undo, long at, uint8_t mask)
{
    uint8_t key[8];
    pel_chain_height_key(2, key);
    if (!undo) {
        CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_BLOCKS, key, 8, saved), 0);
        pel_buf copy;
        pel_buf_init(&copy);
        CHECK_EQ_INT(pel_buf_append(&copy, saved->data, saved->len), 0);
        copy.data[at < 0 ? copy.len - (size_t)-at : (size_t)at] ^= mask;
        CHECK_EQ_INT(pel_store_put(w, PEL_T_BLOCKS, key, 8, copy.data, copy.len), 0);
        pel_buf_free(&copy);
    } else {
        CHECK_EQ_INT(pel_store_put(w, PEL_T_BLOCKS, key, 8, saved->data, saved->len), 0);
    }
}

/* inside the header's signature */
static void dmg_signature(pel_store_txn *w, pel_buf *saved, int undo) { dmg_block2_byte(w, saved, undo, 220 + 10, 0x40); }

/* A transaction's signature: the record ends with block 2's last
 * transaction, whose encoding ends with its signature (R || S). 24 bytes
 * from the end is S's low half (S stays below L, so the node's own
 * equation refuses it); 60 is inside R (which then rarely decodes, and
 * libsodium refuses it). */
static void dmg_tx_sig_s(pel_store_txn *w, pel_buf *saved, int undo) { dmg_block2_byte(w, saved, undo, -24, 0x08); }
static void dmg_tx_sig_r(pel_store_txn *w, pel_buf *saved, int undo) { dmg_block2_byte(w, saved, undo, -60, 0x08); }

/* flip one bit of a stored record (undo flips it back) */
static void flip_record(pel_store_txn *w, pel_table t, const void *key, size_t klen, size_t at)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_store_txn_get(w, t, key, klen, &b), 0);
    if (at >= b.len) at = b.len - 1;
    b.data[at] ^= 0x10;
    CHECK_EQ_INT(pel_store_put(w, t, key, klen, b.data, b.len), 0);
    pel_buf_free(&b);
}

static void dmg_history(pel_store_txn *w, pel_buf *saved, int undo)
{
    (void)saved; (void)undo;
    uint8_t key[8];
    pel_chain_height_key(7, key);                   /* post-order position 7: leaf 4 */
    flip_record(w, PEL_T_HISTORY, key, 8, 3);
}

static void dmg_checkpoint(pel_store_txn *w, pel_buf *saved, int undo)
{
    (void)saved; (void)undo;
    uint8_t key[8];
    pel_chain_height_key(3, key);
    flip_record(w, PEL_T_CHECKPOINTS, key, 8, 20);  /* in the tree size or root line */
}

/* The newest state-tree root record: its hash covers every node, so the
 * walk at the head (and the open-time root check) notices. */
static void dmg_state_tree(pel_store_txn *w, pel_buf *saved, int undo)
{
    (void)saved; (void)undo;
    uint8_t key[9] = { 'n', 0, 0, 0, 0, 0, 0, 0, 5 };
    flip_record(w, PEL_T_SMT, key, 9, 30);
}

static void with_store(damage_fn fn, pel_buf *saved, int undo)
{
    pel_store *s;
    pel_store_txn *w;
    pel_chain_opts so = small_store();
    CHECK_EQ_INT(pel_store_open(dir, &so.store, &s), 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    fn(w, saved, undo);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_store_close(s);
}

static void verify_catches_damage(void)
{
    struct { damage_fn fn; const char *word; } cases[] = {
        { dmg_balance, "state differs" },
        { dmg_extra_key, "state differs" },
        { dmg_receipt, "receipt 4 differs" },
        { dmg_block, "block 4 missing" },
        { dmg_block_beyond, "beyond the head" },
        { dmg_signature, "signature" },
        { dmg_tx_sig_s, "badly signed" },
        { dmg_tx_sig_r, "badly signed" },
        { dmg_history, "history" },
        { dmg_checkpoint, "checkpoint" },
        { dmg_state_tree, "state tree" },
    };
    pel_chain_opts so = small_store();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        pel_buf saved;
        pel_chain *c;
        pel_buf_init(&saved);
        with_store(cases[i].fn, &saved, 0);
        int orc = pel_chain_open(dir, &gen, &so, &c, err, sizeof err);
        if (orc == PEL_ECORRUPT) {          /* noticed at open already */
            CHECK(strstr(err, cases[i].word) != NULL);
            with_store(cases[i].fn, &saved, 1);
            pel_buf_free(&saved);
            continue;
        }
        CHECK_EQ_INT(orc, 0);
        CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), PEL_ECORRUPT);
        if (!strstr(err, cases[i].word)) fprintf(stderr, "case %zu: got '%s'\n", i, err);
        CHECK(strstr(err, cases[i].word) != NULL);
        pel_chain_close(c);
        with_store(cases[i].fn, &saved, 1);
        CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
        CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), 0);   /* undone */
        pel_chain_close(c);
        pel_buf_free(&saved);
    }
}

/* Two fresh chains of the test genesis, in dir/<tag>1 and dir/<tag>2, with
 * the accounts' nonces counted from 0 again; twin_close puts back the
 * nonces the other tests left. */
typedef struct twin { pel_chain *c1, *c2; uint64_t saved[ACCTS]; } twin;

static int twin_open(twin *t, const char *tag)
{
    char d1[96], d2[96], err[256];
    snprintf(d1, sizeof d1, "%s/%s1", dir, tag);
    snprintf(d2, sizeof d2, "%s/%s2", dir, tag);
    CHECK_EQ_INT(mkdir(d1, 0700), 0);
    CHECK_EQ_INT(mkdir(d2, 0700), 0);
    for (int i = 0; i < ACCTS; i++) { t->saved[i] = accts[i].nonce; accts[i].nonce = 0; }
    pel_chain_opts so = small_store();
    t->c1 = t->c2 = NULL;
    CHECK_EQ_INT(pel_chain_open(d1, &gen, &so, &t->c1, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_open(d2, &gen, &so, &t->c2, err, sizeof err), 0);
    return t->c1 && t->c2 ? 0 : -1;
}

static void twin_close(twin *t)
{
    pel_chain_close(t->c1);
    pel_chain_close(t->c2);
    for (int i = 0; i < ACCTS; i++) accts[i].nonce = t->saved[i];
}

/* The pipeline: block B built on an uncommitted parent A (whose commit
 * happens after B's execution) is identical to B built after A committed. */
static void pipelined_build_matches_sequential(void)
{
    char err[256];
    twin t;
    if (twin_open(&t, "p")) { twin_close(&t); return; }
    pel_chain *c1 = t.c1, *c2 = t.c2;
    txs a = { .n = 0 }, b = { .n = 0 };
    for (int i = 0; i < 30; i++) add_transfer(&a, i % ACCTS, (i * 7 + 1) % ACCTS, 10 + (uint64_t)i);
    for (int i = 0; i < 30; i++) add_transfer(&b, (i * 5) % ACCTS, (i + 2) % ACCTS, 1000 + (uint64_t)i);
    add_transfer(&b, 3, 4, 999999999);                      /* fails */
    pel_engine_opts eo = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 4);
    pel_engine *e;
    pel_built_block a1, b1, a2, b2;
    CHECK_EQ_INT(pel_engine_new(&eo, &e), 0);
    /* one after the other */
    CHECK_EQ_INT(pel_chain_build(c1, e, a.ptr, a.n, 7000, node_sk, &a1), 0);
    CHECK_EQ_INT(pel_chain_commit(c1, &a1), 0);
    CHECK_EQ_INT(pel_chain_build(c1, e, b.ptr, b.n, 7001, node_sk, &b1), 0);
    CHECK_EQ_INT(pel_chain_commit(c1, &b1), 0);
    /* pipelined: B executes before A is committed */
    CHECK_EQ_INT(pel_chain_build(c2, e, a.ptr, a.n, 7000, node_sk, &a2), 0);
    CHECK_EQ_INT(pel_chain_build_on(c2, e, &a2, b.ptr, b.n, 7001, node_sk, &b2), 0);
    CHECK_EQ_INT(pel_chain_commit(c2, &a2), 0);
    CHECK_EQ_INT(pel_chain_commit(c2, &b2), 0);
    uint8_t h1[32], h2[32];
    CHECK_EQ_INT(pel_block_header_hash(&b1.header, h1), 0);
    CHECK_EQ_INT(pel_block_header_hash(&b2.header, h2), 0);
    CHECK_MEM(h1, h2, 32);
    CHECK_MEM(b1.header.state_root, b2.header.state_root, 32);
    CHECK_MEM(b1.header.history_root, b2.header.history_root, 32);
    CHECK_EQ_INT(b2.result.receipts[b.n - 1].status, PEL_EFUNDS);
    CHECK_EQ_INT(pel_chain_verify(c2, NULL, NULL, err, sizeof err), 0);
    pel_built_block_free(&a1); pel_built_block_free(&b1);
    pel_built_block_free(&a2); pel_built_block_free(&b2);
    twin_close(&t);
    pel_engine_free(e);
    free_txs(&a);
    free_txs(&b);
}

/* Group commit: blocks built each on the uncommitted ones before it
 * (pel_chain_build_after), committed as groups in one transaction each
 * (pel_chain_commit_group), give the chain that building and committing
 * them one by one gives: same headers, receipts, state and trees, and the
 * replay check passes. Out-of-order groups and pending lists are refused
 * with nothing written. */
static void group_commit_matches_one_by_one(void)
{
    char err[256];
    twin t;
    if (twin_open(&t, "g")) { twin_close(&t); return; }
    pel_chain *c1 = t.c1, *c2 = t.c2;
    enum { NB = 4 };
    txs x[NB];
    /* 0: every account sends; 1: accounts 0 and 1; 2: account 3 (and a
     * transfer that fails); 3: accounts 0, 1 and 3, whose nonces and
     * balances come from blocks 1 and 2, neither committed when 3 is built */
    for (int k = 0; k < NB; k++) x[k].n = 0;
    for (int i = 0; i < 24; i++) add_transfer(&x[0], i % ACCTS, (i * 5 + 1) % ACCTS, 100 + (uint64_t)i);
    for (int i = 0; i < 12; i++) add_transfer(&x[1], i % 2, 2, 200 + (uint64_t)i);
    for (int i = 0; i < 12; i++) add_transfer(&x[2], 3, 4, 300 + (uint64_t)i);
    add_transfer(&x[2], 3, 4, 999999999);                      /* fails */
    for (int i = 0; i < 12; i++) add_transfer(&x[3], i % 3 == 2 ? 3 : i % 3, 5, 400 + (uint64_t)i);
    pel_engine_opts eo = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 2);
    pel_engine *e;
    pel_built_block one[NB], grp[NB], bad;
    CHECK_EQ_INT(pel_engine_new(&eo, &e), 0);
    for (int k = 0; k < NB; k++) {
        CHECK_EQ_INT(pel_chain_build(c1, e, x[k].ptr, x[k].n, 8000 + (uint64_t)k, node_sk, &one[k]), 0);
        CHECK_EQ_INT(pel_chain_commit(c1, &one[k]), 0);
    }
    /* c2: 0 on the head; 1 on 0; 0 commits alone; 2 on 1 and the
     * committed 0; 3 on 2 and 1; then 1..3 commit as one group */
    const pel_built_block *pend[3];
    CHECK_EQ_INT(pel_chain_build(c2, e, x[0].ptr, x[0].n, 8000, node_sk, &grp[0]), 0);
    pend[0] = &grp[0];
    CHECK_EQ_INT(pel_chain_build_after(c2, e, pend, 1, x[1].ptr, x[1].n, 8001, node_sk, &grp[1]), 0);
    pel_built_block *g0[1] = { &grp[0] };
    CHECK_EQ_INT(pel_chain_commit_group(c2, g0, 1), 0);
    pend[0] = &grp[1]; pend[1] = &grp[0];
    CHECK_EQ_INT(pel_chain_build_after(c2, e, pend, 2, x[2].ptr, x[2].n, 8002, node_sk, &grp[2]), 0);
    pend[0] = &grp[2]; pend[1] = &grp[1];
    CHECK_EQ_INT(pel_chain_build_after(c2, e, pend, 2, x[3].ptr, x[3].n, 8003, node_sk, &grp[3]), 0);
    /* refused: pending not consecutive; a group out of order */
    pend[0] = &grp[3]; pend[1] = &grp[1];
    CHECK_EQ_INT(pel_chain_build_after(c2, e, pend, 2, x[3].ptr, 1, 8004, node_sk, &bad), PEL_EINVAL);
    pel_chain_commit_times t1, t2, t3;
    pel_chain_last_commit_times(c2, &t1);                           /* block 0's */
    pel_built_block *wrong[2] = { &grp[2], &grp[1] };
    CHECK_EQ_INT(pel_chain_commit_group(c2, wrong, 2), PEL_EINVAL);
    CHECK_EQ_INT(pel_chain_get_head(c2).height, 1);                  /* nothing written */
    pel_chain_last_commit_times(c2, &t2);
    CHECK(memcmp(&t1, &t2, sizeof t1) == 0);                         /* a failed commit: not published */
    pel_built_block *rest[3] = { &grp[1], &grp[2], &grp[3] };
    uint64_t t0 = pel_mono_us();
    CHECK_EQ_INT(pel_chain_commit_group(c2, rest, 3), 0);
    uint64_t took = pel_mono_us() - t0, parts = 0;
    CHECK_EQ_INT(pel_chain_get_head(c2).height, NB);
    pel_chain_last_commit_times(c2, &t3);                           /* the group's, in its time */
    for (int i = 0; i < PEL_CT_PARTS; i++) parts += t3.us[i];
    CHECK(parts > 0 && parts <= took);
    CHECK(memcmp(&t1, &t3, sizeof t1) != 0);
    CHECK(strcmp(pel_chain_commit_part(PEL_CT_SYNC), "sync") == 0);
    CHECK(strcmp(pel_chain_commit_part(PEL_CT_PARTS), "?") == 0);
    for (int k = 0; k < NB; k++) {
        uint8_t h1[32], h2[32];
        CHECK_EQ_INT(pel_block_header_hash(&one[k].header, h1), 0);
        CHECK_EQ_INT(pel_block_header_hash(&grp[k].header, h2), 0);
        CHECK_MEM(h1, h2, 32);
        CHECK_MEM(one[k].header.state_root, grp[k].header.state_root, 32);
        CHECK_MEM(one[k].header.history_root, grp[k].header.history_root, 32);
        CHECK_EQ_INT(grp[k].result.n, x[k].n);
        for (uint32_t i = 0; i < x[k].n; i++) {
            CHECK_EQ_INT(grp[k].result.receipts[i].status, one[k].result.receipts[i].status);
            if (k != 2 || i + 1 < x[k].n) CHECK_EQ_INT(grp[k].result.receipts[i].status, 0);
        }
    }
    CHECK_EQ_INT(grp[2].result.receipts[x[2].n - 1].status, PEL_EFUNDS);
    for (int k = 0; k < NB; k++) {                              /* stored as committed */
        pel_buf r1, r2;
        pel_buf_init(&r1);
        pel_buf_init(&r2);
        CHECK_EQ_INT(pel_chain_block(c1, (uint64_t)k + 1, &r1), 0);
        CHECK_EQ_INT(pel_chain_block(c2, (uint64_t)k + 1, &r2), 0);
        CHECK(r1.len == r2.len && !memcmp(r1.data, r2.data, r1.len));
        pel_buf_free(&r1);
        pel_buf_free(&r2);
    }
    CHECK_MEM(pel_chain_get_head(c1).hash, pel_chain_get_head(c2).hash, 32);
    CHECK_EQ_INT(pel_chain_verify(c2, NULL, NULL, err, sizeof err), 0);
    for (int k = 0; k < NB; k++) {
        pel_built_block_free(&one[k]);
        pel_built_block_free(&grp[k]);
        free_txs(&x[k]);
    }
    twin_close(&t);
    pel_engine_free(e);
}

/* A sealed block committed from its open transaction is the block
 * pel_chain_commit writes (same header hash, roots, receipts); a dropped
 * seal writes nothing; a seal on a moved head is refused. */
static void sealed_commit_matches_commit(void)
{
    char err[256];
    twin t;
    if (twin_open(&t, "s")) { twin_close(&t); return; }
    pel_chain *c1 = t.c1, *c2 = t.c2;
    txs a = { .n = 0 }, b = { .n = 0 };
    for (int i = 0; i < 20; i++) add_transfer(&a, i % ACCTS, (i * 3 + 1) % ACCTS, 5 + (uint64_t)i);
    for (int i = 0; i < 20; i++) add_transfer(&b, (i * 7) % ACCTS, (i + 5) % ACCTS, 50 + (uint64_t)i);
    pel_engine_opts eo = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    pel_engine *e;
    pel_built_block a1, b1, a2, b2, late;
    pel_block_header sa, sb;
    pel_chain_sealed *open = NULL;
    CHECK_EQ_INT(pel_engine_new(&eo, &e), 0);
    CHECK_EQ_INT(pel_chain_build(c1, e, a.ptr, a.n, 9000, node_sk, &a1), 0);
    CHECK_EQ_INT(pel_chain_commit(c1, &a1), 0);
    CHECK_EQ_INT(pel_chain_build(c1, e, b.ptr, b.n, 9001, node_sk, &b1), 0);
    CHECK_EQ_INT(pel_chain_commit(c1, &b1), 0);
    /* on c2: a seal dropped, then the same block sealed and committed */
    CHECK_EQ_INT(pel_chain_build(c2, e, a.ptr, a.n, 9000, node_sk, &a2), 0);
    CHECK_EQ_INT(pel_chain_seal_open(c2, &a2, &sa, &open), 0);
    pel_chain_seal_abort(open);
    CHECK_EQ_INT(pel_chain_get_head(c2).height, 0);                 /* nothing written */
    CHECK_EQ_INT(pel_chain_seal_open(c2, &a2, &sa, &open), 0);
    CHECK_EQ_INT(pel_chain_seal_commit(c2, open, &a2), 0);
    CHECK_EQ_INT(pel_chain_get_head(c2).height, 1);
    CHECK_EQ_INT(pel_chain_build(c2, e, b.ptr, b.n, 9001, node_sk, &b2), 0);
    CHECK_EQ_INT(pel_chain_seal_open(c2, &b2, &sb, &open), 0);
    CHECK_EQ_INT(pel_chain_seal_commit(c2, open, &b2), 0);
    uint8_t h1[32], h2[32], hs[32];
    CHECK_EQ_INT(pel_block_header_hash(&b1.header, h1), 0);
    CHECK_EQ_INT(pel_block_header_hash(&b2.header, h2), 0);
    CHECK_EQ_INT(pel_block_header_hash(&sb, hs), 0);
    CHECK_MEM(h1, h2, 32);                                           /* what commit writes */
    CHECK_MEM(h1, hs, 32);                                           /* what the seal announced */
    CHECK_MEM(pel_chain_get_head(c1).hash, pel_chain_get_head(c2).hash, 32);
    CHECK_EQ_INT(pel_chain_verify(c2, NULL, NULL, err, sizeof err), 0);
    /* a block built on height 1 no longer follows the head (2) */
    CHECK_EQ_INT(pel_chain_build_on(c1, e, NULL, b.ptr, 1, 9002, node_sk, &late), 0);
    late.header.height = 2;
    open = (pel_chain_sealed *)&late;                               /* overwritten on refusal */
    CHECK_EQ_INT(pel_chain_seal_open(c1, &late, &sa, &open), PEL_EINVAL);
    CHECK(open == NULL);
    pel_built_block_free(&late);
    pel_built_block_free(&a1); pel_built_block_free(&b1);
    pel_built_block_free(&a2); pel_built_block_free(&b2);
    twin_close(&t);
    pel_engine_free(e);
    free_txs(&a);
    free_txs(&b);
}

/* Every block's checkpoint verifies with the node key under the chain's
 * origin and repeats the header; the header's roots are the trees'. */
static void checkpoints_and_roots(void)
{
    char err[256];
    pel_chain *c;
    pel_chain_opts so = small_store();
    pel_note_verifier v;
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK(strcmp(pel_chain_origin(c), "chain-test/pel") == 0);
    CHECK_EQ_INT(pel_note_verifier_from_key(pel_chain_origin(c), node_pk, &v), 0);
    pel_chain_head head = pel_chain_get_head(c);
    uint64_t prev_size = 0;
    for (uint64_t h = 0; h <= head.height; h++) {
        pel_buf note, rec;
        pel_checkpoint ck;
        pel_block_header bh;
        const uint8_t **raw = NULL;
        uint32_t *lens = NULL, n = 0;
        uint8_t root[32];
        pel_buf_init(&note);
        pel_buf_init(&rec);
        CHECK_EQ_INT(pel_chain_checkpoint(c, h, &note), 0);
        CHECK_EQ_INT(pel_checkpoint_verify((const char *)note.data, note.len, &v, &ck), 0);
        CHECK_EQ_INT(pel_chain_block(c, h, &rec), 0);
        CHECK_EQ_INT(pel_block_record_decode(rec.data, rec.len, &bh, &raw, &lens, &n), 0);
        CHECK_EQ_INT(ck.height, h);
        CHECK_EQ_INT(ck.size, bh.history_size);
        CHECK(ck.size >= prev_size);
        prev_size = ck.size;
        CHECK_MEM(ck.root, bh.history_root, 32);
        CHECK_MEM(ck.state_root, bh.state_root, 32);
        CHECK_EQ_INT(pel_history_root(pel_chain_store(c), bh.history_size, root), 0);
        CHECK_MEM(root, bh.history_root, 32);
        CHECK_EQ_INT(pel_smt_root(pel_chain_store(c), h, root), 0);
        CHECK_MEM(root, bh.state_root, 32);
        free(raw);
        free(lens);
        pel_buf_free(&note);
        pel_buf_free(&rec);
    }
    uint8_t rebuilt[32];
    CHECK_EQ_INT(pel_chain_rebuild_state_root(c, rebuilt, NULL), 0);
    CHECK_MEM(rebuilt, head.state_root, 32);
    pel_chain_close(c);
    /* the chain keeps trees: opening it without them is refused */
    so.trees = 0;
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "trees") != NULL);
}

/* A snapshot of a chain restored into a fresh store of another node gives
 * the same head, state and blocks, checkpoints signed by the restoring
 * node's key, and a chain that verifies; a damaged snapshot and one of
 * another chain are refused with nothing written. */
static void snapshot_restore_roundtrip(void)
{
    char err[256], dir2[64], cmd[128];
    pel_chain *c, *d;
    pel_chain_head at;
    pel_buf snap;
    uint8_t pk2[32], sk2[64], seed[32], root[32];
    pel_chain_opts so = small_store(), so2 = small_store();
    memset(seed, 0x55, sizeof seed);
    CHECK_EQ_INT(pel_sign_seed_keypair(pk2, sk2, seed), 0);
    so2.sk = sk2;
    snprintf(dir2, sizeof dir2, "/tmp/pel-chain2-XXXXXX");
    CHECK(mkdtemp(dir2) != NULL);
    pel_buf_init(&snap);
    CHECK_EQ_INT(pel_chain_open(dir, &gen, &so, &c, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_snapshot(c, &snap, &at), 0);
    pel_chain_head src = pel_chain_get_head(c);
    CHECK(src.height >= 5);
    CHECK_EQ_INT(at.height, src.height);
    CHECK_MEM(at.hash, src.hash, 32);
    uint64_t hh;
    uint8_t hhash[32];
    CHECK_EQ_INT(pel_chain_snapshot_head(snap.data, snap.len, &hh, hhash), 0);
    CHECK_EQ_INT(hh, src.height);
    CHECK_EQ_INT(pel_chain_open(dir2, &gen, &so2, &d, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_get_head(d).height, 0);
    /* a flipped body byte: refused, the store untouched */
    snap.data[snap.len - 1] ^= 1;
    CHECK_EQ_INT(pel_chain_restore(d, snap.data, snap.len, err, sizeof err), PEL_ECORRUPT);
    CHECK(strstr(err, "digest") != NULL);
    snap.data[snap.len - 1] ^= 1;
    CHECK_EQ_INT(pel_chain_restore(d, snap.data, snap.len - 1, err, sizeof err), PEL_ECORRUPT);
    CHECK_EQ_INT(pel_chain_get_head(d).height, 0);
    /* the real thing */
    CHECK_EQ_INT(pel_chain_restore(d, snap.data, snap.len, err, sizeof err), 0);
    CHECK_EQ_INT(stored_format(d), PEL_CHAIN_FORMAT);
    pel_chain_head got = pel_chain_get_head(d);
    CHECK_EQ_INT(got.height, src.height);
    CHECK_MEM(got.hash, src.hash, 32);
    CHECK_MEM(got.state_root, src.state_root, 32);
    CHECK_EQ_INT(got.history_size, src.history_size);
    CHECK_EQ_INT(pel_chain_rebuild_state_root(d, root, NULL), 0);
    CHECK_MEM(root, src.state_root, 32);
    CHECK_EQ_INT(pel_chain_verify(d, NULL, NULL, err, sizeof err), 0);
    pel_note_verifier v;
    pel_checkpoint ck;
    pel_buf note;
    pel_buf_init(&note);
    CHECK_EQ_INT(pel_note_verifier_from_key(pel_chain_origin(d), pk2, &v), 0);
    for (uint64_t h = 0; h <= got.height; h++) {
        CHECK_EQ_INT(pel_chain_checkpoint(d, h, &note), 0);
        CHECK_EQ_INT(pel_checkpoint_verify((const char *)note.data, note.len, &v, &ck), 0);
        CHECK_EQ_INT(ck.height, h);
    }
    pel_buf_free(&note);
    /* it reopens (trees match the head) and takes blocks on top */
    pel_chain_close(d);
    CHECK_EQ_INT(pel_chain_open(dir2, &gen, &so2, &d, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_get_head(d).height, src.height);
    pel_chain_close(d);
    /* a chain of another genesis refuses it */
    pel_genesis other;
    make_genesis(&other, "another-chain");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/*", dir2);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(pel_chain_open(dir2, &other, &so2, &d, err, sizeof err), 0);
    CHECK_EQ_INT(pel_chain_restore(d, snap.data, snap.len, err, sizeof err), PEL_EINVAL);
    CHECK_EQ_INT(pel_chain_get_head(d).height, 0);
    pel_chain_close(d);
    pel_genesis_free(&other);
    /* a snapshot of a newer store format is refused before anything is
     * written; one without the record (an older node's) gets ours */
    pel_buf snap2;
    pel_buf_init(&snap2);
    uint8_t fv[4];
    pel_store_txn *w;
    for (int newer = 1; newer >= 0; newer--) {
        pel_le_store(fv, PEL_CHAIN_FORMAT + 1, 4);
        CHECK_EQ_INT(pel_store_begin(pel_chain_store(c), &w), 0);
        if (newer) CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "format", 6, fv, 4), 0);
        else CHECK_EQ_INT(pel_store_del(w, PEL_T_META, "format", 6), 0);
        CHECK_EQ_INT(pel_store_commit(w), 0);
        pel_buf_reset(&snap2);
        CHECK_EQ_INT(pel_chain_snapshot(c, &snap2, NULL), 0);
        CHECK_EQ_INT(system(cmd), 0);   /* empties dir2 */
        CHECK_EQ_INT(pel_chain_open(dir2, &gen, &so2, &d, err, sizeof err), 0);
        err[0] = 0;
        CHECK_EQ_INT(pel_chain_restore(d, snap2.data, snap2.len, err, sizeof err), newer ? PEL_EINVAL : 0);
        if (newer) CHECK(strstr(err, "newer PEL") != NULL);
        CHECK_EQ_INT(pel_chain_get_head(d).height, newer ? 0 : src.height);
        CHECK_EQ_INT(stored_format(d), PEL_CHAIN_FORMAT);
        pel_chain_close(d);
    }
    pel_buf_free(&snap2);
    pel_le_store(fv, PEL_CHAIN_FORMAT, 4);   /* as it was */
    CHECK_EQ_INT(pel_store_begin(pel_chain_store(c), &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "format", 6, fv, 4), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_chain_close(c);
    pel_buf_free(&snap);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir2);
    CHECK_EQ_INT(system(cmd), 0);
}

/* A chain without trees (the benchmark baseline) works, verifies, has no
 * checkpoints, and refuses to be opened with trees. Retention: a chain
 * keeping 3 versions prunes older ones and still verifies. */
static void baseline_and_retention(void)
{
    char d1[96], d2[96], err[256];
    pel_chain *c;
    pel_engine *e;
    pel_buf note;
    uint8_t root[32];
    pel_engine_opts eo = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    snprintf(d1, sizeof d1, "%s/nt", dir);
    snprintf(d2, sizeof d2, "%s/rt", dir);
    CHECK_EQ_INT(mkdir(d1, 0700), 0);
    CHECK_EQ_INT(mkdir(d2, 0700), 0);
    CHECK_EQ_INT(pel_engine_new(&eo, &e), 0);
    uint64_t saved[ACCTS];
    for (int i = 0; i < ACCTS; i++) { saved[i] = accts[i].nonce; accts[i].nonce = 0; }
    pel_chain_opts so = small_store();
    so.trees = 0;
    CHECK_EQ_INT(pel_chain_open(d1, &gen, &so, &c, err, sizeof err), 0);
    grow(c, e, 3, node_sk);
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), 0);
    pel_buf_init(&note);
    CHECK_EQ_INT(pel_chain_checkpoint(c, 2, &note), PEL_ENOTFOUND);
    pel_buf_free(&note);
    pel_chain_close(c);
    so.trees = 1;
    CHECK_EQ_INT(pel_chain_open(d1, &gen, &so, &c, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "without state and history trees") != NULL);
    so.state_versions_kept = 3;
    so.tree_threads = 1;
    for (int i = 0; i < ACCTS; i++) accts[i].nonce = 0;
    CHECK_EQ_INT(pel_chain_open(d2, &gen, &so, &c, err, sizeof err), 0);
    grow(c, e, 34, node_sk);
    CHECK_EQ_INT(pel_smt_root(pel_chain_store(c), 5, root), PEL_ESMT_PRUNED);
    CHECK_EQ_INT(pel_smt_root(pel_chain_store(c), 32, root), 0);   /* 32..34 kept */
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), 0);
    pel_chain_close(c);
    pel_engine_free(e);
    for (int i = 0; i < ACCTS; i++) accts[i].nonce = saved[i];
}

/* With versions_kept K = 3 and prune_interval S = 4, after block h the
 * versions kept are floor(h) = (h - 2) rounded down to a multiple of 4 and
 * up: the floor moves every 4 blocks, never keeps fewer than 3 versions,
 * and a version below it is gone (chain.h: pruning in steps). */
static void pruning_in_steps(void)
{
    char err[256], d[600];
    pel_chain *c;
    pel_engine *e;
    uint8_t root[32];
    pel_engine_opts eo = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    snprintf(d, sizeof d, "%s/steps", dir);
    CHECK_EQ_INT(mkdir(d, 0700), 0);
    CHECK_EQ_INT(pel_engine_new(&eo, &e), 0);
    uint64_t saved[ACCTS];
    for (int i = 0; i < ACCTS; i++) { saved[i] = accts[i].nonce; accts[i].nonce = 0; }
    pel_chain_opts so = small_store();
    so.state_versions_kept = 3;
    so.state_prune_interval = 4;
    so.tree_threads = 1;
    CHECK_EQ_INT(pel_chain_open(d, &gen, &so, &c, err, sizeof err), 0);
    int moves = 0;
    uint64_t last = 0;
    for (uint64_t h = 1; h <= 14; h++) {
        grow(c, e, 1, node_sk);
        uint64_t floor = h >= 3 ? (h - 2) / 4 * 4 : 0;
        CHECK(h - floor + 1 <= 3 + 4 - 1);          /* K .. K + S - 1 versions kept */
        if (h >= 2) CHECK(h - floor + 1 >= 3);
        for (uint64_t v = floor; v <= h; v++) CHECK_EQ_INT(pel_smt_root(pel_chain_store(c), v, root), 0);
        if (floor) CHECK_EQ_INT(pel_smt_root(pel_chain_store(c), floor - 1, root), PEL_ESMT_PRUNED);
        if (floor != last) moves++;
        last = floor;
    }
    CHECK_EQ_INT(moves, 3);   /* to 4, 8 and 12 */
    CHECK_EQ_INT(pel_chain_verify(c, NULL, NULL, err, sizeof err), 0);
    pel_chain_close(c);
    so.state_prune_interval = 1;   /* one version a block, as before steps */
    CHECK_EQ_INT(pel_chain_open(d, &gen, &so, &c, err, sizeof err), 0);
    grow(c, e, 1, node_sk);
    CHECK_EQ_INT(pel_smt_root(pel_chain_store(c), 13, root), 0);
    CHECK_EQ_INT(pel_smt_root(pel_chain_store(c), 12, root), PEL_ESMT_PRUNED);
    pel_chain_close(c);
    pel_engine_free(e);
    for (int i = 0; i < ACCTS; i++) accts[i].nonce = saved[i];
}

int main(void)
{
    uint8_t seed[32];
    snprintf(dir, sizeof dir, "/tmp/pel-chain-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    for (int i = 0; i < ACCTS; i++) {
        memset(seed, i + 1, sizeof seed);
        if (pel_sign_seed_keypair(accts[i].pk, accts[i].sk, seed)) return 1;
        pel_addr_from_pubkey(accts[i].pk, &accts[i].addr);
    }
    memset(seed, 0x77, sizeof seed);
    if (pel_sign_seed_keypair(node_pk, node_sk, seed)) return 1;
    make_genesis(&gen, "chain-test");
    RUN(build_commit_reopen);
    RUN(other_genesis_refused);
    RUN(store_format);
    RUN(verify_catches_damage);
    RUN(pipelined_build_matches_sequential);
    RUN(group_commit_matches_one_by_one);
    RUN(sealed_commit_matches_commit);
    RUN(checkpoints_and_roots);
    RUN(snapshot_restore_roundtrip);
    RUN(baseline_and_retention);
    RUN(pruning_in_steps);
    pel_genesis_free(&gen);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return TEST_END("test_chain");
}
