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

#include "core/codec.h"
#include "core/hash.h"

typedef struct replay {
    pel_chain *c;
    pel_memstate *ms;
    pel_engine *seq;
    pel_chain_head head;      /* the replayed head */
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

static int start(replay *r)
{
    pel_writeset ws;
    uint8_t *vals;
    pel_block_header h;
    const pel_genesis *g = pel_chain_genesis(r->c);
    int rc = pel_genesis_writes(g, &ws, &vals);
    if (rc) return rc;
    rc = pel_memstate_apply(r->ms, &ws);
    if (!rc) rc = pel_chain_genesis_header(g, &ws, &h);
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
    if (got->timestamp_ms < r->head.timestamp_ms) return bad(r, "block %llu: timestamp goes back", h);
    if (pel_block_header_verify(got)) return bad(r, "block %llu: proposer signature invalid", h);
    return 0;
}

static int track_addrs(replay *r, const pel_tx *txs, uint32_t n)
{
    int rc = 0;
    for (uint32_t i = 0; !rc && i < n; i++) {
        pel_addr to;
        uint64_t amount;
        rc = add_addr(r, &txs[i].from);
        if (!rc && txs[i].type == PEL_TX_TRANSFER &&
            pel_transfer_parse(txs[i].body, txs[i].body_len, &to, &amount) == 0)
            rc = add_addr(r, &to);
    }
    return rc;
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
        if (pel_tx_decode(raw[i], lens[i], &txs[i]) || pel_tx_verify(&txs[i]))
            rc = bad(r, "block %llu: tx %u malformed or badly signed", (unsigned long long)height, i);
        ptrs[i] = &txs[i];
    }
    pel_state st = pel_memstate_reader(r->ms);
    if (!rc) rc = pel_chain_execute(r->seq, &st, &pel_chain_genesis(r->c)->params, height, ptrs, n, &res);
    have_res = rc == 0;
    if (!rc) rc = pel_chain_fill_header(&r->head, ptrs, &res, got.timestamp_ms, &want);
    if (!rc) rc = compare_header(r, &got, &want);
    if (!rc) rc = check_receipts(r, height, &res);
    if (!rc) rc = check_index(r, height, txs, n);
    if (!rc) rc = pel_memstate_apply(r->ms, &res.block_writes);
    if (!rc) rc = track_addrs(r, txs, n);
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
    replay r = { .c = c, .err = err, .errlen = errlen };
    pel_engine_opts o = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    pel_buf rec;
    pel_buf_init(&rec);
    if (errlen) err[0] = 0;
    int rc = pel_memstate_new(&r.ms);
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
    if (rc && errlen && !err[0]) snprintf(err, errlen, "verification failed: %s", pel_strerror(rc));
    pel_buf_free(&rec);
    pel_engine_free(r.seq);
    pel_memstate_free(r.ms);
    free(r.addrs);
    return rc;
}
