/*
 * chain.c - the committed chain: genesis, build, commit, queries and the
 * full replay check (records in chain.h).
 */
#include "node/chain.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/hash.h"
#include "core/log.h"
#include "exec/pool.h"
#include "node/objindex.h"
#include "state/history.h"
#include "state/smt.h"

struct pel_chain {
    pel_store *store;
    const pel_genesis *g;
    pel_chain_opts o;
    pel_pool *pool;              /* state-tree updates (committer's thread only) */
    char origin[PEL_CKPT_ORIGIN_MAX + 1];
    pthread_mutex_t mu;          /* guards head and times */
    pel_chain_head head;
    pel_chain_commit_times times;   /* the last commit's */
    pel_chain_commit_times cur;     /* the commit under way (committer's thread only) */
};

/* ---- where a commit's time goes ---- */

static void times_start(pel_chain *c)
{
    memset(&c->cur, 0, sizeof c->cur);
}

/* Count the time since *t0 to part, and restart *t0. */
static void times_add(pel_chain *c, int part, uint64_t *t0)
{
    uint64_t now = pel_mono_us();
    c->cur.us[part] += now - *t0;
    *t0 = now;
}

static void times_publish(pel_chain *c)
{
    pthread_mutex_lock(&c->mu);
    c->times = c->cur;
    pthread_mutex_unlock(&c->mu);
}

void pel_chain_last_commit_times(pel_chain *c, pel_chain_commit_times *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->times;
    pthread_mutex_unlock(&c->mu);
}

const char *pel_chain_commit_part(int part)
{
    static const char *const names[PEL_CT_PARTS] = { "state tree", "history", "prune", "blocks",
                                                     "tx index", "state", "object index", "other",
                                                     "sync" };
    return part >= 0 && part < PEL_CT_PARTS ? names[part] : "?";
}

pel_chain_opts pel_chain_defaults(void)
{
    pel_chain_opts o = { .store = pel_store_defaults(), .trees = 1,
                         .state_versions_kept = PEL_CHAIN_DEFAULT_VERSIONS,
                         .state_prune_interval = PEL_CHAIN_DEFAULT_PRUNE_INTERVAL,
                         .tree_threads = 2, .sk = NULL };
    return o;
}

#define HEAD_LEN (8 + 32 + 32 + 8 + 8)

void pel_chain_height_key(uint64_t height, uint8_t out[8])
{
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(height >> (56 - 8 * i));
}

static void loc_key(uint64_t height, uint32_t index, uint8_t out[12])
{
    pel_chain_height_key(height, out);
    for (int i = 0; i < 4; i++) out[8 + i] = (uint8_t)(index >> (24 - 8 * i));
}

static void head_encode(const pel_chain_head *h, uint8_t out[HEAD_LEN])
{
    pel_le_store(out, h->height, 8);
    memcpy(out + 8, h->hash, 32);
    memcpy(out + 40, h->state_root, 32);
    pel_le_store(out + 72, h->history_size, 8);
    pel_le_store(out + 80, h->timestamp_ms, 8);
}

static int head_decode(const uint8_t *p, size_t len, pel_chain_head *h)
{
    if (len != HEAD_LEN) return PEL_ECORRUPT;
    h->height = pel_le_load(p, 8);
    memcpy(h->hash, p + 8, 32);
    memcpy(h->state_root, p + 40, 32);
    h->history_size = pel_le_load(p + 72, 8);
    h->timestamp_ms = pel_le_load(p + 80, 8);
    return 0;
}

/* ---- writing one block ---- */

static int put_block_record(pel_store_txn *w, const pel_block_header *h, const pel_tx *const *txs)
{
    pel_buf b;
    uint8_t k[8];
    pel_buf_init(&b);
    int rc = pel_block_header_encode(h, 1, &b);
    if (!rc) rc = pel_enc_u32(&b, h->tx_count);
    for (uint32_t i = 0; !rc && i < h->tx_count; i++) rc = pel_enc_bytes(&b, txs[i]->raw, txs[i]->size);
    pel_chain_height_key(h->height, k);
    if (!rc) rc = pel_store_put(w, PEL_T_BLOCKS, k, 8, b.data, b.len);
    pel_buf_free(&b);
    return rc;
}

static int put_tx_index(pel_store_txn *w, uint64_t height, const pel_tx *const *txs,
                        const pel_receipt *rcpts, uint32_t n)
{
    pel_buf b;
    uint8_t loc[12];
    int rc = 0;
    pel_buf_init(&b);
    for (uint32_t i = 0; !rc && i < n; i++) {   /* receipts: keys grow with height */
        loc_key(height, i, loc);
        pel_buf_reset(&b);
        rc = pel_receipt_encode(&rcpts[i], &b);
        if (!rc) rc = pel_store_append(w, PEL_T_RECEIPTS, loc, 12, b.data, b.len);
        if (rc == PEL_EEXIST) rc = pel_store_put(w, PEL_T_RECEIPTS, loc, 12, b.data, b.len);
    }
    for (uint32_t i = 0; !rc && i < n; i++) {   /* ids: the first inclusion stays */
        loc_key(height, i, loc);
        rc = pel_store_put_new(w, PEL_T_TXS, txs[i]->id, 32, loc, 12);
        if (rc == PEL_EEXIST) rc = 0;
    }
    pel_buf_free(&b);
    return rc;
}

static int put_writes(pel_store_txn *w, const pel_writeset *ws)
{
    int rc = 0;
    for (uint32_t i = 0; !rc && i < ws->n; i++) {
        const pel_write *x = &ws->w[i];
        if (x->kind == PEL_W_PUT)
            rc = pel_store_put(w, PEL_T_STATE, x->key.b, PEL_KEY_LEN, x->val.p, x->val.len);
        else
            rc = pel_store_del(w, PEL_T_STATE, x->key.b, PEL_KEY_LEN);
    }
    return rc;
}

static int put_format(pel_store_txn *w)
{
    uint8_t enc[4];
    pel_le_store(enc, PEL_CHAIN_FORMAT, 4);
    return pel_store_put(w, PEL_T_META, "format", 6, enc, sizeof enc);
}

/* format_value - a format record's value (chain.h) into *out: one this
 * binary reads, or an error that says why not (*out is set for a newer
 * format too). */
