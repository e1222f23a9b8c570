/* test_proof.c - PEL proof files (state/proof.h) over real trees.
 *
 * A small ledger is built in a temporary store: 13 blocks (heights 0..12)
 * with 0, 1, 0, 3, 4, ... transactions (so there are empty blocks, a tree
 * of size 0 and a power-of-two size), their history tree, a state tree
 * written block by block (puts, deletes, empty values) and one checkpoint
 * per height signed with the docs' key (seed 0x01, "pel-devnet/pel"). A
 * model of the state (value of every key after every block) says what each
 * state proof must claim. Then:
 *  - leaves against several checkpoints (every leaf against the last one),
 *    every model key and 200 never-written keys at several versions (all
 *    three proof kinds and the empty tree), and consistency between every
 *    pair of heights: format -> parse -> equal -> format again byte-equal
 *    -> verify, with the result's fields checked against the model;
 *  - every single-bit flip of every byte field (tx, receipt, each path
 *    hash, key, value, state_proof encoding, both notes) and +-1 on every
 *    number is rejected, by parse or by verify, for 12 files of all kinds
 *    (a flipped key against an absence proof may verify: the flipped key
 *    is absent too; only absence proofs are allowed that). Under
 *    PEL_TEST_TSAN=1, where this single-threaded test gains nothing, one
 *    file only;
 *  - a wrong key, semantic faults with their exact messages, and the
 *    parser's strictness case by case;
 *  - golden files: tests/vectors/proofs/ holds the files this ledger gives
 *    (and what each proves); PEL_PROOF_VECTORS_WRITE=1 rewrites them.
 * Everything is deterministic (no seed): the vectors depend on it. */
#include <stdbool.h>
#include <sys/stat.h>

#include <sodium.h>

#include "core/file.h"
#include "core/hash.h"
#include "core/hex.h"
#include "state/proof.h"
#include "state/store.h"
#include "test.h"

#include <unistd.h>
#include "tmpdir.h"

#define NH 13                    /* heights 0 .. 12 */
#define NKEYS 48                 /* keys the blocks write */
#define NABSENT 200              /* keys never written */
#define VMAX 16
#define TXMAX 96
#define RCMAX 32
#define NLEAF 128
#define VECTORS "tests/vectors/proofs"

static const uint32_t ntx[NH] = { 0, 1, 0, 3, 4, 7, 0, 13, 5, 9, 2, 16, 11 };

typedef struct ledger {
    char *dir;
    pel_store *s;
    uint8_t sk[PEL_SECKEY_LEN];
    pel_note_verifier key;
    uint64_t size[NH];
    pel_buf note[NH];
    pel_checkpoint ck[NH];
    uint64_t nleaf;
    uint64_t leaf_h[NLEAF];
    uint32_t leaf_i[NLEAF];
    uint8_t tx[NLEAF][TXMAX], rc[NLEAF][RCMAX];
    size_t txlen[NLEAF], rclen[NLEAF];
    pel_key keys[NKEYS], absent[NABSENT];
    int vlen[NH][NKEYS];                 /* -1: absent after block h */
    uint8_t val[NH][NKEYS][VMAX];
} ledger;

static ledger L;

/* ------------------------------------------------------------ building */

static uint64_t det_state = 0x5eed;

