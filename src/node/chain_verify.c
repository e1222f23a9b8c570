/*
 * chain_verify.c - pel_chain_verify: replay the whole committed chain from
 * genesis with the sequential engine in memory and compare everything the
 * store says with what the replay computes (chain.h). This is what the
 * crash test runs after every kill -9, and what `pel admin verify` runs.
 */
#include "node/chain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/hash.h"
#include "node/objindex.h"
#include "state/history.h"
#include "state/smt.h"

typedef struct replay {
    pel_chain *c;
    pel_memstate *ms;
    pel_engine *seq;
    int trees;
    pel_store *scratch;       /* the replay's own state tree (trees) */
    char scratch_dir[64];
    pel_history_frontier hist;/* the replay's own history tree */
    pel_chain_head head;      /* the replayed head */
    pel_keycache *keys;       /* senders' keys checked once (the subgroup
                                 check costs as much as a signature) */
    pel_addr *addrs;          /* every address seen, for the supply check */
    size_t n_addrs, cap_addrs;
    char *err;
    size_t errlen;
} replay;

static int bad(replay *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (r->errlen) vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return PEL_ECORRUPT;
}

static int add_addr(replay *r, const pel_addr *a)
{
    if (r->n_addrs == r->cap_addrs) {
        size_t nc = r->cap_addrs ? 2 * r->cap_addrs : 256;
        pel_addr *na = realloc(r->addrs, nc * sizeof *na);
        if (!na) return PEL_ENOMEM;
        r->addrs = na;
        r->cap_addrs = nc;
    }
    r->addrs[r->n_addrs++] = *a;
    return 0;
}

/* scratch_update - the replay's state tree to version `height`. */
static int scratch_update(replay *r, uint64_t height, const pel_writeset *ws, uint8_t root[32])
{
    pel_store_txn *w;
    int rc = pel_store_begin(r->scratch, &w);
    if (rc) return rc;
    rc = pel_smt_update(r->scratch, w, height ? height - 1 : PEL_SMT_NONE, height, ws, NULL, root);
    if (!rc && height >= 2) rc = pel_smt_prune(r->scratch, w, height - 1, NULL);
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

static int open_scratch(replay *r)
{
    const char *tmp = getenv("TMPDIR");
    pel_store_opts so = pel_store_defaults();
    so.scratch = 1;
    so.map_size = 1ull << 36;
    snprintf(r->scratch_dir, sizeof r->scratch_dir, "%.40s/pel-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(r->scratch_dir)) { r->scratch_dir[0] = 0; return PEL_EIO; }
    return pel_store_open(r->scratch_dir, &so, &r->scratch);
}

static void close_scratch(replay *r)
{
    pel_store_close(r->scratch);
    if (!r->scratch_dir[0]) return;
    char path[128];
    const char *files[] = { "data.mdb", "lock.mdb" };
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", r->scratch_dir, files[i]);
        unlink(path);
    }
    rmdir(r->scratch_dir);
}

static int start(replay *r)
{
    pel_writeset ws;
    uint8_t *vals;
    pel_block_header h;
    uint8_t root[32];
    const pel_genesis *g = pel_chain_genesis(r->c);
    int rc = pel_genesis_writes(g, &ws, &vals);
    if (rc) return rc;
    rc = pel_memstate_apply(r->ms, &ws);
    if (!rc) rc = pel_chain_genesis_header(g, &ws, r->trees, &h);
    if (!rc && r->trees) rc = open_scratch(r);
    if (!rc && r->trees) rc = scratch_update(r, 0, &ws, root);
    if (!rc && r->trees && memcmp(root, h.state_root, 32)) rc = PEL_ECORRUPT;
    free(ws.w);
    free(vals);
    for (size_t i = 0; !rc && i < g->n_accounts; i++) rc = add_addr(r, &g->accounts[i].addr);
    if (!rc) r->head = pel_chain_head_after(&h);
    return rc;
}

static int check_receipts(replay *r, uint64_t height, const pel_block_result *res)
{
    pel_buf stored, mine;
    int rc = 0;
    pel_buf_init(&stored);
    pel_buf_init(&mine);
    for (uint32_t i = 0; !rc && i < res->n; i++) {
        pel_buf_reset(&mine);
        rc = pel_receipt_encode(&res->receipts[i], &mine);
        if (!rc) rc = pel_chain_receipt(r->c, height, i, &stored);
        if (rc == PEL_ENOTFOUND) rc = bad(r, "block %llu: receipt %u missing", (unsigned long long)height, i);
        else if (!rc && (stored.len != mine.len || memcmp(stored.data, mine.data, mine.len)))
            rc = bad(r, "block %llu: receipt %u differs from the replay", (unsigned long long)height, i);
    }
    pel_buf_free(&stored);
    pel_buf_free(&mine);
    return rc;
}

static int check_index(replay *r, uint64_t height, const pel_tx *txs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t h;
        uint32_t idx;
        int rc = pel_chain_tx_location(r->c, txs[i].id, &h, &idx);
        if (rc == PEL_ENOTFOUND) return bad(r, "block %llu: tx %u not in the index", (unsigned long long)height, i);
        if (rc) return rc;
        if (h > height || (h == height && idx > i))
            return bad(r, "block %llu: index of tx %u points later", (unsigned long long)height, i);
    }
    return 0;
}