static int format_value(const uint8_t *v, size_t len, uint32_t *out, const char *what,
                        char *err, size_t errlen)
{
    uint64_t f = len == 4 ? pel_le_load(v, 4) : 0;
    if (f == 0) {
        snprintf(err, errlen, "%s's store format record is damaged (%zu bytes)", what, len);
        return PEL_ECORRUPT;
    }
    *out = (uint32_t)f;
    if (f > PEL_CHAIN_FORMAT) {
        snprintf(err, errlen, "%s has store format %llu, written by a newer PEL; this binary reads "
                 "formats up to %d: use a newer pel (this one could misread it)",
                 what, (unsigned long long)f, PEL_CHAIN_FORMAT);
        return PEL_EINVAL;
    }
    return 0;
}

int pel_chain_store_format(pel_store *s, uint32_t *f, char *err, size_t errlen)
{
    pel_buf b;
    pel_buf_init(&b);
    *f = 0;
    int rc = pel_store_get(s, PEL_T_META, "format", 6, &b);
    if (rc == 0) rc = format_value(b.data, b.len, f, "the data directory", err, errlen);
    else if (rc == PEL_ENOTFOUND) rc = 0;
    else snprintf(err, errlen, "cannot read the store format: %s", pel_strerror(rc));
    pel_buf_free(&b);
    return rc;
}

/* record_format - a store made before the format record gets it. */
static int record_format(pel_chain *c, char *err, size_t errlen)
{
    pel_store_txn *w;
    int rc = pel_store_begin(c->store, &w);
    if (!rc && (rc = put_format(w)) != 0) pel_store_abort(w);
    if (!rc) rc = pel_store_commit(w);
    if (rc) snprintf(err, errlen, "cannot record the store format: %s", pel_strerror(rc));
    else pel_log(PEL_LOG_INFO, "recorded store format %d in a store made before the format record",
                 PEL_CHAIN_FORMAT);
    return rc;
}

static int put_head(pel_store_txn *w, const pel_chain_head *h)
{
    uint8_t enc[HEAD_LEN];
    head_encode(h, enc);
    return pel_store_put(w, PEL_T_META, "head", 4, enc, sizeof enc);
}

pel_chain_head pel_chain_head_after(const pel_block_header *h)
{
    pel_chain_head nh;
    nh.height = h->height;
    if (pel_block_header_hash(h, nh.hash)) memset(nh.hash, 0, 32);
    memcpy(nh.state_root, h->state_root, 32);
    nh.history_size = h->history_size;
    nh.timestamp_ms = h->timestamp_ms;
    return nh;
}

/* ---- finishing a block at commit ---- */

void pel_chain_checkpoint_of(const pel_chain *c, const pel_block_header *h, pel_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->origin, c->origin, sizeof out->origin);
    out->size = h->history_size;
    memcpy(out->root, h->history_root, 32);
    out->height = h->height;
    memcpy(out->state_root, h->state_root, 32);
    out->timestamp_ms = h->timestamp_ms;
}

static int put_checkpoint(pel_chain *c, pel_store_txn *w, const pel_block_header *h)
{
    pel_checkpoint ck;
    pel_buf note;
    uint8_t k[8];
    if (!c->o.trees || !c->o.sk) return 0;
    pel_chain_checkpoint_of(c, h, &ck);
    pel_buf_init(&note);
    int rc = pel_checkpoint_sign(&ck, c->o.sk, &note);
    pel_chain_height_key(h->height, k);
    if (!rc) rc = pel_store_put(w, PEL_T_CHECKPOINTS, k, 8, note.data, note.len);
    pel_buf_free(&note);
    return rc;
}

/* The trees' part of a block: state tree to version h->height, history
 * tree by the block's leaves, roots into h; pruning of old versions. */
static int update_trees(pel_chain *c, pel_store_txn *w, const pel_chain_head *parent,
                        const pel_writeset *ws, const uint8_t (*leaves)[32],
                        pel_block_header *h, int genesis, int prune)
{
    uint64_t old = genesis ? PEL_SMT_NONE : parent->height, t0 = pel_mono_us();
    int rc = pel_smt_update(c->store, w, old, h->height, ws, c->pool, h->state_root);
    times_add(c, PEL_CT_STATE_TREE, &t0);
    if (!rc) rc = pel_history_append(w, genesis ? 0 : parent->history_size, leaves,
                                     h->tx_count, h->history_root);
    times_add(c, PEL_CT_HISTORY, &t0);
    uint64_t keep = c->o.state_versions_kept;
    uint64_t step = c->o.state_prune_interval ? c->o.state_prune_interval : 1;
    if (!rc && prune && keep && h->height >= keep) {
        uint64_t keep_from = h->height - keep + 1;
        keep_from -= keep_from % step;   /* in steps (chain.h): a no-op until the next one */
        if (keep_from) rc = pel_smt_prune(c->store, w, keep_from, NULL);
        times_add(c, PEL_CT_PRUNE, &t0);
    }
    return rc;
}

/* finish - the fields that depend on the committed parent: prev_hash, the
 * roots, the signature. Genesis has its header already. prune: also prune
 * the state tree's old versions (the last block of a group does it once
 * for all of them). */
static int finish(pel_chain *c, pel_store_txn *w, const pel_chain_head *parent,
                  const pel_writeset *ws, const uint8_t (*leaves)[32], pel_block_header *h,
                  const uint8_t *sk, int genesis, int prune)
{
    uint8_t expect[32], wd[32];
    if (genesis) memcpy(expect, h->state_root, 32);
    else memcpy(h->prev_hash, parent->hash, 32);
    if (c->o.trees) {
        int rc = update_trees(c, w, parent, ws, leaves, h, genesis, prune);
        if (rc) return rc;
        if (genesis && memcmp(expect, h->state_root, 32)) return PEL_ECORRUPT;
    } else if (!genesis) {
        int rc = pel_writeset_digest(ws, wd);
        if (!rc) rc = pel_state_chain(parent->state_root, wd, h->state_root);
        if (rc) return rc;
    }
    uint64_t t0 = pel_mono_us();
    int rc = sk ? pel_block_header_sign(h, sk) : 0;
    times_add(c, PEL_CT_OTHER, &t0);
    return rc;
}

/* Blocks' writes over the store: the state after a run of consecutive
 * uncommitted blocks, ws[0] the newest (the store may or may not hold
 * some of their writes yet: a block the store holds, it holds with every
 * block before it, and the newer writes win either way, so both agree).
 * Builds on uncommitted parents read it; the commit reads it for the
 * object index. */