static uint64_t det(void)   /* splitmix64, fixed start: the vectors need it */
{
    uint64_t z = (det_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void make_key(const char *tag, uint32_t i, pel_key *k)
{
    uint8_t in[4] = { (uint8_t)i, (uint8_t)(i >> 8), 0, 0 };
    if (pel_hash_tagged(tag, in, sizeof in, k->b)) exit(1);
}

/* block_leaves - the transactions of block h: bytes, ids, leaf hashes. */
static void block_leaves(uint64_t h, uint8_t (*lh)[32])
{
    for (uint32_t i = 0; i < ntx[h]; i++) {
        uint64_t n = L.nleaf++;
        uint8_t id[32], dg[32];
        L.leaf_h[n] = h;
        L.leaf_i[n] = i;
        L.txlen[n] = 24 + det() % (TXMAX - 24);
        L.rclen[n] = 13 + det() % (RCMAX - 13);
        for (size_t j = 0; j < L.txlen[n]; j++) L.tx[n][j] = (uint8_t)det();
        for (size_t j = 0; j < L.rclen[n]; j++) L.rc[n][j] = (uint8_t)det();
        if (pel_hash_tagged("PEL/txid", L.tx[n], L.txlen[n], id) ||
            pel_hash_tagged("PEL/receipt", L.rc[n], L.rclen[n], dg))
            exit(1);
        pel_history_leaf(h, i, id, dg, lh[i]);
    }
}

/* block_writes - block h's state writes (sorted, one per key) and the
 * model after it. */
static uint32_t block_writes(uint64_t h, pel_write *w)
{
    uint32_t n = 0;
    if (h > 0) memcpy(L.vlen[h], L.vlen[h - 1], sizeof L.vlen[h]),
               memcpy(L.val[h], L.val[h - 1], sizeof L.val[h]);
    else for (int k = 0; k < NKEYS; k++) L.vlen[0][k] = -1;
    if (h == 0) return 0;                     /* genesis: empty state tree */
    bool put[NKEYS] = { false };
    for (uint32_t j = 0; j < 5; j++) {
        uint32_t k = (uint32_t)(h * 11 + j * 5) % NKEYS;
        put[k] = true;
        L.vlen[h][k] = (int)((h + k) % 5);  /* 0..4 bytes; 0 is a value too */
        for (int b = 0; b < L.vlen[h][k]; b++) L.val[h][k][b] = (uint8_t)(h * 16 + k + b);
    }
    uint32_t del = (uint32_t)(h * 13) % NKEYS;
    if (h >= 3 && !put[del]) L.vlen[h][del] = -1;
    for (uint32_t k = 0; k < NKEYS; k++) {
        if (put[k])
            w[n++] = (pel_write){ L.keys[k], PEL_W_PUT,
                                  { L.val[h][k], (uint32_t)L.vlen[h][k] } };
        else if (h >= 3 && k == del)
            w[n++] = (pel_write){ L.keys[k], PEL_W_DEL, { NULL, 0 } };
    }
    for (uint32_t i = 1; i < n; i++)          /* sort by key */
        for (uint32_t j = i; j > 0 && pel_key_cmp(&w[j - 1].key, &w[j].key) > 0; j--) {
            pel_write t = w[j]; w[j] = w[j - 1]; w[j - 1] = t;
        }
    return n;
}

static void build_ledger(void)
{
    uint8_t seed[PEL_SEED_LEN], pk[PEL_PUBKEY_LEN], hroot[32], sroot[32];
    uint64_t size = 0;
    memset(seed, 0x01, sizeof seed);
    if (pel_sign_seed_keypair(pk, L.sk, seed) ||
        pel_note_verifier_from_key("pel-devnet/pel", pk, &L.key))
        exit(1);
    for (uint32_t k = 0; k < NKEYS; k++) make_key("test-proof-key", k, &L.keys[k]);
    for (uint32_t k = 0; k < NABSENT; k++) make_key("test-proof-absent", k, &L.absent[k]);
    L.dir = test_tmpdir("pel_proof_");
    if (pel_store_open(L.dir, NULL, &L.s)) exit(1);
    for (uint64_t h = 0; h < NH; h++) {
        uint8_t lh[32][32];
        pel_write w[8];
        pel_store_txn *t;
        block_leaves(h, lh);
        pel_writeset ws = { w, block_writes(h, w) };
        CHECK_EQ_INT(pel_store_begin(L.s, &t), 0);
        CHECK_EQ_INT(pel_history_append(t, size, (const uint8_t (*)[32])lh, ntx[h], hroot), 0);
        CHECK_EQ_INT(pel_smt_update(L.s, t, h ? h - 1 : PEL_SMT_NONE, h, &ws, NULL, sroot), 0);
        CHECK_EQ_INT(pel_store_commit(t), 0);
        size += ntx[h];
        L.size[h] = size;
        pel_checkpoint *c = &L.ck[h];
        snprintf(c->origin, sizeof c->origin, "pel-devnet/pel");
        c->size = size;
        memcpy(c->root, hroot, 32);
        c->height = h;
        memcpy(c->state_root, sroot, 32);
        c->timestamp_ms = 1700000000000ull + h * 2000;
        pel_buf_init(&L.note[h]);
        CHECK_EQ_INT(pel_checkpoint_sign(c, L.sk, &L.note[h]), 0);
    }
    CHECK_EQ_INT(L.nleaf, 71);
    uint8_t empty[32] = { 0 };
    CHECK_MEM(L.ck[0].state_root, empty, 32);       /* genesis: empty state tree */
}

static void free_ledger(void)
{
    for (int h = 0; h < NH; h++) pel_buf_free(&L.note[h]);
    pel_store_close(L.s);
    test_rmdir_all(L.dir);
    sodium_memzero(L.sk, sizeof L.sk);
}

/* ------------------------------------------------------------- proofs */

static void set_buf(pel_buf *b, const void *p, size_t n)
{
    pel_buf_reset(b);
    if (pel_buf_append(b, p, n)) exit(1);
}

static void tx_proof(uint64_t h, uint64_t leaf, pel_proof *p)
{
    pel_proof_free(p);
    p->type = PEL_PROOF_TX;
    set_buf(&p->checkpoint, L.note[h].data, L.note[h].len);
    p->height = L.leaf_h[leaf];
    p->index = L.leaf_i[leaf];
    p->leaf_index = leaf;
    set_buf(&p->tx, L.tx[leaf], L.txlen[leaf]);
    set_buf(&p->receipt, L.rc[leaf], L.rclen[leaf]);
    CHECK_EQ_INT(pel_history_prove_inclusion(L.s, leaf, L.size[h], p->path, &p->path_len), 0);
}

static void state_proof(uint64_t h, const pel_key *k, pel_proof *p)
{
    pel_proof_free(p);
    p->type = PEL_PROOF_STATE;
    set_buf(&p->checkpoint, L.note[h].data, L.note[h].len);
    p->key = *k;
    CHECK_EQ_INT(pel_smt_get_proof(L.s, h, k, &p->state_proof, &p->value), 0);
    p->has_value = p->state_proof.kind == PEL_SMT_PRESENT;
}

static void cons_proof(uint64_t ho, uint64_t hn, pel_proof *p)
{
    pel_proof_free(p);
    p->type = PEL_PROOF_CONSISTENCY;
    set_buf(&p->checkpoint, L.note[hn].data, L.note[hn].len);
    set_buf(&p->old_checkpoint, L.note[ho].data, L.note[ho].len);
    if (L.size[ho] > 0)
        CHECK_EQ_INT(pel_history_prove_consistency(L.s, L.size[ho], L.size[hn], p->path,
                                                   &p->path_len), 0);
}

static bool buf_eq(const pel_buf *a, const pel_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool proof_eq(const pel_proof *a, const pel_proof *b)
{
    return a->type == b->type && buf_eq(&a->checkpoint, &b->checkpoint) &&
           buf_eq(&a->old_checkpoint, &b->old_checkpoint) && a->height == b->height &&
           a->index == b->index && a->leaf_index == b->leaf_index &&
           buf_eq(&a->tx, &b->tx) && buf_eq(&a->receipt, &b->receipt) &&
           a->path_len == b->path_len &&
           memcmp(a->path, b->path, a->path_len * 32) == 0 &&
           (a->type != PEL_PROOF_STATE ||
            (pel_key_eq(&a->key, &b->key) && a->has_value == b->has_value &&
             buf_eq(&a->value, &b->value) &&
             memcmp(&a->state_proof, &b->state_proof, sizeof a->state_proof) == 0));
}

/* text_of - the canonical text of p (exits on failure: a test bug). */
static void text_of(const pel_proof *p, pel_buf *t)
{
    pel_buf_reset(t);
    int rc = pel_proof_format(p, t);
    if (rc) { fprintf(stderr, "format: %s\n", pel_strerror(rc)); exit(1); }
}

/* parse_verify - parse t and, if it parses, verify it with the ledger's
 * key: the first code that is not 0. */
static int parse_verify(const pel_buf *t, pel_proof_result *r, char *msg, size_t cap)
{
    pel_proof q;
    pel_proof_init(&q);
    int rc = pel_proof_parse((const char *)t->data, t->len, &q, msg, cap);
    if (!rc) rc = pel_proof_verify(&q, &L.key, r, msg, cap);
    pel_proof_free(&q);
    return rc;
}

/* cycle - format -> parse -> equal -> format byte-equal -> verify OK. */
static bool cycle(const pel_proof *p, pel_proof_result *r)
{
    pel_buf t1, t2;
    pel_proof q;
    char msg[256];
    bool ok = true;
    pel_buf_init(&t1);
    pel_buf_init(&t2);
    pel_proof_init(&q);
    text_of(p, &t1);
    ok &= pel_proof_parse((const char *)t1.data, t1.len, &q, msg, sizeof msg) == 0;
    ok &= proof_eq(p, &q);
    if (ok) text_of(&q, &t2);
    ok &= buf_eq(&t1, &t2);
    int rc = pel_proof_verify(&q, &L.key, r, msg, sizeof msg);
    if (rc) fprintf(stderr, "  verify: %s (%s)\n", msg, pel_strerror(rc));
    ok &= rc == 0 && msg[0] == '\0';
    pel_proof_free(&q);
    pel_buf_free(&t1);
    pel_buf_free(&t2);
    return ok;
}

/* ------------------------------------------------------ valid proofs */

static void test_tx_proofs(void)
{
    pel_proof p;
    pel_proof_result r;
    size_t n = 0, bad = 0;
    pel_proof_init(&p);
    for (uint64_t h = 1; h < NH; h++) {
        for (uint64_t leaf = 0; leaf < L.size[h]; leaf++) {
            if (h != NH - 1 && h != 5 && leaf % 5 != h % 5 && leaf != L.size[h] - 1) continue;
            tx_proof(h, leaf, &p);
            bool ok = cycle(&p, &r);
            uint8_t id[32], dg[32];
            if (pel_hash_tagged("PEL/txid", L.tx[leaf], L.txlen[leaf], id) ||
                pel_hash_tagged("PEL/receipt", L.rc[leaf], L.rclen[leaf], dg))
                exit(1);
            ok &= r.type == PEL_PROOF_TX && r.ckpt.height == h && r.ckpt.size == L.size[h] &&
                  memcmp(r.txid, id, 32) == 0 && memcmp(r.receipt_digest, dg, 32) == 0 &&
                  memcmp(r.ckpt.root, L.ck[h].root, 32) == 0 &&
                  strcmp(r.key_name, "pel-devnet/pel") == 0 &&
                  memcmp(r.key_id, L.key.id, 4) == 0;
            if (!ok) { bad++; fprintf(stderr, "  tx proof h=%" PRIu64 " leaf=%" PRIu64 "\n", h, leaf); }
            n++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    printf("  tx proofs: %zu\n", n);
    CHECK(n > 130);
    /* the description, exactly */
    tx_proof(11, 57, &p);
    CHECK(cycle(&p, &r));
    pel_buf d;
    pel_buf_init(&d);
    CHECK_EQ_INT(pel_proof_describe(&p, &r, &d), 0);
    char want[512], idh[65], dgh[65], kid[9];
    pel_hex_encode(r.txid, 32, idh);
    pel_hex_encode(r.receipt_digest, 32, dgh);
    pel_hex_encode(L.key.id, 4, kid);
    snprintf(want, sizeof want, "transaction %s is leaf 57 of the ledger of 60 transactions "
             "signed by pel-devnet/pel+%s at height 11 (block %" PRIu64 ", position %u); "
             "receipt digest %s\n", idh, kid, L.leaf_h[57], L.leaf_i[57], dgh);
    CHECK(d.len == strlen(want) && memcmp(d.data, want, d.len) == 0);
    CHECK_EQ_INT(L.leaf_h[57], 11);
    /* res and err may be NULL */
    CHECK_EQ_INT(pel_proof_verify(&p, &L.key, NULL, NULL, 0), 0);
    pel_buf_free(&d);
    pel_proof_free(&p);
}

static void test_state_proofs(void)
{
    pel_proof p;
    pel_proof_result r;
    size_t kinds[3] = { 0 }, bad = 0, empty_values = 0, empty_tree = 0;
    static const uint64_t hs[] = { 0, 1, 3, 6, 9, 12 };
    pel_proof_init(&p);
    for (size_t hi = 0; hi < sizeof hs / sizeof hs[0]; hi++) {
        uint64_t h = hs[hi];
        for (uint32_t k = 0; k < NKEYS + NABSENT; k++) {
            const pel_key *key = k < NKEYS ? &L.keys[k] : &L.absent[k - NKEYS];
            if (k >= NKEYS && h != NH - 1 && k % 10) continue;
            state_proof(h, key, &p);
            bool ok = cycle(&p, &r);
            int want = k < NKEYS ? L.vlen[h][k] : -1;
            ok &= (want >= 0) == (p.has_value != 0);
            if (want >= 0)
                ok &= p.value.len == (size_t)want &&
                      (want == 0 || memcmp(p.value.data, L.val[h][k], (size_t)want) == 0);
            ok &= r.type == PEL_PROOF_STATE && r.ckpt.height == h &&
                  memcmp(r.ckpt.state_root, L.ck[h].state_root, 32) == 0;
            if (!ok) { bad++; fprintf(stderr, "  state proof h=%" PRIu64 " k=%u\n", h, k); }
            kinds[p.state_proof.kind]++;
            empty_values += want == 0;
            empty_tree += h == 0;
        }
    }
    CHECK_EQ_INT(bad, 0);
    printf("  state proofs: %zu present (%zu empty values), %zu absent-empty (%zu in the "
           "empty tree), %zu absent-leaf\n", kinds[0], empty_values, kinds[1], empty_tree,
           kinds[2]);
    CHECK(kinds[0] > 50 && kinds[1] > 10 && kinds[2] > 10 && empty_values > 3 && empty_tree > 0);
    pel_proof_free(&p);
}

/* The independent verifier must reject it too (when python3 is there). */
static void py_rejects_equivocation(const pel_proof *p)
{
    char path[300], vk[PEL_NOTE_VKEY_MAX], cmd[1200];
    pel_buf t;
    if (system("python3 -c 1 >/dev/null 2>&1") != 0 || access("tools/pelverify.py", R_OK) != 0) return;
    pel_buf_init(&t);
    CHECK_EQ_INT(pel_proof_format(p, &t), 0);
    snprintf(path, sizeof path, "%s/equivocation.json", L.dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) { CHECK_EQ_INT(fwrite(t.data, 1, t.len, f), t.len); fclose(f); }
    CHECK_EQ_INT(pel_note_verifier_format(L.key.name, L.key.pk, vk, sizeof vk), 0);
    snprintf(cmd, sizeof cmd, "python3 tools/pelverify.py verify '%s' --key '%s' | grep -q equivocated", path, vk);
    CHECK_EQ_INT(system(cmd), 0);
    pel_buf_free(&t);
}

/* Two different checkpoints signed for one height (a forked or lying
 * signer): a consistency "proof" between them must fail, even where the
 * sizes alone would allow it (same size, other state root; or the other
 * checkpoint carrying a larger size at the same height). */
static void test_equivocation(void)
{
    pel_proof p;
    pel_proof_result r;
    char msg[256];
    pel_proof_init(&p);
    for (int variant = 0; variant < 2; variant++) {
        pel_checkpoint fork = L.ck[7];
        pel_buf note;
        pel_buf_init(&note);
        if (variant == 0) fork.state_root[0] ^= 1;          /* same size, other state */
        else fork = L.ck[9], fork.height = 7;               /* bigger tree, same height */
        CHECK_EQ_INT(pel_checkpoint_sign(&fork, L.sk, &note), 0);
        cons_proof(7, variant == 0 ? 7 : 9, &p);
        set_buf(&p.checkpoint, note.data, note.len);
        CHECK_EQ_INT(pel_proof_verify(&p, &L.key, &r, msg, sizeof msg), PEL_EPROOF);
        CHECK(strstr(msg, "equivocated") != NULL);
        py_rejects_equivocation(&p);
        pel_buf_free(&note);
    }
    pel_proof_free(&p);
}

static void test_consistency_proofs(void)
{
    pel_proof p;
    pel_proof_result r;
    size_t bad = 0, from0 = 0, equal = 0, pow2 = 0;
    pel_proof_init(&p);
    for (uint64_t ho = 0; ho < NH; ho++)
        for (uint64_t hn = ho; hn < NH; hn++) {
            cons_proof(ho, hn, &p);
            bool ok = cycle(&p, &r);
            ok &= r.type == PEL_PROOF_CONSISTENCY && r.ckpt.height == hn &&
                  r.old.height == ho && r.ckpt.size == L.size[hn] && r.old.size == L.size[ho];
            if (!ok) { bad++; fprintf(stderr, "  consistency %" PRIu64 " -> %" PRIu64 "\n", ho, hn); }
            from0 += L.size[ho] == 0;
            equal += L.size[ho] == L.size[hn] && L.size[ho] > 0;
            pow2 += L.size[ho] == 8 && L.size[hn] > 8;
        }
    CHECK_EQ_INT(bad, 0);
    printf("  consistency proofs: %d, %zu from size 0, %zu between equal sizes, %zu from "
           "size 8\n", NH * (NH + 1) / 2, from0, equal, pow2);
    CHECK(from0 >= NH && equal >= NH + 1 && pow2 > 3);
    pel_proof_free(&p);
}

/* ------------------------------------------------------------ tampering */

typedef struct tally {
    size_t tried, rejected, parse_rej, accepted_ok;
} tally;

/* try_text - t must be rejected by parse or verify. */
static void try_text(const pel_buf *t, tally *ty, const char *what, size_t at)
{
    pel_proof q;
    char msg[256];
    pel_proof_init(&q);
    ty->tried++;
    int rc = pel_proof_parse((const char *)t->data, t->len, &q, msg, sizeof msg);
    if (rc) ty->parse_rej++;
    else rc = pel_proof_verify(&q, &L.key, NULL, msg, sizeof msg);
    if (rc) ty->rejected++;
    else fprintf(stderr, "  accepted after changing %s at %zu\n", what, at);
    pel_proof_free(&q);
}

/* try_struct - format q (a changed proof) and try it. A note that is no
 * longer UTF-8 cannot be written: then the raw bytes go into the text and
 * the parser must refuse them. */
static void try_struct(const pel_proof *q, tally *ty, const char *what, size_t at)
{
    pel_buf t;
    pel_buf_init(&t);
    int rc = pel_proof_format(q, &t);
    if (rc == PEL_EINVAL) {
        const pel_buf *n = q->checkpoint.len ? &q->checkpoint : &q->old_checkpoint;
        if (pel_buf_append(&t, "{\"pel_proof\": \"1\", \"type\": \"tx\", \"checkpoint\": \"", 48) ||
            pel_buf_append(&t, n->data, n->len) || pel_buf_append(&t, "\"}", 2))
            exit(1);
    } else if (rc) {
        exit(1);
    }
    try_text(&t, ty, what, at);
    pel_buf_free(&t);
}

static void flip_buf(const pel_proof *p, pel_proof *q, pel_buf *(*field)(pel_proof *),
                     tally *ty, const char *what)
{
    size_t n = field(q)->len;
    for (size_t i = 0; i < n * 8; i++) {
        field(q)->data[i / 8] ^= (uint8_t)(1u << (i % 8));
        try_struct(q, ty, what, i);
        field(q)->data[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    CHECK(proof_eq(p, q));
}

static pel_buf *f_tx(pel_proof *p) { return &p->tx; }
static pel_buf *f_receipt(pel_proof *p) { return &p->receipt; }
static pel_buf *f_value(pel_proof *p) { return &p->value; }
static pel_buf *f_note(pel_proof *p) { return &p->checkpoint; }
static pel_buf *f_old(pel_proof *p) { return &p->old_checkpoint; }

/* copy_proof - q := p, through the text (also a round trip). */
static void copy_proof(const pel_proof *p, pel_proof *q)
{
    pel_buf t;
    pel_buf_init(&t);
    text_of(p, &t);
    CHECK_EQ_INT(pel_proof_parse((const char *)t.data, t.len, q, NULL, 0), 0);
    pel_buf_free(&t);
}

static void flip_path(pel_proof *q, tally *ty)
{
    for (size_t e = 0; e < q->path_len; e++)
        for (size_t i = 0; i < 256; i++) {
            q->path[e][i / 8] ^= (uint8_t)(1u << (i % 8));
            try_struct(q, ty, "path", e * 256 + i);
            q->path[e][i / 8] ^= (uint8_t)(1u << (i % 8));
        }
    /* one hash more, one less */
    if (q->path_len < PEL_HISTORY_MAX_PATH) {
        memset(q->path[q->path_len], 0x42, 32);
        q->path_len++;
        try_struct(q, ty, "path+1", 0);
        q->path_len--;
    }
    if (q->path_len > 0) {
        q->path_len--;
        try_struct(q, ty, "path-1", 0);
        q->path_len++;
    }
}

static void plus_minus(pel_proof *q, tally *ty)
{
    for (int d = -1; d <= 1; d += 2) {
        uint64_t h = q->height, l = q->leaf_index;
        uint32_t x = q->index;
        q->height += (uint64_t)(int64_t)d;
        try_struct(q, ty, "height", (size_t)d);
        q->height = h;
        q->index += (uint32_t)(int32_t)d;
        try_struct(q, ty, "index", (size_t)d);
        q->index = x;
        q->leaf_index += (uint64_t)(int64_t)d;
        try_struct(q, ty, "leaf_index", (size_t)d);
        q->leaf_index = l;
    }
}

/* flip_state_proof - every bit of the encoding, spliced into the text. */
static void flip_state_proof(const pel_proof *p, tally *ty)
{
    pel_buf enc, t, u;
    pel_buf_init(&enc);
    pel_buf_init(&t);
    pel_buf_init(&u);
    CHECK_EQ_INT(pel_smt_proof_encode(&p->state_proof, &enc), 0);
    text_of(p, &t);
    char *hex = malloc(2 * enc.len + 1);
    pel_hex_encode(enc.data, enc.len, hex);
    char *at = memmem(t.data, t.len, hex, 2 * enc.len);
    CHECK(at != NULL);
    size_t off = at ? (size_t)(at - (char *)t.data) : 0;
    for (size_t i = 0; at && i < enc.len * 8; i++) {
        enc.data[i / 8] ^= (uint8_t)(1u << (i % 8));
        set_buf(&u, t.data, t.len);
        pel_hex_encode(enc.data + i / 8, 1, hex);
        memcpy(u.data + off + 2 * (i / 8), hex, 2);
        try_text(&u, ty, "state_proof", i);
        enc.data[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    free(hex);
    pel_buf_free(&enc);
    pel_buf_free(&t);
    pel_buf_free(&u);
}

/* flip_key - a flipped key must be rejected, except against an absence
 * proof whose walk the flipped key shares: then it is absent too (the
 * model has no such key) and the proof rightly says so. */
static void flip_key(pel_proof *q, tally *ty)
{
    for (size_t i = 0; i < 256; i++) {
        q->key.b[i / 8] ^= (uint8_t)(1u << (i % 8));
        pel_buf t;
        pel_buf_init(&t);
        text_of(q, &t);
        char msg[256];
        int rc = parse_verify(&t, NULL, msg, sizeof msg);
        ty->tried++;
        if (rc) ty->rejected++;
        else if (q->state_proof.kind != PEL_SMT_PRESENT) ty->accepted_ok++;
        else fprintf(stderr, "  present proof accepted with key bit %zu flipped\n", i);
        pel_buf_free(&t);
        q->key.b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
}

static void check_tally(const tally *ty, const char *what)
{
    printf("  tamper %-26s %5zu changes, %5zu rejected (%zu by parse), %zu absent keys "
           "rightly accepted\n", what, ty->tried, ty->rejected, ty->parse_rej, ty->accepted_ok);
    CHECK_EQ_INT(ty->rejected + ty->accepted_ok, ty->tried);
    CHECK(ty->tried > 0);
}

static void tamper_tx(uint64_t h, uint64_t leaf)
{
    pel_proof p, q;
    tally ty = { 0 };
    pel_proof_init(&p);
    pel_proof_init(&q);
    tx_proof(h, leaf, &p);
    copy_proof(&p, &q);
    flip_buf(&p, &q, f_tx, &ty, "tx");
    flip_buf(&p, &q, f_receipt, &ty, "receipt");
    flip_buf(&p, &q, f_note, &ty, "checkpoint");
    flip_path(&q, &ty);
    plus_minus(&q, &ty);
    char what[64];
    snprintf(what, sizeof what, "tx %" PRIu64 "@%" PRIu64 " (%zu hashes)", leaf, h, p.path_len);
    check_tally(&ty, what);
    pel_proof_free(&p);
    pel_proof_free(&q);
}

static void tamper_state(uint64_t h, const pel_key *k, const char *label)
{
    pel_proof p, q;
    tally ty = { 0 };
    pel_proof_init(&p);
    pel_proof_init(&q);
    state_proof(h, k, &p);
    copy_proof(&p, &q);
    flip_buf(&p, &q, f_value, &ty, "value");
    flip_buf(&p, &q, f_note, &ty, "checkpoint");
    flip_state_proof(&p, &ty);
    flip_key(&q, &ty);
    /* the opposite claim: a value for an absent key, none for a present one */
    q.has_value = !q.has_value;
    try_struct(&q, &ty, "has_value", 0);
    if (q.has_value) {
        set_buf(&q.value, "x", 1);
        try_struct(&q, &ty, "has_value", 1);
    }
    char what[64];
    snprintf(what, sizeof what, "state %s@%" PRIu64 " (depth %u)", label, h,
             p.state_proof.depth);
    check_tally(&ty, what);
    pel_proof_free(&p);
    pel_proof_free(&q);
}

static void tamper_consistency(uint64_t ho, uint64_t hn)
{
    pel_proof p, q;
    tally ty = { 0 };
    pel_proof_init(&p);
    pel_proof_init(&q);
    cons_proof(ho, hn, &p);
    copy_proof(&p, &q);
    flip_buf(&p, &q, f_note, &ty, "checkpoint");
    flip_buf(&p, &q, f_old, &ty, "old_checkpoint");
    flip_path(&q, &ty);
    /* the two notes swapped (when they differ) */
    if (ho != hn && L.size[ho] != L.size[hn]) {
        set_buf(&q.checkpoint, L.note[ho].data, L.note[ho].len);
        set_buf(&q.old_checkpoint, L.note[hn].data, L.note[hn].len);
        try_struct(&q, &ty, "swapped", 0);
    }
    char what[64];
    snprintf(what, sizeof what, "consistency %" PRIu64 "->%" PRIu64 " (%zu hashes)",
             L.size[ho], L.size[hn], p.path_len);
    check_tally(&ty, what);
    pel_proof_free(&p);
    pel_proof_free(&q);
}

/* first_key - a key whose proof at h has the given kind (absent set). */
static const pel_key *first_key(uint64_t h, int kind, unsigned min_depth)
{
    pel_smt_proof sp;
    for (uint32_t k = 0; k < NABSENT; k++) {
        CHECK_EQ_INT(pel_smt_get_proof(L.s, h, &L.absent[k], &sp, NULL), 0);
        if (sp.kind == kind && sp.depth >= min_depth) return &L.absent[k];
    }
    CHECK(0);
    return &L.absent[0];
}

static void test_tamper(void)
{
    if (test_env_u64("PEL_TEST_TSAN", 0)) {   /* no threads here: keep it short */
        tamper_tx(4, 7);
        return;
    }
    tamper_tx(12, 57);
    tamper_tx(4, 7);          /* the last leaf of a power-of-two tree */
    tamper_tx(1, 0);          /* a tree of one leaf: an empty path */
    tamper_tx(12, 70);
    uint32_t present = 0;
    while (L.vlen[12][present] <= 0) present++;       /* a non-empty value */
    tamper_state(12, &L.keys[present], "present");
    tamper_state(12, first_key(12, PEL_SMT_ABSENT_EMPTY, 1), "absent-empty");
    tamper_state(12, first_key(12, PEL_SMT_ABSENT_LEAF, 1), "absent-leaf");
    tamper_state(0, &L.keys[0], "empty tree");
    tamper_consistency(5, 12);
    tamper_consistency(4, 9);      /* old size 8: the proof omits the old root */
    tamper_consistency(0, 7);      /* from size 0 */
    tamper_consistency(1, 2);      /* equal sizes */
}

/* --------------------------------------------------- faults and keys */

static int verify_code(const pel_proof *p, const pel_note_verifier *k, char *msg, size_t cap)
{
    return pel_proof_verify(p, k, NULL, msg, cap);
}

static void test_wrong_key(void)
{
    uint8_t seed[32], pk[32], sk2[64];
    pel_note_verifier other, renamed;
    pel_proof p;
    char msg[256];
    memset(seed, 0x02, sizeof seed);
    CHECK_EQ_INT(pel_sign_seed_keypair(pk, sk2, seed), 0);
    CHECK_EQ_INT(pel_note_verifier_from_key("pel-devnet/pel", pk, &other), 0);
    CHECK_EQ_INT(pel_note_verifier_from_key("other/pel", L.key.pk, &renamed), 0);
    pel_proof_init(&p);
    tx_proof(12, 3, &p);
    CHECK_EQ_INT(verify_code(&p, &other, msg, sizeof msg), PEL_ENOTE_UNVERIFIED);
    CHECK(strcmp(msg, "checkpoint: not signed by the key") == 0);
    CHECK_EQ_INT(verify_code(&p, &renamed, msg, sizeof msg), PEL_ENOTE_UNVERIFIED);
    /* consistency: the old note by another key, then with a bad signature */
    cons_proof(3, 12, &p);
    pel_buf n2;
    pel_buf_init(&n2);
    CHECK_EQ_INT(pel_checkpoint_sign(&L.ck[3], sk2, &n2), 0);
    set_buf(&p.old_checkpoint, n2.data, n2.len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_ENOTE_UNVERIFIED);
    CHECK(strcmp(msg, "old checkpoint: not signed by the key") == 0);
    set_buf(&p.old_checkpoint, L.note[3].data, L.note[3].len);
    p.old_checkpoint.data[L.note[3].len - 10] ^= 0x01;      /* inside the base64 */
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_ENOTE_BADSIG);
    CHECK(strcmp(msg, "old checkpoint: signature does not verify with the key") == 0);
    /* a note signed twice (a witness) still verifies; a witness's bad
     * signature is ignored */
    cons_proof(3, 12, &p);
    pel_buf_reset(&n2);
    CHECK_EQ_INT(pel_note_add_signature((const char *)L.note[12].data, L.note[12].len,
                                        "witness", sk2, &n2), 0);
    set_buf(&p.checkpoint, n2.data, n2.len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), 0);
    p.checkpoint.data[p.checkpoint.len - 10] ^= 0x01;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), 0);
    pel_buf_free(&n2);
    pel_proof_free(&p);
}

static void test_semantic_faults(void)
{
    pel_proof p;
    char msg[256];
    pel_proof_result r;
    pel_proof_init(&p);
    /* leaf_index at the tree size, height above the checkpoint's */
    tx_proof(4, 7, &p);
    p.leaf_index = 8;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "leaf_index 8 is not below the checkpoint's tree size 8") == 0);
    tx_proof(4, 7, &p);
    p.height = 5;
    CHECK_EQ_INT(pel_proof_verify(&p, &L.key, &r, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "height 5 is above the checkpoint's height 4") == 0);
    CHECK(r.type == 0 && r.ckpt.size == 0);             /* cleared on failure */
    /* a path for another tree size */
    tx_proof(5, 7, &p);
    set_buf(&p.checkpoint, L.note[7].data, L.note[7].len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strstr(msg, "inclusion proof does not lead to the checkpoint's root") == msg);
    /* consistency: reversed, from 0 with a path, sizes out of order */
    cons_proof(5, 9, &p);
    pel_buf old = p.old_checkpoint;
    p.old_checkpoint = p.checkpoint;
    p.checkpoint = old;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "old checkpoint's height 9 is above the new one's 5") == 0);
    cons_proof(0, 9, &p);
    p.path_len = 1;
    memcpy(p.path[0], L.ck[9].root, 32);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "a consistency proof from tree size 0 must be empty (it has 1 hashes)") == 0);
    cons_proof(5, 9, &p);
    p.path_len = 0;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strstr(msg, "consistency proof does not lead from the old checkpoint's root") == msg);
    /* checkpoints with the same height but other sizes (a fork signed by
     * the key): the size rule catches the bigger old one */
    pel_checkpoint c = L.ck[9];
    c.size = L.size[9] + 1;
    pel_buf n;
    pel_buf_init(&n);
    CHECK_EQ_INT(pel_checkpoint_sign(&c, L.sk, &n), 0);
    cons_proof(5, 9, &p);
    set_buf(&p.old_checkpoint, n.data, n.len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "old checkpoint's tree size 43 is above the new one's 42") == 0);
    /* size 0 with a root that is not the empty root */
    c = L.ck[0];
    c.root[0] ^= 1;
    c.height = 2;                   /* another height: not an equivocation */
    pel_buf_reset(&n);
    CHECK_EQ_INT(pel_checkpoint_sign(&c, L.sk, &n), 0);
    cons_proof(0, 9, &p);
    set_buf(&p.old_checkpoint, n.data, n.len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "old checkpoint has tree size 0 but its root is not the empty tree's") == 0);
    set_buf(&p.checkpoint, n.data, n.len);
    set_buf(&p.old_checkpoint, L.note[0].data, L.note[0].len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "checkpoint has tree size 0 but its root is not the empty tree's") == 0);
    /* state: the claim against the proof's kind; another version's root */
    state_proof(12, &L.keys[1], &p);
    CHECK(p.has_value);
    p.has_value = 0;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "the state proof shows the key present, but the file says it has no value") == 0);
    state_proof(12, &L.absent[0], &p);
    p.has_value = 1;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "the state proof shows the key absent, but the file gives it a value") == 0);
    state_proof(12, &L.keys[1], &p);
    set_buf(&p.checkpoint, L.note[11].data, L.note[11].len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    CHECK(strcmp(msg, "state proof does not lead to the checkpoint's state root") == 0);
    state_proof(12, first_key(12, PEL_SMT_ABSENT_LEAF, 1), &p);
    p.key = L.keys[0];
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EPROOF);
    /* the checkpoint note: not a note, not a checkpoint */
    set_buf(&p.checkpoint, "hello\n", 6);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_ENOTE);
    CHECK(strcmp(msg, "checkpoint: not a well-formed signed note") == 0);
    pel_buf_reset(&n);
    CHECK_EQ_INT(pel_note_sign("pel-devnet/pel\n5\n", 17, "pel-devnet/pel", L.sk, &n), 0);
    set_buf(&p.checkpoint, n.data, n.len);
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_ECKPT);
    /* a struct the API cannot take */
    p.type = 9;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EINVAL);
    pel_buf_reset(&n);
    CHECK_EQ_INT(pel_proof_format(&p, &n), PEL_EINVAL);
    CHECK_EQ_INT(n.len, 0);
    p.type = PEL_PROOF_TX;
    p.path_len = PEL_HISTORY_MAX_PATH + 1;
    CHECK_EQ_INT(verify_code(&p, &L.key, msg, sizeof msg), PEL_EINVAL);
    CHECK_EQ_INT(pel_proof_format(&p, &n), PEL_EINVAL);
    pel_buf_free(&n);
    pel_proof_free(&p);
}