static int compare_header(replay *r, const pel_block_header *got, const pel_block_header *want)
{
    unsigned long long h = (unsigned long long)want->height;
    if (got->height != want->height) return bad(r, "height %llu: stored block says %llu", h, (unsigned long long)got->height);
    if (memcmp(got->prev_hash, want->prev_hash, 32)) return bad(r, "block %llu: prev_hash does not link", h);
    if (memcmp(got->tx_root, want->tx_root, 32)) return bad(r, "block %llu: tx_root differs", h);
    if (memcmp(got->receipts_root, want->receipts_root, 32)) return bad(r, "block %llu: receipts_root differs", h);
    if (memcmp(got->state_root, want->state_root, 32)) return bad(r, "block %llu: state_root differs from the replay", h);
    if (got->history_size != want->history_size) return bad(r, "block %llu: history_size differs", h);
    if (memcmp(got->history_root, want->history_root, 32)) return bad(r, "block %llu: history_root differs from the replay", h);
    if (got->timestamp_ms < r->head.timestamp_ms) return bad(r, "block %llu: timestamp goes back", h);
    if (pel_block_header_verify(got)) return bad(r, "block %llu: proposer signature invalid", h);
    return 0;
}

/* The accounts the supply check sums: every sender, and every address a
 * transfer event names (plain transfers and module payments such as
 * royalties emit them for each credit). */
static int track_addrs(replay *r, const pel_tx *txs, const pel_receipt *rcpts, uint32_t n)
{
    int rc = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
        pel_dec d;
        rc = add_addr(r, &txs[i].from);
        pel_dec_init(&d, rcpts[i].events, rcpts[i].events_len);
        while (!rc && d.pos < d.len) {
            const uint8_t *ev;
            size_t len;
            pel_addr from, to;
            uint64_t amount;
            if (pel_dec_bytes(&d, UINT32_MAX, &ev, &len)) break;
            if (!pel_ledger_transfer_event(ev, len, &from, &to, &amount)) continue;
            rc = add_addr(r, &from);
            if (!rc) rc = add_addr(r, &to);
        }
    }
    return rc;
}

/* replay_roots - the roots the block must carry, from the replay's own
 * trees (or the chained digest on a chain without trees). */
static int replay_roots(replay *r, const pel_tx *const *txs, const pel_block_result *res,
                        pel_block_header *want)
{
    uint8_t wd[32];
    memcpy(want->prev_hash, r->head.hash, 32);
    if (!r->trees) {
        int rc = pel_writeset_digest(&res->block_writes, wd);
        return rc ? rc : pel_state_chain(r->head.state_root, wd, want->state_root);
    }
    uint8_t (*leaves)[32] = malloc((res->n ? res->n : 1) * sizeof *leaves);
    if (!leaves) return PEL_ENOMEM;
    int rc = pel_chain_leaves(want->height, txs, res, leaves);
    if (!rc) rc = pel_history_check_append(pel_chain_store(r->c), &r->hist,
                                           (const uint8_t (*)[32])leaves, res->n);
    free(leaves);
    if (rc == PEL_ECORRUPT)
        return bad(r, "block %llu: the stored history tree differs from the replay's",
                   (unsigned long long)want->height);
    if (!rc) pel_history_frontier_root(&r->hist, want->history_root);
    if (!rc) rc = scratch_update(r, want->height, &res->block_writes, want->state_root);
    return rc;
}

/* 0 when note verifies with key under the chain's origin (got filled). */
static int verify_with(replay *r, const uint8_t *key, const pel_buf *note, pel_checkpoint *got)
{
    pel_note_verifier v;
    if (!key || pel_note_verifier_from_key(pel_chain_origin(r->c), key, &v)) return -1;
    return pel_checkpoint_verify((const char *)note->data, note->len, &v, got) ? -1 : 0;
}

/* The stored checkpoint of a block: signed under the chain's origin by the
 * block's proposer, or by this node (a raft cluster member signs its own
 * checkpoint of every block it applies), and saying what the header says. */
