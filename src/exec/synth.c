/*
 * synth.c - synthetic transactions and block generators (see synth.h).
 *
 * Every kind returns view errors unchanged (PEL_EHALT must reach the engine)
 * and fails the way a ledger transaction would: pel_view_rollback, then
 * charge the fee. Values written are derived only from what was read and
 * from the transaction itself, so every engine must agree on them.
 */
#include "exec/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include "core/codec.h"
#include "core/hash.h"

static int derive(const char *tag, uint32_t i, pel_key *out)
{
    uint8_t b[4] = { (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)(i >> 24) };
    return pel_hash_tagged(tag, b, 4, out->b);
}

int pel_synth_init(pel_synth *s, uint32_t n_accounts, uint32_t n_keys)
{
    memset(s, 0, sizeof(*s));
    if (n_accounts == 0 || n_keys == 0) return PEL_EINVAL;
    s->n_accounts = n_accounts;
    s->n_keys = n_keys;
    s->acct = malloc((size_t)n_accounts * sizeof(pel_key));
    s->keys = malloc((size_t)n_keys * sizeof(pel_key));
    if (!s->acct || !s->keys) { pel_synth_free(s); return PEL_ENOMEM; }
    int rc = derive("PEL/synth-pool", 0, &s->fee_pool);
    if (!rc) rc = derive("PEL/synth-hot", 0, &s->hot);
    for (uint32_t i = 0; !rc && i < n_accounts; i++) rc = derive("PEL/synth-acct", i, &s->acct[i]);
    for (uint32_t i = 0; !rc && i < n_keys; i++) rc = derive("PEL/synth-key", i, &s->keys[i]);
    if (rc) pel_synth_free(s);
    return rc;
}

void pel_synth_free(pel_synth *s)
{
    free(s->acct);
    free(s->keys);
    s->acct = s->keys = NULL;
}

int pel_synth_genesis(const pel_synth *s, pel_memstate *ms, uint64_t balance, pel_rng *rng)
{
    uint8_t b[24];
    int rc = 0;
    for (uint32_t i = 0; !rc && i < s->n_accounts; i++) {
        uint64_t bal = rng && pel_rng_below(rng, 10) == 0 ? pel_rng_below(rng, 500) : balance;
        pel_le_store(b, bal, 8);
        rc = pel_memstate_put(ms, &s->acct[i], b, 8);
    }
    for (uint32_t i = 0; rng && !rc && i < s->n_keys; i++) {
        uint32_t r = pel_rng_below(rng, 4);
        pel_le_store(b, pel_rng_next(rng) >> (r == 0 ? 40 : 0), 8);
        pel_le_store(b + 8, pel_rng_next(rng), 8);
        if (r == 0) rc = pel_memstate_put(ms, &s->keys[i], b, 8);                 /* counter */
        else if (r == 1) rc = pel_memstate_put(ms, &s->keys[i], b, 1 + r * 5);    /* not one */
        /* r >= 2: absent */
    }
    return rc;
}

/* ---------------- executing ---------------- */

/* pay_pool - a transfer's fee into the pool: a delta, or read and write
 * it when the workload uses no delta counters (a failing transaction's
 * charge stays a delta: the declared write covers it). */
static int pay_pool(const pel_synth *s, pel_view *v, uint64_t fee)
{
    uint64_t pool;
    if (s->credit != PEL_SYNTH_NO_DELTA) return pel_view_delta_add(v, &s->fee_pool, (int64_t)fee, UINT64_MAX);
    int rc = pel_view_get_u64(v, &s->fee_pool, &pool);
    if (!rc && pool > UINT64_MAX - fee) rc = PEL_ERANGE;
    return rc ? rc : pel_view_put_u64(v, &s->fee_pool, pool + fee);
}

/* fail_charge - discard everything, charge what the sender can pay. */
static int fail_charge(const pel_synth *s, const pel_synth_tx *t, pel_view *v, int status)
{
    uint64_t bal;
    pel_view_rollback(v);
    int rc = pel_view_get_u64(v, &s->acct[t->from], &bal);
    if (rc) return rc;
    uint64_t charge = bal < t->fee ? bal : t->fee;
    if ((rc = pel_view_put_u64(v, &s->acct[t->from], bal - charge)) != 0) return rc;
    if ((rc = pel_view_delta_add(v, &s->fee_pool, (int64_t)charge, UINT64_MAX)) != 0) return rc;
    return status;
}

/* busy_work - deterministic computation standing in for a heavier
 * transaction body (a VM, a signature-free ledger check). */