typedef struct overlay { pel_state base; const pel_writeset *const *ws; size_t n; } overlay;

static const pel_write *ws_find(const pel_writeset *ws, const pel_key *key)
{
    uint32_t lo = 0, hi = ws->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = pel_key_cmp(&ws->w[mid].key, key);
        if (c == 0) return &ws->w[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int overlay_get(const void *ctx, const pel_key *key, pel_val *out)
{
    const overlay *o = ctx;
    for (size_t i = 0; i < o->n; i++) {
        const pel_write *w = ws_find(o->ws[i], key);
        if (!w) continue;
        if (w->kind == PEL_W_DEL) { out->p = NULL; out->len = 0; return PEL_ENOTFOUND; }
        *out = w->val;
        return 0;
    }
    return pel_state_get(&o->base, key, out);
}

/* adopt - a replicated block: this node's finished header must equal the
 * proposer's (same hash over the unsigned form, proposer included); then
 * it carries the proposer's signature. */
static int adopt(pel_block_header *fin, const pel_block_header *expect)
{
    uint8_t mine[32], theirs[32];
    memcpy(fin->proposer, expect->proposer, sizeof fin->proposer);
    int rc = pel_block_header_hash(fin, mine);
    if (!rc) rc = pel_block_header_hash(expect, theirs);
    if (rc) return rc;
    if (memcmp(mine, theirs, 32)) return PEL_EDIVERGED;
    memcpy(fin->sig, expect->sig, sizeof fin->sig);
    return 0;
}

/* The first half of writing a block: begin the store transaction, check
 * the block follows the head, finish the header (trees updated in the
 * transaction). expect (NULL: none) is the proposer's final header for a
 * replicated block (pel_chain_commit_as). On failure nothing is open. */
static int prepare(pel_chain *c, const pel_block_header *h, const pel_writeset *ws,
                   const uint8_t (*leaves)[32], const uint8_t *sk, int genesis,
                   const pel_block_header *expect, pel_store_txn **w, pel_block_header *fin)
{
    pel_chain_head parent = pel_chain_get_head(c);
    if (!genesis && h->height != parent.height + 1) return PEL_EINVAL;
    *fin = *h;
    times_start(c);
    int rc = pel_store_begin(c->store, w);
    if (rc) return rc;
    rc = finish(c, *w, &parent, ws, leaves, fin, expect ? NULL : sk, genesis, 1);
    if (!rc && expect) rc = adopt(fin, expect);
    if (rc) pel_store_abort(*w);
    return rc;
}

/* Everything of a finished block but the trees into w: block record,
 * transaction index, receipts, state, object index, head (nh, the head
 * after it), checkpoint. post[0..npost) are the writes of this block (post[0]) and of the
 * uncommitted blocks before it in the same transaction, newest first: the
 * object index reads the state after the block through them. */
static int write_block(pel_chain *c, pel_store_txn *w, const pel_block_header *fin,
                       const pel_chain_head *nh, const pel_tx *const *txs,
                       const pel_receipt *rcpts, const pel_writeset *const *post, size_t npost,
                       int genesis)
{
    uint64_t t0 = pel_mono_us();
    int rc = put_block_record(w, fin, txs);
    times_add(c, PEL_CT_BLOCKS, &t0);
    if (!rc) rc = put_tx_index(w, fin->height, txs, rcpts, fin->tx_count);
    times_add(c, PEL_CT_TXINDEX, &t0);
    if (!rc) rc = put_writes(w, post[0]);
    times_add(c, PEL_CT_STATE, &t0);
    if (!rc) {
        overlay ov = { pel_store_state(c->store), post, npost };
        pel_state st = { overlay_get, &ov };
        rc = pel_objindex_block(w, &st, fin->height, rcpts, fin->tx_count);
    }
    times_add(c, PEL_CT_OBJINDEX, &t0);
    if (!rc && genesis) rc = pel_store_put(w, PEL_T_META, "objindex", 8,
                                           (uint8_t[]){ PEL_OBJINDEX_VERSION }, 1);
    if (!rc) rc = put_head(w, nh);
    if (!rc) rc = put_checkpoint(c, w, fin);
    if (!rc && genesis) rc = pel_store_put(w, PEL_T_META, "genesis", 7, c->g->hash, 32);
    if (!rc && genesis) rc = pel_store_put(w, PEL_T_META, "trees", 5, c->o.trees ? "\1" : "\0", 1);
    if (!rc && genesis) rc = put_format(w);
    times_add(c, PEL_CT_OTHER, &t0);
    return rc;
}

/* After the commit: h gets the fields finish() wrote into fin. Only
 * those: a producer building on this block may be reading its height,
 * time and history size at this moment (pel_chain_build_on), and those
 * must not be rewritten. */
static void settle_header(pel_block_header *h, const pel_block_header *fin)
{
    memcpy(h->prev_hash, fin->prev_hash, sizeof h->prev_hash);
    memcpy(h->state_root, fin->state_root, sizeof h->state_root);
    memcpy(h->history_root, fin->history_root, sizeof h->history_root);
    memcpy(h->proposer, fin->proposer, sizeof h->proposer);
    memcpy(h->sig, fin->sig, sizeof h->sig);
}

static void move_head(pel_chain *c, const pel_chain_head *nh)
{
    pthread_mutex_lock(&c->mu);
    c->head = *nh;
    pthread_mutex_unlock(&c->mu);
}

/* The second half: everything else into w, commit (w is gone either way),
 * move the head; h gets the fields finish() wrote into fin. */
static int complete(pel_chain *c, pel_store_txn *w, pel_block_header *h, const pel_block_header *fin,
                    const pel_tx *const *txs, const pel_receipt *rcpts, const pel_writeset *ws,
                    int genesis)
{
    pel_chain_head nh = pel_chain_head_after(fin);
    int rc = write_block(c, w, fin, &nh, txs, rcpts, &ws, 1, genesis);
    if (rc) { pel_store_abort(w); return rc; }
    uint64_t t0 = pel_mono_us();
    rc = pel_store_commit(w);
    if (rc) return rc;
    times_add(c, PEL_CT_SYNC, &t0);
    times_publish(c);
    settle_header(h, fin);
    move_head(c, &nh);
    return 0;
}

/* Write one block: prepare, then complete. */
static int commit_parts(pel_chain *c, pel_block_header *h, const pel_tx *const *txs,
                        const pel_receipt *rcpts, const pel_writeset *ws,
                        const uint8_t (*leaves)[32], const uint8_t *sk, int genesis,
                        const pel_block_header *expect)
{
    pel_store_txn *w;
    pel_block_header fin;
    int rc = prepare(c, h, ws, leaves, sk, genesis, expect, &w, &fin);
    return rc ? rc : complete(c, w, h, &fin, txs, rcpts, ws, genesis);
}

/* ---- genesis ---- */

int pel_chain_genesis_header(const pel_genesis *g, const pel_writeset *ws, int trees,
                             pel_block_header *h)
{
    uint8_t wd[32], zero[32] = { 0 };
    memset(h, 0, sizeof *h);
    h->timestamp_ms = g->time_ms;
    memcpy(h->prev_hash, g->hash, 32);
    int rc = pel_hash_tagged("PEL/tx-root", NULL, 0, h->tx_root);
    if (!rc) rc = pel_hash_tagged("PEL/receipts-root", NULL, 0, h->receipts_root);
    if (rc) return rc;
    if (trees) {
        pel_history_empty_root(h->history_root);
        return pel_smt_root_of(ws, h->state_root);
    }
    rc = pel_writeset_digest(ws, wd);
    if (!rc) rc = pel_state_chain(zero, wd, h->state_root);
    return rc;
}

static int write_genesis(pel_chain *c)
{
    pel_writeset ws;
    uint8_t *vals;
    pel_block_header h;
    int rc = pel_genesis_writes(c->g, &ws, &vals);
    if (rc) return rc;
    rc = pel_chain_genesis_header(c->g, &ws, c->o.trees, &h);
    if (!rc) rc = commit_parts(c, &h, NULL, NULL, &ws, NULL, NULL, 1, NULL);
    free(ws.w);
    free(vals);
    return rc;
}

/* The genesis block's checkpoint, signed by the first node that has a key
 * (genesis is written before any key is known in tools and tests). */
static int sign_genesis_checkpoint(pel_chain *c)
{
    pel_buf rec, note;
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, n = 0;
    pel_store_txn *w;
    if (!c->o.trees || !c->o.sk) return 0;
    pel_buf_init(&note);
    int rc = pel_chain_checkpoint(c, 0, &note);
    pel_buf_free(&note);
    if (rc != PEL_ENOTFOUND) return rc;
    pel_buf_init(&rec);
    rc = pel_chain_block(c, 0, &rec);
    if (!rc) rc = pel_block_record_decode(rec.data, rec.len, &h, &raw, &lens, &n);
    free(raw);
    free(lens);
    pel_buf_free(&rec);
    if (!rc) rc = pel_store_begin(c->store, &w);
    if (rc) return rc;
    rc = put_checkpoint(c, w, &h);
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

/* The trees must be exactly as large as the head says (they commit with
 * it; anything else is damage). */
static int check_trees(pel_chain *c, char *err, size_t errlen)
{
    uint64_t size = 0, floor = 0, latest = 0;
    uint8_t root[32];
    int rc = pel_history_size(c->store, &size);
    if (!rc && size != c->head.history_size) {
        snprintf(err, errlen, "the history tree holds %llu transactions, the head says %llu",
                 (unsigned long long)size, (unsigned long long)c->head.history_size);
        return PEL_ECORRUPT;
    }
    if (!rc) rc = pel_smt_versions(c->store, &floor, &latest);
    if (!rc && latest != c->head.height) {
        snprintf(err, errlen, "the state tree is at version %llu, the head at height %llu",
                 (unsigned long long)latest, (unsigned long long)c->head.height);
        return PEL_ECORRUPT;
    }
    if (!rc) rc = pel_smt_root(c->store, latest, root);
    if (!rc && memcmp(root, c->head.state_root, 32)) {
        snprintf(err, errlen, "the state tree's root is not the head's state root");
        return PEL_ECORRUPT;
    }
    if (rc) snprintf(err, errlen, "cannot read the trees: %s", pel_strerror(rc));
    return rc;
}

static int check_mode(pel_chain *c, char *err, size_t errlen)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(c->store, PEL_T_META, "trees", 5, &b);
    int trees = rc == 0 && b.len == 1 && b.data[0] == 1;
    pel_buf_free(&b);
    if (rc && rc != PEL_ENOTFOUND) return rc;
    if (trees == (c->o.trees != 0)) return 0;
    snprintf(err, errlen, trees ? "this chain keeps state and history trees; it cannot be opened without them"
                                : "this chain was created without state and history trees (by an older PEL, "
                                  "or as a benchmark baseline); create a new node directory with `pel init` "
                                  "(for `make run`: delete ./devnet)");
    return PEL_EINVAL;
}

/* Stores made before the object index get it built from their receipts. */
static int ensure_index(pel_chain *c, char *err, size_t errlen)
{
    uint64_t n;
    int rc = pel_objindex_ensure(c->store, &n);
    if (rc) snprintf(err, errlen, "cannot build the object index: %s", pel_strerror(rc));
    else if (n) pel_log(PEL_LOG_INFO, "built the object index from %llu stored receipts",
                        (unsigned long long)n);
    return rc;
}

static int load_or_init(pel_chain *c, char *err, size_t errlen)
{
    pel_buf b;
    uint32_t format;
    int rc = pel_chain_store_format(c->store, &format, err, errlen);   /* first: a newer layout is not read */
    if (rc) return rc;
    pel_buf_init(&b);
    rc = pel_store_get(c->store, PEL_T_META, "genesis", 7, &b);
    if (rc == PEL_ENOTFOUND) {
        pel_buf_free(&b);
        rc = write_genesis(c);
        if (rc) snprintf(err, errlen, "cannot write the genesis block: %s", pel_strerror(rc));
        if (!rc) rc = sign_genesis_checkpoint(c);
        return rc;
    }
    if (!rc && (b.len != 32 || memcmp(b.data, c->g->hash, 32) != 0)) {
        snprintf(err, errlen, "the data directory holds a chain with another genesis");
        rc = PEL_EINVAL;
    }
    if (!rc) rc = pel_store_get(c->store, PEL_T_META, "head", 4, &b);
    if (!rc) rc = head_decode(b.data, b.len, &c->head);
    if (rc && !err[0]) snprintf(err, errlen, "cannot read the chain head: %s", pel_strerror(rc));
    pel_buf_free(&b);
    if (!rc) rc = check_mode(c, err, errlen);
    if (!rc && c->o.trees) rc = check_trees(c, err, errlen);
    if (!rc && !c->o.store.read_only) rc = ensure_index(c, err, errlen);
    if (!rc && !format && !c->o.store.read_only) rc = record_format(c, err, errlen);
    if (!rc) rc = sign_genesis_checkpoint(c);
    if (rc && !err[0]) snprintf(err, errlen, "cannot open the chain: %s", pel_strerror(rc));
    return rc;
}

int pel_chain_open(const char *data_dir, const pel_genesis *g, const pel_chain_opts *o,
                   pel_chain **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen) err[0] = 0;
    pel_chain *c = calloc(1, sizeof *c);
    if (!c) return PEL_ENOMEM;
    c->g = g;
    c->o = o ? *o : pel_chain_defaults();
    pthread_mutex_init(&c->mu, NULL);
    int rc = pel_checkpoint_origin(g->params.chain_id, c->origin);
    if (rc) snprintf(err, errlen, "chain id '%s' cannot name checkpoints", g->params.chain_id);
    if (!rc && c->o.trees && c->o.tree_threads > 1) rc = pel_pool_new(c->o.tree_threads, &c->pool);
    if (!rc) pel_pool_name(c->pool, "pel-tree");
    if (!rc) rc = pel_store_open(data_dir, &c->o.store, &c->store);
    if (rc && !err[0]) snprintf(err, errlen, "cannot open the store in %s: %s", data_dir, pel_strerror(rc));
    if (!rc) rc = load_or_init(c, err, errlen);
    if (rc) { pel_chain_close(c); return rc; }
    *out = c;
    return 0;
}

void pel_chain_close(pel_chain *c)
{
    if (!c) return;
    pel_store_close(c->store);
    pel_pool_free(c->pool);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

pel_chain_head pel_chain_get_head(pel_chain *c)
{
    pthread_mutex_lock(&c->mu);
    pel_chain_head h = c->head;
    pthread_mutex_unlock(&c->mu);
    return h;
}

pel_store *pel_chain_store(pel_chain *c) { return c->store; }
const pel_genesis *pel_chain_genesis(const pel_chain *c) { return c->g; }

/* ---- building ---- */

static int roots(const pel_tx *const *txs, const pel_block_result *r, pel_block_header *h)
{
    pel_hasher hh;
    pel_buf b;
    int rc = pel_hasher_init(&hh, "PEL/tx-root");
    for (uint32_t i = 0; !rc && i < r->n; i++) pel_hasher_update(&hh, txs[i]->id, 32);
    if (!rc) rc = pel_hasher_final(&hh, h->tx_root);
    if (!rc) rc = pel_hasher_init(&hh, "PEL/receipts-root");
    pel_buf_init(&b);
    for (uint32_t i = 0; !rc && i < r->n; i++) {
        pel_buf_reset(&b);
        rc = pel_receipt_encode(&r->receipts[i], &b);
        if (!rc) pel_hasher_update(&hh, b.data, b.len);
    }
    pel_buf_free(&b);
    if (!rc) rc = pel_hasher_final(&hh, h->receipts_root);
    return rc;
}

int pel_chain_fill_header(const pel_chain_head *head, const pel_tx *const *txs,
                       const pel_block_result *r, uint64_t now_ms, pel_block_header *h)
{
    memset(h, 0, sizeof *h);
    h->height = head->height + 1;
    h->timestamp_ms = now_ms > head->timestamp_ms ? now_ms : head->timestamp_ms;
    h->tx_count = r->n;
    h->history_size = head->history_size + r->n;
    return roots(txs, r, h);
}

int pel_chain_leaves(uint64_t height, const pel_tx *const *txs, const pel_block_result *r,
                     uint8_t (*leaves)[32])
{
    for (uint32_t i = 0; i < r->n; i++) {
        uint8_t rd[32];
        int rc = pel_receipt_digest(&r->receipts[i], rd);
        if (rc) return rc;
        pel_history_leaf(height, i, txs[i]->id, rd, leaves[i]);
    }
    return 0;
}

int pel_chain_execute(pel_engine *e, const pel_state *st, const pel_chain_params *params,
                      uint64_t height, uint64_t time_ms, const pel_tx *const *txs, uint32_t n,
                      pel_block_result *r)
{
    pel_txdesc *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) return PEL_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        d[i].tx = txs[i];
        d[i].access = txs[i]->has_access ? &txs[i]->access : NULL;
    }
    pel_ledger_ctx lc = { .params = params, .height = height, .time_ms = time_ms };
    pel_executor ex = pel_ledger_executor(&lc);
    int rc = pel_engine_execute(e, st, d, n, &ex, r);
    free(d);
    return rc;
}