/* ------------------------------------------------------------- parsing */

/* splice - out = t with t[off, off + n) replaced by `to`. */
static void splice(const pel_buf *t, size_t off, size_t n, const char *to, pel_buf *out)
{
    pel_buf_reset(out);
    if (pel_buf_append(out, t->data, off) || pel_buf_append(out, to, strlen(to)) ||
        pel_buf_append(out, t->data + off + n, t->len - off - n))
        exit(1);
}

/* edit - t with `from` replaced by `to` (first occurrence; from must
 * occur). A `from` of "=name" stands for the whole value of member name
 * in a canonical text (a string, an array or null). */
static void edit(const pel_buf *t, const char *from, const char *to, pel_buf *out)
{
    char pat[64];
    bool member = from[0] == '=';
    if (member) snprintf(pat, sizeof pat, "\"%s\": ", from + 1);
    const char *f = member ? pat : from;
    char *at = memmem(t->data, t->len, f, strlen(f));
    if (!at) { fprintf(stderr, "edit: %s not found\n", from); exit(1); }
    size_t off = (size_t)(at - (char *)t->data), n = strlen(f);
    if (member) {                      /* canonical: no escaped quotes in values */
        off += n;
        char end = t->data[off] == '[' ? ']' : t->data[off] == '"' ? '"' : 'l';
        char *e = memchr(t->data + off + 1, end, t->len - off - 1);
        n = (size_t)(e - (char *)t->data) + (end == 'l' ? 2 : 1) - off;
    }
    splice(t, off, n, to, out);
}