static uint64_t busy_work(uint32_t salt, uint32_t loops)
{
    uint64_t h = salt;
    for (uint32_t i = 0; i < loops; i++) {
        h = (h ^ i) * 0x100000001b3ULL;
#if defined(__GNUC__)
        __asm__ volatile("" : "+r"(h));   /* keep the loop: the work must happen */
#endif
    }
    return h;
}

static int transfer(const pel_synth *s, const pel_synth_tx *t, pel_view *v)
{
    uint64_t from_bal, to_bal;
    if (t->loops) (void)busy_work(t->salt, t->loops);
    int rc = pel_view_get_u64(v, &s->acct[t->from], &from_bal);
    if (rc) return rc;
    if (from_bal < t->amount || from_bal - t->amount < t->fee) return fail_charge(s, t, v, PEL_EFUNDS);
    if ((rc = pel_view_put_u64(v, &s->acct[t->from], from_bal - t->amount - t->fee)) != 0) return rc;
    if (s->credit == PEL_SYNTH_CREDIT_DELTA) {
        rc = pel_view_delta_add(v, &s->acct[t->to], (int64_t)t->amount, UINT64_MAX);
        if (rc == PEL_EBOUND) return fail_charge(s, t, v, PEL_ERANGE);
        if (rc) return rc;
    } else {
        if ((rc = pel_view_get_u64(v, &s->acct[t->to], &to_bal)) != 0) return rc;
        if (to_bal > UINT64_MAX - t->amount) return fail_charge(s, t, v, PEL_ERANGE);
        if ((rc = pel_view_put_u64(v, &s->acct[t->to], to_bal + t->amount)) != 0) return rc;
    }
    return pay_pool(s, v, t->fee);
}

/* rmw_key - read a key, write a value derived from it and the tx. */
static int rmw_key(const pel_synth_tx *t, pel_view *v, const pel_key *k, uint32_t i)
{
    pel_val old;
    int rc = pel_view_get(v, k, &old);
    if (rc && rc != PEL_ENOTFOUND) return rc;
    uint64_t h = 1469598103934665603ULL ^ t->salt ^ ((uint64_t)i << 32);
    for (uint32_t j = 0; j < old.len; j++) h = (h ^ old.p[j]) * 1099511628211ULL;
    uint8_t buf[40];
    uint32_t len = 1 + (uint32_t)(h % 40);
    for (uint32_t j = 0; j < len; j++) { h = h * 6364136223846793005ULL + 1; buf[j] = (uint8_t)(h >> 56); }
    return pel_view_put(v, k, buf, len);
}

static int readonly(const pel_synth *s, const pel_synth_tx *t, pel_view *v)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < t->nkeys; i++) {
        pel_val val;
        int rc = pel_view_get(v, &s->keys[t->keys[i]], &val);
        if (rc && rc != PEL_ENOTFOUND) return rc;
        for (uint32_t j = 0; j < val.len; j++) sum = sum * 31 + val.p[j];
        sum += val.len;
    }
    uint8_t b[8];
    pel_le_store(b, sum, 8);
    return pel_view_emit(v, b, 8);
}

static int rmw(const pel_synth *s, const pel_synth_tx *t, pel_view *v)
{
    for (uint32_t i = 0; i < t->nkeys; i++) {
        int rc = rmw_key(t, v, &s->keys[t->keys[i]], i);
        if (rc) return rc;
    }
    return 0;
}

static int long_tx(const pel_synth *s, const pel_synth_tx *t, pel_view *v)
{
    pel_synth_tx u = *t;
    u.salt ^= (uint32_t)busy_work(t->salt, t->loops);
    return rmw(s, &u, v);
}

/* delta_tx - a bounded addition; its outcome is part of the result. */
static int delta_tx(const pel_synth *s, const pel_synth_tx *t, pel_view *v)
{
    const pel_key *k = &s->keys[t->keys[0]];
    int rc = pel_view_delta_add(v, k, t->delta, t->bound);
    if (rc && rc != PEL_EBOUND && rc != PEL_ETYPE) return rc;
    uint8_t b[8];
    pel_le_store(b, (uint64_t)(int64_t)rc, 8);
    if ((rc = pel_view_emit(v, b, 8)) != 0) return rc;
    if (t->nkeys > 1) {   /* a second addition to another counter */
        rc = pel_view_delta_add(v, &s->keys[t->keys[1]], -t->delta / 2, t->bound);
        if (rc && rc != PEL_EBOUND && rc != PEL_ETYPE) return rc;
    }
    if (t->read_counter) {
        pel_val val;
        rc = pel_view_get(v, k, &val);
        if (rc && rc != PEL_ENOTFOUND) return rc;
        if ((rc = pel_view_emit(v, val.p, val.len)) != 0) return rc;
    }
    return pel_view_delta_add(v, &s->fee_pool, (int64_t)t->fee, UINT64_MAX);
}