int pel_chain_build_after(pel_chain *c, pel_engine *e, const pel_built_block *const *pending,
                          size_t npending, const pel_tx *const *txs, uint32_t n, uint64_t now_ms,
                          const uint8_t *sk, pel_built_block *out)
{
    memset(out, 0, sizeof *out);
    pel_chain_head head = pel_chain_get_head(c);
    const pel_built_block *parent = npending ? pending[0] : NULL;
    for (size_t i = 1; i < npending; i++)
        if (pending[i]->header.height + i != parent->header.height) return PEL_EINVAL;
    const pel_writeset **ws = malloc((npending ? npending : 1) * sizeof *ws);
    if (!ws) return PEL_ENOMEM;
    for (size_t i = 0; i < npending; i++) ws[i] = &pending[i]->result.block_writes;
    if (parent) {
        /* An uncommitted parent: the committer may be finishing its header
         * right now (prev_hash, roots, signature: commit_parts), so read
         * only what it never rewrites. The hash and roots are the
         * committer's to fill in this block too. */
        memset(&head, 0, sizeof head);
        head.height = parent->header.height;
        head.timestamp_ms = parent->header.timestamp_ms;
        head.history_size = parent->header.history_size;
    }
    overlay ov = { pel_store_state(c->store), ws, npending };
    pel_state st = parent ? (pel_state){ overlay_get, &ov } : ov.base;
    /* hold the readers' snapshots: the parents may commit during execution */
    pel_store_hold_readers(c->store, 1);
    /* the block's time, known before execution (fill_header computes the same) */
    uint64_t ts = now_ms > head.timestamp_ms ? now_ms : head.timestamp_ms;
    uint64_t t0 = pel_mono_us(), t1;
    int rc = pel_chain_execute(e, &st, &c->g->params, head.height + 1, ts, txs, n, &out->result);
    pel_store_hold_readers(c->store, 0);
    free(ws);
    if (rc) return rc;
    out->build_us[PEL_BT_EXECUTE] = (t1 = pel_mono_us()) - t0;
    out->has_result = 1;
    out->txs = txs;
    out->sk = sk;
    rc = pel_chain_fill_header(&head, txs, &out->result, now_ms, &out->header);
    out->build_us[PEL_BT_HEADER] = (t0 = pel_mono_us()) - t1;
    if (!rc && c->o.trees) {
        out->leaves = malloc((n ? n : 1) * sizeof *out->leaves);
        rc = out->leaves ? pel_chain_leaves(out->header.height, txs, &out->result, out->leaves)
                         : PEL_ENOMEM;
        out->build_us[PEL_BT_LEAVES] = pel_mono_us() - t0;
    }
    if (rc) pel_built_block_free(out);
    return rc;
}