typedef struct pcase {
    const char *from, *to;
    int want;                 /* parse code */
    const char *msg;          /* a part of the message, or NULL */
} pcase;

static void run_cases(const pel_buf *t, const pcase *c, size_t n, const char *label)
{
    pel_buf u;
    pel_proof q;
    char msg[256];
    pel_buf_init(&u);
    pel_proof_init(&q);
    for (size_t i = 0; i < n; i++) {
        edit(t, c[i].from, c[i].to, &u);
        int rc = pel_proof_parse((const char *)u.data, u.len, &q, msg, sizeof msg);
        bool ok = rc == c[i].want && (!c[i].msg || strstr(msg, c[i].msg)) &&
                  (rc != 0 || msg[0] == '\0') && (rc == 0 || (q.type == 0 && q.tx.len == 0));
        if (!ok)
            fprintf(stderr, "  %s case %zu (%s -> %s): got %d \"%s\", want %d \"%s\"\n", label,
                    i, c[i].from, c[i].to, rc, msg, c[i].want, c[i].msg ? c[i].msg : "");
        CHECK(ok);
    }
    pel_proof_free(&q);
    pel_buf_free(&u);
}

#define F PEL_EPROOF_FORMAT
#define V PEL_EPROOF_VERSION

static const pcase tx_cases[] = {
    { "\"height\": \"", "\"extra\": \"1\", \"height\": \"", F, "unknown member \"extra\" in a tx proof" },
    { "  \"receipt\": \"", "  \"receipt_\": \"", F, "unknown member \"receipt_\"" },
    { "  \"receipt\": \"", "  \"tx\": \"00\",\n  \"receipt_\": \"", F, "duplicate member \"tx\"" },
    { "\"height\": \"11\",\n", "", F, "missing member \"height\"" },
    { "\"pel_proof\": \"1\",\n", "", F, "missing member \"pel_proof\"" },
    { "\"type\": \"tx\",\n", "", F, "missing member \"type\"" },
    { "\"pel_proof\": \"1\"", "\"pel_proof\": \"2\"", V, "version \"2\" is not supported" },
    { "\"pel_proof\": \"1\"", "\"pel_proof\": \"01\"", V, NULL },
    { "\"pel_proof\": \"1\"", "\"pel_proof\": \"\"", V, NULL },
    { "\"pel_proof\": \"1\"", "\"pel_proof\": 1", F, "\"pel_proof\" must be a JSON string" },
    /* the version first: a v2 file may have other members */
    { "\"pel_proof\": \"1\",", "\"pel_proof\": \"2\", \"new\": [],", V, NULL },
    /* duplicates before the version */
    { "\"pel_proof\": \"1\",", "\"pel_proof\": \"2\", \"pel_proof\": \"2\",", F, "duplicate member \"pel_proof\"" },
    { "\"type\": \"tx\"", "\"type\": \"TX\"", F, "unknown proof type \"TX\"" },
    { "\"type\": \"tx\"", "\"type\": null", F, "\"type\" must be a JSON string" },
    { "\"type\": \"tx\"", "\"type\": \"state\"", F, "unknown member \"height\" in a state proof" },
    { "\"height\": \"11\"", "\"height\": \"011\"", F, "member \"height\": \"011\" is not canonical decimal" },
    { "\"height\": \"11\"", "\"height\": 11", F, "member \"height\" must be a JSON string" },
    { "\"height\": \"11\"", "\"height\": \"-1\"", F, NULL },
    { "\"height\": \"11\"", "\"height\": \"+11\"", F, NULL },
    { "\"height\": \"11\"", "\"height\": \"11.0\"", F, NULL },
    { "\"height\": \"11\"", "\"height\": \" 11\"", F, NULL },
    { "\"height\": \"11\"", "\"height\": \"\"", F, NULL },
    { "\"height\": \"11\"", "\"height\": \"18446744073709551616\"", F, NULL },
    { "\"height\": \"11\"", "\"height\": \"18446744073709551615\"", 0, NULL },
    { "\"height\": \"11\"", "\"height\": \"00\"", F, NULL },
    { "\"leaf_index\": \"57\"", "\"leaf_index\": \"0\"", 0, NULL },
    { "=index", "\"4294967296\"", F, "member \"index\": \"4294967296\" is not canonical decimal from 0 to 4294967295" },
    { "=index", "\"4294967295\"", 0, NULL },
    { "=receipt", "\"\"", 0, NULL },
    { "=tx", "null", F, "member \"tx\" must be a JSON string" },
    { "=checkpoint", "null", F, "member \"checkpoint\" must be a JSON string" },
    { "=checkpoint", "\"\"", 0, NULL },
    { "=inclusion", "[]", 0, NULL },
    { "=inclusion", "null", F, "member \"inclusion\" must be an array of strings" },
    { "=inclusion", "\"00\"", F, "member \"inclusion\" must be an array of strings" },
    { "=inclusion", "[\"00\", 1]", F, "must be an array of strings" },
    { "\"leaf_index\": \"57\"", "\"leaf_index\": \"99999999999999999999\"", F, NULL },
    { "\"tx\": \"", "\"tx\": \"A", F, "member \"tx\" is not lowercase hex of even length" },
    { "\"tx\": \"", "\"tx\": \"0", F, "member \"tx\" is not lowercase hex" },
    { "\"tx\": \"", "\"tx\": \"0g", F, NULL },
    { "\"tx\": \"", "\"tx\": \" ", F, NULL },
    { "\"receipt\": \"", "\"receipt\": \"0x", F, NULL },
    { "\"inclusion\": [\n    \"", "\"inclusion\": [\n    \"A", F, "\"inclusion\": element 0 is not 64 lowercase hex digits" },
    { "\"inclusion\": [\n    \"", "\"inclusion\": [\n    \"00", F, "element 0" },
    { "\"inclusion\": [\n    \"", "\"inclusion\": [\n    1, \"", F, "\"inclusion\" must be an array of strings" },
    { "\"inclusion\": [", "\"inclusion\": {\"a\": [", F, "not valid JSON" },
    /* JSON syntax */
    { "\n}\n", "\n},\n", F, "not valid JSON" },
    { "\n}\n", "\n}\n{}", F, "not valid JSON" },
    { "\n}\n", ",\n}\n", F, "not valid JSON" },
    { "{\n", "[{\n", F, "not a JSON object" },
    { "{\n", "\xef\xbb\xbf{\n", F, "not a JSON object" },
    { "\"type\"", "'type'", F, "not valid JSON" },
    { "\"height\"", "\"hei\x01ght\"", F, "not valid JSON" },
    { "\"height\"", "\"hei\xc3ght\"", F, "not valid JSON" },           /* bad UTF-8 */
    { "\"height\"", "\"hei\xed\xa0\x80ght\"", F, "not valid JSON" },   /* UTF-8 surrogate */
    { "\"height\"", "\"hei\xc1\x81ght\"", F, "not valid JSON" },       /* overlong */
    { "\"height\"", "\"hei\\ud800ght\"", F, "not valid JSON" },        /* lone surrogate */
    { "\"height\"", "\"hei\\udc00ght\"", F, "not valid JSON" },
    { "\"height\"", "\"hei\\ud83d\\ude00ght\"", F, "unknown member \"hei\\xf0\\x9f\\x98\\x80ght\"" },
    { "\"height\"", "\"hei\\qght\"", F, "not valid JSON" },
    { "\"height\"", "\"hei\\u00g0ght\"", F, "not valid JSON" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"x\": 01", F, "not valid JSON" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"x\": 1.", F, "not valid JSON" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"x\": tru", F, "not valid JSON" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"x\": NaN", F, "not valid JSON" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"x\": -1.5e+3", F, "unknown member \"x\"" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", F, "not valid JSON" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", F, "unknown member \"x\"" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,\"h\":0", F, "more than 16 members" },
    { "\"height\": \"11\"", "\"height\": \"11\", \"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0", F, "unknown member \"a\"" },
    /* JSON that is fine: white space, escapes, member order */
    { "\"height\": \"11\"", "\"height\"\t:\r\n\"1\\u0031\"", 0, NULL },
    { "\"type\": \"tx\",\n", "", F, "missing member \"type\"" },
    { "\"pel_proof\": \"1\",\n  \"type\": \"tx\",", "\"type\": \"tx\", \"p\\u0065l_proof\"  :  \"\\u0031\" ,", 0, NULL },
};