static int delete_tx(const pel_synth *s, const pel_synth_tx *t, pel_view *v)
{
    for (uint32_t i = 0; i < t->nkeys; i++) {
        int rc = pel_view_del(v, &s->keys[t->keys[i]]);
        if (rc) return rc;
    }
    return 0;
}

static int synth_exec(void *ctx, const void *txp, pel_view *v)
{
    const pel_synth *s = ctx;
    const pel_synth_tx *t = txp;
    int rc;
    switch (t->kind) {
    case SYN_TRANSFER: return transfer(s, t, v);
    case SYN_READONLY: return readonly(s, t, v);
    case SYN_RMW:
    case SYN_UNDECLARED: return rmw(s, t, v);
    case SYN_FAIL:
        if ((rc = rmw(s, t, v)) != 0) return rc;
        return fail_charge(s, t, v, PEL_EABORT);
    case SYN_HOTKEY: return rmw_key(t, v, &s->hot, 0);
    case SYN_LONG: return long_tx(s, t, v);
    case SYN_DELTA: return delta_tx(s, t, v);
    case SYN_DELETE: return delete_tx(s, t, v);
    default: return PEL_EINVAL;
    }
}

pel_executor pel_synth_executor(const pel_synth *s)
{
    pel_executor ex = { synth_exec, (void *)s };
    return ex;
}

/* ---------------- generating blocks ---------------- */

static int key_cmp(const void *a, const void *b)
{
    return pel_key_cmp(a, b);
}

/* sorted_keys - sort and deduplicate n keys in place; returns the count. */
static uint32_t sorted_keys(pel_key *k, uint32_t n)
{
    qsort(k, n, sizeof(*k), key_cmp);
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; i++)
        if (o == 0 || !pel_key_eq(&k[o - 1], &k[i])) k[o++] = k[i];
    return o;
}

/* access_for - the honest access list of t (SYN_UNDECLARED omits its last key). */
static pel_access *access_for(const pel_synth *s, const pel_synth_tx *t, pel_arena *a)
{
    pel_access *acc = pel_arena_alloc(a, sizeof(*acc));
    pel_key *r = pel_arena_alloc(a, 3 * (PEL_SYNTH_MAXKEYS + 4) * sizeof(pel_key));
    if (!acc || !r) return NULL;
    pel_key *w = r + PEL_SYNTH_MAXKEYS + 4, *d = w + PEL_SYNTH_MAXKEYS + 4;
    uint32_t nr = 0, nw = 0, nd = 0;
    switch (t->kind) {
    case SYN_TRANSFER:
        w[nw++] = s->acct[t->from];
        if (s->credit == PEL_SYNTH_CREDIT_DELTA && t->to != t->from) d[nd++] = s->acct[t->to];
        else w[nw++] = s->acct[t->to];
        if (s->credit == PEL_SYNTH_NO_DELTA) w[nw++] = s->fee_pool; else d[nd++] = s->fee_pool;
        break;
    case SYN_READONLY:
        for (uint32_t i = 0; i < t->nkeys; i++) r[nr++] = s->keys[t->keys[i]];
        break;
    case SYN_FAIL:
        w[nw++] = s->acct[t->from]; d[nd++] = s->fee_pool;
        /* fall through */
    case SYN_RMW: case SYN_LONG: case SYN_DELETE:
        for (uint32_t i = 0; i < t->nkeys; i++) w[nw++] = s->keys[t->keys[i]];
        break;
    case SYN_UNDECLARED:
        for (uint32_t i = 0; i + 1 < t->nkeys; i++) w[nw++] = s->keys[t->keys[i]];
        break;
    case SYN_HOTKEY:
        w[nw++] = s->hot; break;
    case SYN_DELTA:
        if (t->read_counter) w[nw++] = s->keys[t->keys[0]]; else d[nd++] = s->keys[t->keys[0]];
        if (t->nkeys > 1) d[nd++] = s->keys[t->keys[1]];
        d[nd++] = s->fee_pool;
        break;
    }
    *acc = (pel_access){ r, sorted_keys(r, nr), w, sorted_keys(w, nw), d, sorted_keys(d, nd) };
    return acc;
}