int pel_chain_build_on(pel_chain *c, pel_engine *e, const pel_built_block *parent,
                       const pel_tx *const *txs, uint32_t n, uint64_t now_ms, const uint8_t *sk,
                       pel_built_block *out)
{
    return pel_chain_build_after(c, e, &parent, parent ? 1 : 0, txs, n, now_ms, sk, out);
}

int pel_chain_build(pel_chain *c, pel_engine *e, const pel_tx *const *txs, uint32_t n,
                    uint64_t now_ms, const uint8_t *sk, pel_built_block *out)
{
    return pel_chain_build_on(c, e, NULL, txs, n, now_ms, sk, out);
}

int pel_chain_commit(pel_chain *c, pel_built_block *b)
{
    return commit_parts(c, &b->header, b->txs, b->result.receipts, &b->result.block_writes,
                        (const uint8_t (*)[32])b->leaves, b->sk, 0, NULL);
}

/* Group commit: the blocks one after another in one store transaction
 * (trees, records, index), one sync; the old state-tree versions are
 * pruned once, after the last. Random-key inserts (state, transaction
 * ids, index) touch a page each whether one block or several write into
 * it, so several blocks in one transaction write and sync fewer pages
 * than one transaction each. */
int pel_chain_commit_group(pel_chain *c, pel_built_block *const *bs, size_t n)
{
    if (n == 1) return pel_chain_commit(c, bs[0]);
    if (n == 0) return 0;
    pel_block_header *fin = malloc(n * sizeof *fin);
    const pel_writeset **post = malloc(n * sizeof *post);   /* post[n-1-i]: block i's */
    pel_store_txn *w = NULL;
    times_start(c);
    int rc = fin && post ? pel_store_begin(c->store, &w) : PEL_ENOMEM;
    pel_chain_head parent = pel_chain_get_head(c);
    for (size_t i = 0; !rc && i < n; i++) {
        const pel_built_block *b = bs[i];
        if (b->header.height != parent.height + 1) { rc = PEL_EINVAL; break; }
        fin[i] = b->header;
        post[n - 1 - i] = &b->result.block_writes;
        rc = finish(c, w, &parent, post[n - 1 - i], (const uint8_t (*)[32])b->leaves, &fin[i],
                    b->sk, 0, i + 1 == n);
        if (rc) break;
        parent = pel_chain_head_after(&fin[i]);          /* the next block's parent */
        rc = write_block(c, w, &fin[i], &parent, b->txs, b->result.receipts,
                         post + (n - 1 - i), i + 1, 0);
    }
    if (rc && w) pel_store_abort(w);
    uint64_t t0 = pel_mono_us();
    if (!rc) rc = pel_store_commit(w);
    if (!rc) {
        times_add(c, PEL_CT_SYNC, &t0);
        times_publish(c);
        for (size_t i = 0; i < n; i++) settle_header(&bs[i]->header, &fin[i]);
        move_head(c, &parent);
    }
    free(fin);
    free(post);
    return rc;
}