static int check_checkpoint(replay *r, const pel_block_header *h)
{
    pel_buf note;
    pel_checkpoint got, want;
    unsigned long long ht = (unsigned long long)h->height;
    pel_buf_init(&note);
    int rc = pel_chain_checkpoint(r->c, h->height, &note);
    if (rc == PEL_ENOTFOUND) rc = bad(r, "block %llu: checkpoint missing", ht);
    else if (!rc && verify_with(r, h->proposer, &note, &got) &&
             verify_with(r, pel_chain_signer(r->c), &note, &got))
        rc = bad(r, "block %llu: checkpoint does not verify with the proposer's or this node's key", ht);
    pel_buf_free(&note);
    if (rc) return rc;
    pel_chain_checkpoint_of(r->c, h, &want);
    if (memcmp(&got, &want, sizeof got)) return bad(r, "block %llu: checkpoint differs from the header", ht);
    return 0;
}

/* The node's stored state tree at this height, while retained. */
static int check_stored_version(replay *r, const pel_block_header *h)
{
    uint8_t root[32];
    int rc = pel_smt_root(pel_chain_store(r->c), h->height, root);
    if (rc == PEL_ESMT_PRUNED) return 0;
    if (rc) return bad(r, "block %llu: state tree version unreadable (%s)", (unsigned long long)h->height, pel_strerror(rc));
    if (memcmp(root, h->state_root, 32))
        return bad(r, "block %llu: stored state tree root differs from the header", (unsigned long long)h->height);
    return 0;
}

/* Replay one block: decode, execute, compare, apply. */
static int replay_block(replay *r, uint64_t height, const pel_buf *rec)
{
    pel_block_header got, want;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, n = 0;
    pel_tx *txs = NULL;
    const pel_tx **ptrs = NULL;
    pel_block_result res;
    int have_res = 0;
    int rc = pel_block_record_decode(rec->data, rec->len, &got, &raw, &lens, &n);
    if (rc) return bad(r, "block %llu: record does not decode (%s)", (unsigned long long)height, pel_strerror(rc));
    txs = calloc(n ? n : 1, sizeof *txs);
    ptrs = calloc(n ? n : 1, sizeof *ptrs);
    if (!txs || !ptrs) { rc = PEL_ENOMEM; goto out; }
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (pel_tx_decode(raw[i], lens[i], &txs[i]) || pel_tx_verify_cached(&txs[i], r->keys))
            rc = bad(r, "block %llu: tx %u malformed or badly signed", (unsigned long long)height, i);
        ptrs[i] = &txs[i];
    }
    pel_state st = pel_memstate_reader(r->ms);
    if (!rc) rc = pel_chain_execute(r->seq, &st, &pel_chain_genesis(r->c)->params, height,
                                     got.timestamp_ms, ptrs, n, &res);
    have_res = rc == 0;
    if (!rc) rc = pel_chain_fill_header(&r->head, ptrs, &res, got.timestamp_ms, &want);
    if (!rc) rc = replay_roots(r, ptrs, &res, &want);
    if (!rc) rc = compare_header(r, &got, &want);
    if (!rc && r->trees) rc = check_checkpoint(r, &got);
    if (!rc && r->trees) rc = check_stored_version(r, &got);
    if (!rc) rc = check_receipts(r, height, &res);
    if (!rc) rc = check_index(r, height, txs, n);
    if (!rc) rc = pel_memstate_apply(r->ms, &res.block_writes);
    if (!rc) rc = track_addrs(r, txs, res.receipts, n);
    if (!rc) r->head = pel_chain_head_after(&got);
out:
    if (have_res) pel_block_result_free(&res);
    free(txs); free(ptrs); free(raw); free(lens);
    return rc;
}

/* The stored STATE table, hashed as pel_memstate_digest hashes a memstate. */
typedef struct state_hash { pel_hasher h; size_t n; } state_hash;

static int hash_entry(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    state_hash *s = arg;
    uint8_t len[4];
    if (klen != PEL_KEY_LEN) return PEL_ECORRUPT;
    pel_hasher_update(&s->h, k, klen);
    pel_le_store(len, vlen, 4);
    pel_hasher_update(&s->h, len, 4);
    pel_hasher_update(&s->h, v, vlen);
    s->n++;
    return 0;
}

static int cmp_addr(const void *a, const void *b) { return memcmp(a, b, PEL_ADDR_LEN); }

/* The node's trees at the head: the history tree's root, a walk of the
 * state tree (every stored hash rechecked), and a from-scratch root over
 * the stored state. */