static int alloc_block(uint32_t n, pel_arena *a, pel_synth_tx **txs, pel_txdesc **descs)
{
    *txs = pel_arena_alloc(a, (size_t)(n ? n : 1) * sizeof(pel_synth_tx));
    *descs = pel_arena_alloc(a, (size_t)(n ? n : 1) * sizeof(pel_txdesc));
    if (!*txs || !*descs) return PEL_ENOMEM;
    memset(*txs, 0, (size_t)n * sizeof(pel_synth_tx));
    return 0;
}

static void pick_transfer(const pel_synth *s, pel_rng *rng, pel_synth_tx *t)
{
    t->kind = SYN_TRANSFER;
    t->from = pel_rng_below(rng, s->n_accounts);
    t->to = pel_rng_below(rng, s->n_accounts);
    if (s->hot_pct && pel_rng_below(rng, 100) < s->hot_pct) {   /* the popular recipient */
        t->to = 0;
        if (s->n_accounts > 1)
            while (t->from == 0) t->from = pel_rng_below(rng, s->n_accounts);
    }
    if (s->n_accounts > 1)
        while (t->to == t->from) t->to = pel_rng_below(rng, s->n_accounts);
    t->amount = 1 + pel_rng_below(rng, 1000);
    t->fee = 1 + pel_rng_below(rng, 10);
}

int pel_synth_transfers(const pel_synth *s, pel_rng *rng, uint32_t n, int declare,
                        pel_arena *a, pel_synth_tx **txs, pel_txdesc **descs)
{
    int rc = alloc_block(n, a, txs, descs);
    for (uint32_t i = 0; !rc && i < n; i++) {
        pick_transfer(s, rng, &(*txs)[i]);
        (*txs)[i].loops = s->transfer_work;
        (*descs)[i].tx = &(*txs)[i];
        (*descs)[i].access = declare ? access_for(s, &(*txs)[i], a) : NULL;
        if (declare && !(*descs)[i].access) rc = PEL_ENOMEM;
    }
    return rc;
}

static uint32_t pick_kind(pel_rng *rng, const pel_synth_mix *mix)
{
    uint32_t total = 0;
    for (int k = 0; k < SYN_NKINDS; k++) total += mix->weight[k];
    uint32_t x = pel_rng_below(rng, total ? total : 1);
    for (int k = 0; k < SYN_NKINDS; k++) {
        if (x < mix->weight[k]) return (uint32_t)k;
        x -= mix->weight[k];
    }
    return SYN_TRANSFER;
}

static void pick_tx(const pel_synth *s, pel_rng *rng, const pel_synth_mix *mix, pel_synth_tx *t)
{
    uint32_t kind = pick_kind(rng, mix);
    pick_transfer(s, rng, t);
    t->kind = (uint8_t)kind;
    t->nkeys = (uint8_t)(1 + pel_rng_below(rng, PEL_SYNTH_MAXKEYS));
    for (uint32_t i = 0; i < t->nkeys; i++) t->keys[i] = pel_rng_below(rng, s->n_keys);
    if (kind == SYN_UNDECLARED) {   /* declares keys[0], also writes keys[1] != keys[0] */
        t->nkeys = 2;
        t->keys[1] = (t->keys[0] + 1 + pel_rng_below(rng, s->n_keys - 1 ? s->n_keys - 1 : 1)) % s->n_keys;
    }
    if (kind == SYN_DELTA) {
        t->nkeys = (uint8_t)(1 + pel_rng_below(rng, 2));
        t->delta = (int64_t)pel_rng_below(rng, 2000) - 1000;
        t->bound = pel_rng_below(rng, 4) == 0 ? UINT64_MAX : 500 + pel_rng_below(rng, 5000);
        t->read_counter = pel_rng_below(rng, 4) == 0;
    }
    t->loops = kind == SYN_LONG ? pel_rng_below(rng, mix->max_loops + 1) : 0;
    t->salt = (uint32_t)pel_rng_next(rng);
}

int pel_synth_block(const pel_synth *s, pel_rng *rng, uint32_t n, const pel_synth_mix *mix,
                    pel_arena *a, pel_synth_tx **txs, pel_txdesc **descs)
{
    int rc = alloc_block(n, a, txs, descs);
    for (uint32_t i = 0; !rc && i < n; i++) {
        pel_synth_tx *t = &(*txs)[i];
        pick_tx(s, rng, mix, t);
        int declare = t->kind == SYN_UNDECLARED || pel_rng_below(rng, 100) < mix->declare_pct;
        (*descs)[i].tx = t;
        (*descs)[i].access = declare ? access_for(s, t, a) : NULL;
        if (declare && !(*descs)[i].access) rc = PEL_ENOMEM;
    }
    return rc;
}