static const pcase state_cases[] = {
    { "\"key\": \"", "\"key\": \"00", F, "member \"key\" is not 64 lowercase hex digits" },
    { "\"key\": \"", "\"key\": \"0", F, "member \"key\"" },
    { "=key", "0", F, "member \"key\" must be a JSON string" },
    { "=key", "[]", F, "member \"key\" must be a JSON string" },
    { "=key", "\"\"", F, "member \"key\" is not 64 lowercase hex digits" },
    { "=value", "1", F, "member \"value\" must be a hex string or null" },
    { "=value", "\"\"", 0, NULL },
    { "=value", "null", 0, NULL },
    { "\"value\": \"", "\"value\": \"0", F, "member \"value\" is not lowercase hex" },
    { "\"state_proof\": \"", "\"state_proof\": \"00", F, "member \"state_proof\" is not a canonical state-tree proof encoding (trailing bytes after value)" },
    { "=state_proof", "\"\"", F, "canonical state-tree proof encoding (truncated input)" },
    { "=state_proof", "null", F, "member \"state_proof\" must be a JSON string" },
    { "\"state_proof\": \"", "\"state_proof\": \"03", F, NULL },
    { "\"key\": \"", "\"inclusion\": [], \"key\": \"", F, "unknown member \"inclusion\" in a state proof" },
};