struct pel_chain_sealed {
    pel_store_txn *w;
    pel_block_header fin;
};

int pel_chain_seal_open(pel_chain *c, const pel_built_block *b, pel_block_header *out,
                        pel_chain_sealed **sealed)
{
    *sealed = NULL;
    pel_chain_sealed *s = malloc(sizeof *s);
    if (!s) return PEL_ENOMEM;
    int rc = prepare(c, &b->header, &b->result.block_writes, (const uint8_t (*)[32])b->leaves,
                     b->sk, 0, NULL, &s->w, &s->fin);
    if (rc) { free(s); return rc; }
    *out = s->fin;
    *sealed = s;
    return 0;
}

int pel_chain_seal_commit(pel_chain *c, pel_chain_sealed *s, pel_built_block *b)
{
    int rc = complete(c, s->w, &b->header, &s->fin, b->txs, b->result.receipts,
                      &b->result.block_writes, 0);
    free(s);
    return rc;
}

void pel_chain_seal_abort(pel_chain_sealed *s)
{
    if (!s) return;
    pel_store_abort(s->w);
    free(s);
}

int pel_chain_commit_as(pel_chain *c, pel_built_block *b, const pel_block_header *expect)
{
    if (b->header.height != expect->height) return PEL_EDIVERGED;
    return commit_parts(c, &b->header, b->txs, b->result.receipts, &b->result.block_writes,
                        (const uint8_t (*)[32])b->leaves, NULL, 0, expect);
}

void pel_built_block_free(pel_built_block *b)
{
    if (b->has_result) pel_block_result_free(&b->result);
    free(b->leaves);
    memset(b, 0, sizeof *b);
}

/* ---- queries ---- */

int pel_chain_block(pel_chain *c, uint64_t height, pel_buf *record)
{
    uint8_t k[8];
    pel_chain_height_key(height, k);
    return pel_store_get(c->store, PEL_T_BLOCKS, k, 8, record);
}