static int check_final_trees(replay *r)
{
    uint8_t got[32], want[32];
    pel_store *s = pel_chain_store(r->c);
    uint64_t size = 0;
    int rc = pel_history_size(s, &size);
    if (rc || size != r->hist.size)
        return bad(r, "the stored history tree holds %llu transactions, the replay %llu",
                   (unsigned long long)size, (unsigned long long)r->hist.size);
    pel_history_frontier_root(&r->hist, want);
    if (pel_history_root(s, size, got) || memcmp(got, want, 32))
        return bad(r, "the stored history tree's root differs from the replay");
    rc = pel_smt_walk(s, r->head.height, NULL, NULL, got);
    if (rc || memcmp(got, r->head.state_root, 32))
        return bad(r, "the stored state tree at the head fails its walk (%s)", rc ? pel_strerror(rc) : "root differs");
    rc = pel_chain_rebuild_state_root(r->c, got, NULL);
    if (rc) return rc;
    if (memcmp(got, r->head.state_root, 32))
        return bad(r, "a from-scratch state tree over the stored state differs from the head's root");
    return 0;
}

static int check_final(replay *r)
{
    state_hash s = { .n = 0 };
    uint8_t got[32], want[32];
    int rc = pel_hasher_init(&s.h, "PEL/memstate");
    if (!rc) rc = pel_store_scan(pel_chain_store(r->c), PEL_T_STATE, NULL, 0, NULL, 0, hash_entry, &s);
    if (!rc) rc = pel_hasher_final(&s.h, got);
    if (!rc) rc = pel_memstate_digest(r->ms, want);
    if (rc) return rc;
    if (s.n != pel_memstate_count(r->ms) || memcmp(got, want, 32))
        return bad(r, "stored state differs from the replay (%zu keys stored, %zu replayed)",
                   s.n, pel_memstate_count(r->ms));
    /* supply: every balance + the fee pool equals the genesis supply */
    if (r->n_addrs) qsort(r->addrs, r->n_addrs, sizeof *r->addrs, cmp_addr);
    pel_state st = pel_memstate_reader(r->ms);
    unsigned __int128 total = 0;
    for (size_t i = 0; i < r->n_addrs; i++) {
        pel_key k;
        pel_val v;
        if (i && memcmp(&r->addrs[i], &r->addrs[i - 1], PEL_ADDR_LEN) == 0) continue;
        pel_key_balance(&r->addrs[i], &k);
        if (pel_state_get(&st, &k, &v) == 0 && v.len == 8) total += pel_le_load(v.p, 8);
    }
    pel_key kp;
    pel_val v;
    pel_key_fee_pool(&kp);
    if (pel_state_get(&st, &kp, &v) == 0 && v.len == 8) total += pel_le_load(v.p, 8);
    if (total != pel_chain_genesis(r->c)->supply)
        return bad(r, "total supply is not conserved (balances + fee pool != genesis supply)");
    return 0;
}

int pel_chain_verify(pel_chain *c, void (*progress)(void *arg, uint64_t height), void *arg,
                     char *err, size_t errlen)
{
    replay r = { .c = c, .err = err, .errlen = errlen, .trees = pel_chain_trees(c) };
    pel_history_frontier_init(&r.hist);
    pel_engine_opts o = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    pel_buf rec;
    pel_buf_init(&rec);
    if (errlen) err[0] = 0;
    int rc = pel_memstate_new(&r.ms);
    if (!rc) rc = pel_keycache_new(&r.keys);
    if (!rc) rc = pel_engine_new(&o, &r.seq);
    if (!rc) rc = start(&r);
    uint64_t top = pel_chain_get_head(c).height;
    for (uint64_t h = 1; !rc && h <= top; h++) {
        rc = pel_chain_block(c, h, &rec);
        if (rc == PEL_ENOTFOUND) rc = bad(&r, "block %llu missing (head is %llu)", (unsigned long long)h, (unsigned long long)top);
        if (!rc) rc = replay_block(&r, h, &rec);
        if (!rc && progress) progress(arg, h);
    }
    if (!rc && pel_chain_block(c, top + 1, &rec) != PEL_ENOTFOUND)
        rc = bad(&r, "a block beyond the head (%llu) is stored", (unsigned long long)top);
    if (!rc) {
        pel_chain_head sh = pel_chain_get_head(c);
        if (memcmp(sh.hash, r.head.hash, 32) || memcmp(sh.state_root, r.head.state_root, 32))
            rc = bad(&r, "stored head differs from the last block");
    }
    if (!rc) rc = check_final(&r);
    if (!rc && r.trees) rc = check_final_trees(&r);
    if (!rc) rc = pel_objindex_check(pel_chain_store(c), err, errlen);
    if (rc && errlen && !err[0]) snprintf(err, errlen, "verification failed: %s", pel_strerror(rc));
    pel_buf_free(&rec);
    pel_engine_free(r.seq);
    pel_memstate_free(r.ms);
    pel_keycache_free(r.keys);
    close_scratch(&r);
    free(r.addrs);
    return rc;
}