static void test_parse_strict(void)
{
    pel_proof p;
    pel_buf t;
    pel_proof_init(&p);
    pel_buf_init(&t);
    tx_proof(11, 57, &p);
    text_of(&p, &t);
    run_cases(&t, tx_cases, sizeof tx_cases / sizeof tx_cases[0], "tx");
    uint32_t present = 0;
    while (L.vlen[12][present] <= 0) present++;
    state_proof(12, &L.keys[present], &p);
    text_of(&p, &t);
    run_cases(&t, state_cases, sizeof state_cases / sizeof state_cases[0], "state");
    /* absent: "value": null, and a hex value is refused by verify only */
    state_proof(12, &L.absent[0], &p);
    text_of(&p, &t);
    CHECK(memmem(t.data, t.len, "\"value\": null,\n", 15) != NULL);
    static const pcase absent_cases[] = {
        { "\"value\": null", "\"value\": \"\"", 0, NULL },
        { "\"value\": null", "\"value\": nul", F, "not valid JSON" },
        { "\"value\": null", "\"value\": false", F, "hex string or null" },
    };
    run_cases(&t, absent_cases, 3, "absent");
    /* a path of 66 hashes; 65 parse */
    tx_proof(11, 57, &p);
    pel_buf u;
    pel_buf_init(&u);
    for (int n = 65; n <= 66; n++) {
        p.path_len = 0;
        text_of(&p, &t);
        set_buf(&u, "[", 1);
        const char *h = "\"0000000000000000000000000000000000000000000000000000000000000000\"";
        for (int i = 0; i < n; i++)
            if ((i && pel_buf_append(&u, ",", 1)) || pel_buf_append(&u, h, strlen(h))) exit(1);
        if (pel_buf_append(&u, "]", 2)) exit(1);
        pel_buf v;
        pel_buf_init(&v);
        edit(&t, "[]", (const char *)u.data, &v);
        pel_proof q;
        char msg[256];
        pel_proof_init(&q);
        int rc = pel_proof_parse((const char *)v.data, v.len, &q, msg, sizeof msg);
        CHECK_EQ_INT(rc, n == 65 ? 0 : PEL_EPROOF_FORMAT);
        CHECK(n == 65 ? q.path_len == 65 : strstr(msg, "more than 65 hashes") != NULL);
        pel_proof_free(&q);
        pel_buf_free(&v);
    }
    pel_buf_free(&u);
    /* whole-text faults */
    char msg[256];
    CHECK_EQ_INT(pel_proof_parse(NULL, 0, &p, msg, sizeof msg), PEL_EPROOF_FORMAT);
    CHECK(strcmp(msg, "not a JSON object") == 0);
    CHECK_EQ_INT(pel_proof_parse(" \n ", 3, &p, msg, sizeof msg), PEL_EPROOF_FORMAT);
    CHECK_EQ_INT(pel_proof_parse("{}", 2, &p, msg, sizeof msg), PEL_EPROOF_FORMAT);
    CHECK(strcmp(msg, "missing member \"pel_proof\" (not a PEL proof file)") == 0);
    CHECK_EQ_INT(pel_proof_parse("{\"pel_proof\": \"1\"}", 18, &p, msg, 8), PEL_EPROOF_FORMAT);
    CHECK(strcmp(msg, "missing") == 0);                 /* cut to errlen */
    CHECK_EQ_INT(pel_proof_parse("{\"pel_proof\": \"1\"", 17, &p, NULL, 0), PEL_EPROOF_FORMAT);
    CHECK_EQ_INT(pel_proof_parse("{\"pel_proof\": \"1\"}\0", 19, &p, NULL, 0), PEL_EPROOF_FORMAT);
    char *big = malloc(PEL_PROOF_TEXT_MAX + 1);
    tx_proof(11, 57, &p);
    text_of(&p, &t);
    memset(big, ' ', PEL_PROOF_TEXT_MAX + 1);
    memcpy(big, t.data, t.len);
    CHECK_EQ_INT(pel_proof_parse(big, PEL_PROOF_TEXT_MAX, &p, msg, sizeof msg), 0);
    CHECK_EQ_INT(pel_proof_parse(big, PEL_PROOF_TEXT_MAX + 1, &p, msg, sizeof msg),
                 PEL_EPROOF_FORMAT);
    CHECK(strstr(msg, "over the limit") != NULL);
    free(big);
    pel_buf_free(&t);
    pel_proof_free(&p);
}