int pel_chain_tx_location(pel_chain *c, const uint8_t id[32], uint64_t *height, uint32_t *index)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(c->store, PEL_T_TXS, id, 32, &b);
    if (!rc && b.len != 12) rc = PEL_ECORRUPT;
    if (!rc) {
        *height = 0;
        for (int i = 0; i < 8; i++) *height = (*height << 8) | b.data[i];
        *index = 0;
        for (int i = 8; i < 12; i++) *index = (*index << 8) | b.data[i];
    }
    pel_buf_free(&b);
    return rc;
}

int pel_chain_checkpoint(pel_chain *c, uint64_t height, pel_buf *note)
{
    uint8_t k[8];
    pel_chain_height_key(height, k);
    return pel_store_get(c->store, PEL_T_CHECKPOINTS, k, 8, note);
}

int pel_chain_trees(const pel_chain *c) { return c->o.trees != 0; }
const char *pel_chain_origin(const pel_chain *c) { return c->origin; }
const uint8_t *pel_chain_signer(const pel_chain *c) { return c->o.sk ? c->o.sk + PEL_SEED_LEN : NULL; }

/* Every committed (key, value), for a from-scratch state root. */
typedef struct collect { pel_writeset ws; size_t cap; pel_buf vals; } collect;

static int collect_entry(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    collect *cl = arg;
    if (klen != PEL_KEY_LEN) return PEL_ECORRUPT;
    if (cl->ws.n == cl->cap) {
        size_t nc = cl->cap ? 2 * cl->cap : 1024;
        pel_write *nw = realloc(cl->ws.w, nc * sizeof *nw);
        if (!nw) return PEL_ENOMEM;
        cl->ws.w = nw;
        cl->cap = nc;
    }
    pel_write *w = &cl->ws.w[cl->ws.n++];
    memset(w, 0, sizeof *w);
    memcpy(w->key.b, k, PEL_KEY_LEN);
    w->kind = PEL_W_PUT;
    w->val.len = (uint32_t)vlen;
    w->val.p = (const uint8_t *)(uintptr_t)cl->vals.len;    /* offset until the end */
    return pel_buf_append(&cl->vals, v, vlen);
}

int pel_chain_rebuild_state_root(pel_chain *c, uint8_t root[32], pel_chain_head *head)
{
    collect cl = { .cap = 0 };
    pel_buf_init(&cl.vals);
    memset(root, 0, 32);
    pel_chain_head at = pel_chain_get_head(c);
    int rc = pel_store_scan(c->store, PEL_T_STATE, NULL, 0, NULL, 0, collect_entry, &cl);
    for (uint32_t i = 0; !rc && i < cl.ws.n; i++)
        cl.ws.w[i].val.p = cl.vals.data + (uintptr_t)cl.ws.w[i].val.p;
    if (!rc) rc = pel_smt_root_of(&cl.ws, root);
    if (!rc && head) *head = at;
    free(cl.ws.w);
    pel_buf_free(&cl.vals);
    return rc;
}

int pel_chain_receipt(pel_chain *c, uint64_t height, uint32_t index, pel_buf *out)
{
    uint8_t k[12];
    loc_key(height, index, k);
    return pel_store_get(c->store, PEL_T_RECEIPTS, k, 12, out);
}

int pel_chain_account(pel_chain *c, const pel_addr *a, uint64_t *balance, uint64_t *nonce)
{
    pel_key k[2];
    pel_key_balance(a, &k[0]);
    pel_key_nonce(a, &k[1]);
    const void *keys[2] = { k[0].b, k[1].b };
    uint64_t *to[2] = { balance, nonce };
    pel_buf v[2];
    int rcs[2];
    pel_buf_init(&v[0]);
    pel_buf_init(&v[1]);
    *balance = *nonce = 0;   /* an absent key reads 0 */
    int rc = pel_store_get_many(c->store, PEL_T_STATE, keys, PEL_KEY_LEN, 2, v, rcs);   /* one snapshot */
    for (int i = 0; !rc && i < 2; i++) {
        if (rcs[i] == 0 && v[i].len != 8) rc = PEL_ECORRUPT;
        else if (rcs[i] == 0) *to[i] = pel_le_load(v[i].data, 8);
    }
    pel_buf_free(&v[0]);
    pel_buf_free(&v[1]);
    return rc;
}

/* ---- Raft snapshots (chain.h) ---- */

#define SNAP_MAGIC "PELSNAP1"
#define SNAP_TAG "pel/snapshot"

typedef struct snap_out { pel_buf *out; pel_chain_head head; int has_head; } snap_out;

static int snap_record(void *arg, pel_table t, const uint8_t *k, size_t klen,
                       const uint8_t *v, size_t vlen)
{
    snap_out *so = arg;
    uint8_t rh[9];
    if (t == PEL_T_CHECKPOINTS) return 0;              /* node-local signatures */
    if (klen > UINT32_MAX || vlen > UINT32_MAX) return PEL_ERANGE;
    if (t == PEL_T_META && klen == 4 && !memcmp(k, "head", 4)) {
        if (head_decode(v, vlen, &so->head)) return PEL_ECORRUPT;
        so->has_head = 1;
    }
    rh[0] = (uint8_t)t;
    pel_le_store(rh + 1, klen, 4);
    pel_le_store(rh + 5, vlen, 4);
    int rc = pel_buf_append(so->out, rh, sizeof rh);
    if (!rc) rc = pel_buf_append(so->out, k, klen);
    if (!rc) rc = pel_buf_append(so->out, v, vlen);
    return rc;
}

int pel_chain_snapshot(pel_chain *c, pel_buf *out, pel_chain_head *at)
{
    snap_out so = { .out = out };
    size_t start = out->len;
    uint8_t hdr[PEL_CHAIN_SNAP_HDR];
    memset(hdr, 0, sizeof hdr);
    int rc = pel_buf_append(out, hdr, sizeof hdr);      /* filled below */
    if (!rc) rc = pel_store_dump(c->store, snap_record, &so);
    if (!rc && !so.has_head) rc = PEL_ECORRUPT;
    if (rc) { out->len = start; return rc; }
    uint8_t *h = out->data + start;
    const uint8_t *body = h + PEL_CHAIN_SNAP_HDR;
    size_t blen = out->len - start - PEL_CHAIN_SNAP_HDR;
    memcpy(h, SNAP_MAGIC, 8);
    pel_le_store(h + 8, PEL_CHAIN_SNAP_VERSION, 4);
    pel_le_store(h + 16, so.head.height, 8);
    memcpy(h + 24, so.head.hash, 32);
    memcpy(h + 56, so.head.state_root, 32);
    pel_le_store(h + 88, blen, 8);
    rc = pel_hash_tagged(SNAP_TAG, body, blen, h + 96);
    if (rc) { out->len = start; return rc; }
    if (at) *at = so.head;
    return 0;
}