/* notes with every kind of character: escapes written and read back */
static void test_note_escapes(void)
{
    pel_proof p, q;
    pel_buf t;
    pel_proof_init(&p);
    pel_proof_init(&q);
    pel_buf_init(&t);
    cons_proof(3, 5, &p);
    static const char odd[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f \xe2\x80\x94\xf0\x9f\x98\x80";
    set_buf(&p.old_checkpoint, odd, sizeof odd);         /* with its NUL */
    text_of(&p, &t);
    static const char esc[] =
        "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f \xe2\x80\x94\xf0\x9f\x98\x80\\u0000\"";
    CHECK(memmem(t.data, t.len, esc, sizeof esc - 1) != NULL);
    CHECK_EQ_INT(pel_proof_parse((const char *)t.data, t.len, &q, NULL, 0), 0);
    CHECK(proof_eq(&p, &q));
    char msg[256];
    CHECK_EQ_INT(pel_proof_verify(&q, &L.key, NULL, msg, sizeof msg), PEL_ENOTE);
    CHECK(strcmp(msg, "old checkpoint: not a well-formed signed note") == 0);
    /* a note that is not UTF-8 cannot be written */
    set_buf(&p.old_checkpoint, "\xff\n", 2);
    pel_buf_reset(&t);
    CHECK_EQ_INT(pel_proof_format(&p, &t), PEL_EINVAL);
    CHECK_EQ_INT(t.len, 0);
    /* escapes the writer does not use read the same */
    cons_proof(3, 5, &p);
    text_of(&p, &t);
    pel_buf u;
    pel_buf_init(&u);
    edit(&t, "pel-devnet/pel\\n", "pel\\u002ddevnet\\/pel\\u000A", &u);
    CHECK_EQ_INT(pel_proof_parse((const char *)u.data, u.len, &q, NULL, 0), 0);
    CHECK(proof_eq(&p, &q));
    CHECK_EQ_INT(pel_proof_verify(&q, &L.key, NULL, NULL, 0), 0);
    pel_buf_free(&u);
    pel_buf_free(&t);
    pel_proof_free(&p);
    pel_proof_free(&q);
}

/* ------------------------------------------------------------ vectors */

typedef struct vector {
    const char *name;
    int type;
    uint64_t a, b;            /* tx: h, leaf; state: h, key; cons: ho, hn */
    int absent;               /* state: key from the absent set */
} vector;

/* The golden files. docs/PROOFS.md shows tx_small.json whole. */
static const vector vectors[] = {
    { "tx_small.json", PEL_PROOF_TX, 3, 2, 0 },
    { "tx.json", PEL_PROOF_TX, 12, 57, 0 },
    { "tx_first.json", PEL_PROOF_TX, 1, 0, 0 },
    { "tx_last.json", PEL_PROOF_TX, 12, 70, 0 },
    { "state_present.json", PEL_PROOF_STATE, 12, 1, 0 },
    { "state_empty_value.json", PEL_PROOF_STATE, 12, 0, 0 },
    { "state_absent_empty.json", PEL_PROOF_STATE, 12, PEL_SMT_ABSENT_EMPTY, 1 },
    { "state_absent_leaf.json", PEL_PROOF_STATE, 12, PEL_SMT_ABSENT_LEAF, 1 },
    { "state_deleted.json", PEL_PROOF_STATE, 12, 0, 2 },
    { "state_empty_tree.json", PEL_PROOF_STATE, 0, 5, 0 },
    { "consistency.json", PEL_PROOF_CONSISTENCY, 5, 12, 0 },
    { "consistency_pow2.json", PEL_PROOF_CONSISTENCY, 4, 9, 0 },
    { "consistency_from_0.json", PEL_PROOF_CONSISTENCY, 0, 7, 0 },
    { "consistency_equal.json", PEL_PROOF_CONSISTENCY, 1, 2, 0 },
    { "consistency_same.json", PEL_PROOF_CONSISTENCY, 8, 8, 0 },
};

static void vector_proof(const vector *v, pel_proof *p)
{
    if (v->type == PEL_PROOF_TX) { tx_proof(v->a, v->b, p); return; }
    if (v->type == PEL_PROOF_CONSISTENCY) { cons_proof(v->a, v->b, p); return; }
    if (v->absent == 1) { state_proof(v->a, first_key(v->a, (int)v->b, 1), p); return; }
    uint32_t k = (uint32_t)v->b;
    if (v->absent == 2) {                 /* a key deleted by the last block */
        k = (uint32_t)(12 * 13) % NKEYS;
        CHECK(L.vlen[12][k] < 0 && L.vlen[11][k] >= 0);
    } else if (v->a == 12 && v->b == 0) { /* a key whose value is empty */
        while (L.vlen[12][k] != 0) k++;
    }
    state_proof(v->a, &L.keys[k], p);
}

static bool file_eq(const char *path, const pel_buf *want)
{
    char *got = NULL;
    size_t len = 0;
    int rc = pel_read_file(path, PEL_PROOF_TEXT_MAX, &got, &len);
    bool eq = rc == 0 && len == want->len && memcmp(got, want->data, len) == 0;
    if (!eq) fprintf(stderr, "  %s differs from what the code writes (%s)\n", path,
                     rc ? pel_strerror(rc) : "content");
    free(got);
    return eq;
}

static void write_file(const char *path, const pel_buf *b)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK_EQ_INT(fwrite(b->data, 1, b->len, f), b->len);
    CHECK_EQ_INT(fclose(f), 0);
}

static void test_vectors(void)
{
    bool write = getenv("PEL_PROOF_VECTORS_WRITE") != NULL;
    pel_proof p;
    pel_proof_result r;
    pel_buf t, desc, key;
    char path[256], vk[PEL_NOTE_VKEY_MAX];
    pel_proof_init(&p);
    pel_buf_init(&t);
    pel_buf_init(&desc);
    pel_buf_init(&key);
    if (write) (void)(mkdir("tests/vectors", 0755) + mkdir(VECTORS, 0755));
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        vector_proof(&vectors[i], &p);
        CHECK(cycle(&p, &r));
        text_of(&p, &t);
        CHECK(pel_buf_append(&desc, vectors[i].name, strlen(vectors[i].name)) == 0 &&
              pel_buf_append(&desc, ": ", 2) == 0);
        CHECK_EQ_INT(pel_proof_describe(&p, &r, &desc), 0);
        snprintf(path, sizeof path, "%s/%s", VECTORS, vectors[i].name);
        if (write) write_file(path, &t);
        else CHECK(file_eq(path, &t));
    }
    CHECK_EQ_INT(pel_note_verifier_format(L.key.name, L.key.pk, vk, sizeof vk), 0);
    CHECK(pel_buf_append(&key, vk, strlen(vk)) == 0 && pel_buf_append(&key, "\n", 1) == 0);
    CHECK(strcmp(vk, "pel-devnet/pel+412fcbd5+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c") == 0);
    if (write) {
        write_file(VECTORS "/key.txt", &key);
        write_file(VECTORS "/proven.txt", &desc);
        printf("  wrote %zu vectors to %s\n", sizeof vectors / sizeof vectors[0], VECTORS);
    } else {
        CHECK(file_eq(VECTORS "/key.txt", &key));
        CHECK(file_eq(VECTORS "/proven.txt", &desc));
    }
    pel_buf_free(&key);
    pel_buf_free(&desc);
    pel_buf_free(&t);
    pel_proof_free(&p);
}

int main(void)
{
    if (pel_crypto_init()) return 1;
    build_ledger();
    RUN(test_tx_proofs);
    RUN(test_state_proofs);
    RUN(test_consistency_proofs);
    RUN(test_tamper);
    RUN(test_wrong_key);
    RUN(test_semantic_faults);
    RUN(test_equivocation);
    RUN(test_parse_strict);
    RUN(test_note_escapes);
    RUN(test_vectors);
    free_ledger();
    return TEST_END("test_proof");
}