int pel_chain_snapshot_head(const uint8_t *p, size_t len, uint64_t *height, uint8_t hash[32])
{
    if (len < PEL_CHAIN_SNAP_HDR || memcmp(p, SNAP_MAGIC, 8) ||
        pel_le_load(p + 8, 4) != PEL_CHAIN_SNAP_VERSION ||
        pel_le_load(p + 88, 8) != len - PEL_CHAIN_SNAP_HDR)
        return PEL_ECORRUPT;
    *height = pel_le_load(p + 16, 8);
    memcpy(hash, p + 24, 32);
    return 0;
}

/* One record of a snapshot body; *pos moves past it. 1: one read, 0: the
 * end, PEL_ECORRUPT: truncated or an unknown table. */
typedef struct snap_rec { pel_table t; const uint8_t *k, *v; size_t klen, vlen; } snap_rec;

static int next_record(const uint8_t *body, size_t blen, size_t *pos, snap_rec *r)
{
    if (*pos == blen) return 0;
    if (blen - *pos < 9) return PEL_ECORRUPT;
    const uint8_t *p = body + *pos;
    r->t = (pel_table)p[0];
    r->klen = (size_t)pel_le_load(p + 1, 4);
    r->vlen = (size_t)pel_le_load(p + 5, 4);
    if (p[0] >= PEL_T_COUNT || p[0] == PEL_T_CHECKPOINTS || r->klen == 0 ||
        blen - *pos - 9 < r->klen || blen - *pos - 9 - r->klen < r->vlen)
        return PEL_ECORRUPT;
    r->k = p + 9;
    r->v = r->k + r->klen;
    *pos += 9 + r->klen + r->vlen;
    return 1;
}

static int meta_is(const snap_rec *r, const char *key)
{
    return r->t == PEL_T_META && r->klen == strlen(key) && !memcmp(r->k, key, r->klen);
}

/* The snapshot is whole (digest), of a store format this binary reads, of
 * this chain (genesis, tree mode), and its head record is the header's.
 * *has_format: it carries a format record. */
static int snap_check(pel_chain *c, const uint8_t *p, size_t len, pel_chain_head *head,
                      int *has_format, char *err, size_t errlen)
{
    uint8_t hash[32], digest[32];
    uint64_t height;
    snap_rec r;
    size_t pos = 0, blen = len - PEL_CHAIN_SNAP_HDR;
    int rc, genesis = 0, trees = 0, has_head = 0;
    uint32_t format;
    *has_format = 0;
    if (pel_chain_snapshot_head(p, len, &height, hash)) {
        snprintf(err, errlen, "not a PEL snapshot of version %d", PEL_CHAIN_SNAP_VERSION);
        return PEL_ECORRUPT;
    }
    const uint8_t *body = p + PEL_CHAIN_SNAP_HDR;
    if ((rc = pel_hash_tagged(SNAP_TAG, body, blen, digest)) != 0) return rc;
    if (memcmp(digest, p + 96, 32)) { snprintf(err, errlen, "snapshot digest mismatch"); return PEL_ECORRUPT; }
    while ((rc = next_record(body, blen, &pos, &r)) == 1) {
        if (meta_is(&r, "genesis")) genesis = r.vlen == 32 && !memcmp(r.v, c->g->hash, 32);
        if (meta_is(&r, "trees")) trees = r.vlen == 1 && r.v[0] == 1;
        if (meta_is(&r, "head")) has_head = !head_decode(r.v, r.vlen, head);
        if (meta_is(&r, "format")) {   /* a newer layout is refused before it is written */
            if ((rc = format_value(r.v, r.vlen, &format, "the snapshot", err, errlen)) != 0) return rc;
            *has_format = 1;
        }
    }
    if (rc) { snprintf(err, errlen, "snapshot records are malformed"); return rc; }
    if (!has_head || head->height != height || memcmp(head->hash, hash, 32)) {
        snprintf(err, errlen, "the snapshot's head record is not its header's");
        return PEL_ECORRUPT;
    }
    if (!genesis || trees != (c->o.trees != 0)) {
        snprintf(err, errlen, "the snapshot is of another chain (genesis or tree mode)");
        return PEL_EINVAL;
    }
    return 0;
}

/* Put one snapshot record; a block also gets this node's checkpoint. */
static int restore_record(pel_chain *c, pel_store_txn *w, const snap_rec *r)
{
    int rc = pel_store_put(w, r->t, r->k, r->klen, r->v, r->vlen);
    if (rc || r->t != PEL_T_BLOCKS) return rc;
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, n = 0;
    rc = pel_block_record_decode(r->v, r->vlen, &h, &raw, &lens, &n);
    free(raw);
    free(lens);
    return rc ? rc : put_checkpoint(c, w, &h);
}

int pel_chain_restore(pel_chain *c, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    pel_chain_head head;
    pel_store_txn *w = NULL;
    snap_rec r;
    size_t pos = 0, blen;
    int has_format;
    if (errlen) err[0] = 0;
    int rc = snap_check(c, p, len, &head, &has_format, err, errlen);
    if (rc) return rc;
    blen = len - PEL_CHAIN_SNAP_HDR;
    if ((rc = pel_store_begin(c->store, &w)) != 0) goto fail;
    for (int t = 0; !rc && t < PEL_T_COUNT; t++) rc = pel_store_clear(w, (pel_table)t);
    while (!rc && (rc = next_record(p + PEL_CHAIN_SNAP_HDR, blen, &pos, &r)) == 1)
        rc = restore_record(c, w, &r);
    if (!rc && !has_format) rc = put_format(w);   /* from a node older than the record */
    if (rc) { pel_store_abort(w); goto fail; }
    if ((rc = pel_store_commit(w)) != 0) goto fail;
    pthread_mutex_lock(&c->mu);
    c->head = head;
    pthread_mutex_unlock(&c->mu);
    if (c->o.trees) rc = check_trees(c, err, errlen);
    return rc;
fail:
    if (errlen && !err[0]) snprintf(err, errlen, "cannot write the snapshot: %s", pel_strerror(rc));
    return rc;
}
