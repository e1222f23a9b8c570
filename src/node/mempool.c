/*
 * mempool.c - pending transactions (see mempool.h).
 *
 * Admission runs in two stages. Stage 1, outside the lock and in parallel
 * for large batches: size, copy, decode, precheck, expiry, signature. Then
 * a read of the committed account of each sender in the batch that has no
 * record (read_accounts: one read per such sender, outside the lock; a
 * sender with a record already holds its committed state, so a busy
 * sender's stream reads nothing). Stage 2, under mp->mu, per transaction
 * in batch order: the stateful checks and the insertion.
 *
 * Structures, all guarded by mp->mu:
 *   ids      hash table id -> entry, every pending entry
 *   senders  hash table address -> sender, every sender with an entry (or
 *            pinned by an operation in progress)
 *   sender->root  a treap of the sender's entries ordered by nonce
 *   ready    max-heap of senders whose entry at nonce `next` exists and is
 *            not taken, keyed by that entry (price desc, then arrival asc)
 *   evict    min-heap of senders whose highest-nonce entry is not taken,
 *            keyed by that entry (price asc, then arrival desc)
 *   rejects  a ring of the last reject_memory refusals and a hash table
 *            id -> ring slot
 * Invariant: after every change to a sender, refresh() puts it where it
 * belongs in both heaps, so take and eviction read the heap tops only.
 *
 * Account state: a sender record caches the committed nonce and balance
 * read when it was created; pel_mempool_done re-reads them for the senders
 * of a committed block. A sender with nothing pending has no record, so
 * the next submission reads the store afresh. Reads happen outside the
 * lock; `epoch` detects a read that may predate a commit whose done() has
 * already run (the transaction is then re-read before its record is made).
 *
 * Hash tables are keyed with SipHash (crypto_shorthash) under a random
 * per-mempool key, so nobody can aim transactions at one bucket.
 */
#include "node/mempool.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/hash.h"
#include "exec/pool.h"

#define NONE UINT32_MAX
#define PAR_MIN 8        /* smaller batches verify on the calling thread */
#define CHUNK 8          /* transactions a worker claims at a time */
#define LOCK_SPAN 256    /* admissions per hold of the lock */
#define SMALL_BATCH 16   /* scratch on the stack up to this many */
#define RETRY 1          /* admit(): re-read the account outside the lock */
#define UNREAD UINT64_MAX /* item.epoch: no account read was made */

/* Static reasons (pel_mempool_result.why). */
static const char M_SIZE[] = "transaction larger than the size limit";
static const char M_MALFORMED[] = "malformed transaction encoding";
static const char M_EXPIRED[] = "transaction expired: its expiry height is below the next block";
static const char M_BADSIG[] = "bad signature";
static const char M_BADKEY[] = "malformed or weak sender public key";
static const char M_CRYPTO[] = "signature check failed (crypto library)";
static const char M_DUP[] = "transaction already pending";
static const char M_NONCE[] = "nonce too low: already used by a committed transaction";
static const char M_FUTURE[] = "nonce too far ahead of the account's committed nonce";
static const char M_FUNDS[] = "insufficient balance for max fee (plus amount) of this and the "
                              "sender's pending transactions";
static const char M_TAKEN[] = "a transaction with this sender and nonce is already in a block "
                              "being built";
static const char M_REPLACE[] = "a transaction with this sender and nonce is pending; a "
                                "replacement must pay a strictly higher gas price";
static const char M_SENDER[] = "sender has too many pending transactions";
static const char M_FULL[] = "mempool full: the transaction does not pay more than the cheapest "
                             "pending one";
static const char M_NOMEM[] = "out of memory";
static const char M_ACCOUNT[] = "cannot read the sender's account";
static const char M_INVAL[] = "no encoding given";

/* ---- types ---- */

typedef struct hnode { struct hnode *next; uint64_t h; } hnode;
typedef struct htab { hnode **b; size_t mask, n; } htab;

typedef struct sender sender;

typedef struct entry {
    hnode hn;               /* in mp->ids, keyed by tx.id (first member) */
    pel_tx tx;              /* decoded from raw[] below */
    sender *s;
    struct entry *l, *r;    /* the sender's treap, by nonce */
    uint32_t prio;          /* treap priority (max at the root) */
    uint8_t taken;          /* handed out by take, not yet done */
    uint64_t seq;           /* arrival order */
    uint64_t spend;         /* pel_tx_spend */
    uint64_t cost;          /* accounted bytes */
    uint64_t addr_h;        /* hash of tx.from */
    uint8_t raw[];          /* the signed encoding */
} entry;

/* Per entry: the struct and its share of a hash bucket. */
#define ENTRY_OVERHEAD (sizeof(entry) + sizeof(void *))
#define ENTRY_OF(t) ((entry *)(void *)((char *)(t) - offsetof(entry, tx)))

struct sender {
    hnode hn;               /* in mp->senders, keyed by addr (first member) */
    pel_addr addr;          /* immutable after creation */
    uint64_t nonce, balance;  /* committed, as last read */
    uint64_t spend;         /* sum of spend over entries (+ held) */
    uint64_t held;          /* spend of committed entries not yet re-read */
    uint64_t next;          /* next nonce to take */
    uint64_t contig;        /* end of the run of pending nonces from `nonce` */
    entry *root;
    uint32_t count, taken, pins;
    uint32_t ready_idx, evict_idx, gap_idx;  /* heap positions or NONE */
    entry *ready, *evict, *gap;   /* the heap keys (NULL when not in that heap);
                                     gap: the highest nonce when it waits on a
                                     nonce gap (above contig) */
    int mark;               /* scratch for pel_mempool_done */
};

enum { READY = 0, EVICT = 1, GAP = 2 };
typedef struct heap { sender **a; size_t n, cap; int kind; } heap;

typedef struct rej { hnode hn; uint8_t id[PEL_TXID_LEN]; int reason; } rej;

struct pel_mempool {
    pthread_mutex_t mu;         /* guards everything from `ids` down */
    pthread_mutex_t done_mu;    /* serialises pel_mempool_done */
    pthread_mutex_t pool_mu;    /* held (trylock) by the batch using `pool` */
    pel_pool *pool;             /* NULL when verify_threads == 1 */
    pel_keycache *keys;         /* senders' keys that passed the point checks */
    pel_mempool_opts o;
    const pel_chain_params *params;
    pel_mempool_accounts acc;
    uint8_t hkey[crypto_shorthash_KEYBYTES];   /* read-only after new */
    /* relaxed: a value on its own, nothing is published with it */
    _Atomic uint64_t height;
    /* bumped (release, under mu) after done() applied fresh account state;
     * read with acquire before an account read outside the lock */
    _Atomic uint64_t epoch;
    htab ids, senders, rtab;
    heap ready, evict, gap;
    uint64_t count, bytes, seq, prng;
    rej *ring;
    size_t ring_head, ring_len;
};

/* ---- hash tables (chained, intrusive; growth failure keeps chains longer) ---- */

static int ht_init(htab *t, size_t want)
{
    size_t cap = 16;
    while (cap < want) cap <<= 1;
    t->b = calloc(cap, sizeof *t->b);
    t->mask = cap - 1;
    t->n = 0;
    return t->b ? 0 : PEL_ENOMEM;
}

static void ht_grow(htab *t)
{
    size_t cap = (t->mask + 1) * 2;
    hnode **nb = calloc(cap, sizeof *nb);
    if (!nb) return;
    for (size_t i = 0; i <= t->mask; i++)
        for (hnode *x = t->b[i], *nx; x; x = nx) {
            nx = x->next;
            x->next = nb[x->h & (cap - 1)];
            nb[x->h & (cap - 1)] = x;
        }
    free(t->b);
    t->b = nb;
    t->mask = cap - 1;
}

static void ht_insert(htab *t, hnode *x)
{
    if (t->n > t->mask) ht_grow(t);
    hnode **b = &t->b[x->h & t->mask];
    x->next = *b;
    *b = x;
    t->n++;
}

static void ht_remove(htab *t, hnode *x)
{
    hnode **p = &t->b[x->h & t->mask];
    while (*p != x) p = &(*p)->next;
    *p = x->next;
    t->n--;
}

static uint64_t keyed(const pel_mempool *mp, const void *p, size_t n)
{
    uint8_t o[crypto_shorthash_BYTES];
    uint64_t h;
    crypto_shorthash(o, p, n, mp->hkey);
    memcpy(&h, o, sizeof h);
    return h;
}

static entry *id_find(const pel_mempool *mp, const uint8_t *id, uint64_t h)
{
    for (hnode *x = mp->ids.b[h & mp->ids.mask]; x; x = x->next)
        if (x->h == h && memcmp(((entry *)x)->tx.id, id, PEL_TXID_LEN) == 0) return (entry *)x;
    return NULL;
}

static sender *sender_find(const pel_mempool *mp, const pel_addr *a, uint64_t h)
{
    for (hnode *x = mp->senders.b[h & mp->senders.mask]; x; x = x->next)
        if (x->h == h && memcmp(((sender *)x)->addr.b, a->b, PEL_ADDR_LEN) == 0) return (sender *)x;
    return NULL;
}

static rej *rej_find(const pel_mempool *mp, const uint8_t *id, uint64_t h)
{
    for (hnode *x = mp->rtab.b[h & mp->rtab.mask]; x; x = x->next)
        if (x->h == h && memcmp(((rej *)x)->id, id, PEL_TXID_LEN) == 0) return (rej *)x;
    return NULL;
}

/* Remember a refusal; a known id gets its latest reason. */
static void remember(pel_mempool *mp, const uint8_t *id, uint64_t h, int reason)
{
    if (mp->o.reject_memory == 0) return;
    rej *r = rej_find(mp, id, h);
    if (r) { r->reason = reason; return; }
    r = &mp->ring[mp->ring_head];
    if (mp->ring_len == mp->o.reject_memory) ht_remove(&mp->rtab, &r->hn);
    else mp->ring_len++;
    memcpy(r->id, id, PEL_TXID_LEN);
    r->reason = reason;
    r->hn.h = h;
    ht_insert(&mp->rtab, &r->hn);
    mp->ring_head = (mp->ring_head + 1) % mp->o.reject_memory;
}

/* ---- per-sender treap by nonce (expected depth O(log k)) ---- */

static entry *t_find(entry *t, uint64_t k)
{
    while (t && t->tx.nonce != k) t = k < t->tx.nonce ? t->l : t->r;
    return t;
}

static entry *t_max(entry *t)
{
    if (t) while (t->r) t = t->r;
    return t;
}

/* The entry with the lowest nonce >= k. */
static entry *t_ceil(entry *t, uint64_t k)
{
    entry *best = NULL;
    while (t) {
        if (t->tx.nonce >= k) { best = t; t = t->l; }
        else t = t->r;
    }
    return best;
}

/* Split t into nonces < k (*l) and >= k (*r). */
static void t_split(entry *t, uint64_t k, entry **l, entry **r)
{
    if (!t) { *l = *r = NULL; return; }
    if (t->tx.nonce < k) { t_split(t->r, k, &t->r, r); *l = t; }
    else { t_split(t->l, k, l, &t->l); *r = t; }
}

/* Join two treaps, every nonce in a below every nonce in b. */
static entry *t_merge(entry *a, entry *b)
{
    if (!a) return b;
    if (!b) return a;
    if (a->prio > b->prio) { a->r = t_merge(a->r, b); return a; }
    b->l = t_merge(a, b->l);
    return b;
}

static entry *t_insert(entry *t, entry *e)
{
    if (!t) return e;
    if (e->prio > t->prio) { t_split(t, e->tx.nonce, &e->l, &e->r); return e; }
    if (e->tx.nonce < t->tx.nonce) t->l = t_insert(t->l, e);
    else t->r = t_insert(t->r, e);
    return t;
}

static entry *t_remove(entry *t, uint64_t k)
{
    if (!t) return NULL;
    if (t->tx.nonce == k) return t_merge(t->l, t->r);
    if (k < t->tx.nonce) t->l = t_remove(t->l, k);
    else t->r = t_remove(t->r, k);
    return t;
}

/* ---- heaps of senders ---- */

static uint32_t *hidx(const heap *h, sender *s)
{
    return h->kind == READY ? &s->ready_idx : h->kind == EVICT ? &s->evict_idx : &s->gap_idx;
}

static entry *hkey(const heap *h, const sender *s)
{
    return h->kind == READY ? s->ready : h->kind == EVICT ? s->evict : s->gap;
}

/* Does a belong above b? READY: the highest price, then the earliest
 * arrival; EVICT and GAP: the lowest price, then the latest arrival. */
static int above(const heap *h, const sender *a, const sender *b)
{
    const entry *x = hkey(h, a), *y = hkey(h, b);
    if (x->tx.gas_price != y->tx.gas_price)
        return h->kind == READY ? x->tx.gas_price > y->tx.gas_price
                                : x->tx.gas_price < y->tx.gas_price;
    return h->kind == READY ? x->seq < y->seq : x->seq > y->seq;
}

static void h_set(heap *h, size_t i, sender *s)
{
    h->a[i] = s;
    *hidx(h, s) = (uint32_t)i;
}

static void h_up(heap *h, size_t i)
{
    sender *s = h->a[i];
    while (i > 0 && above(h, s, h->a[(i - 1) / 2])) {
        h_set(h, i, h->a[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    h_set(h, i, s);
}

static void h_down(heap *h, size_t i)
{
    sender *s = h->a[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && above(h, h->a[c + 1], h->a[c])) c++;
        if (!above(h, h->a[c], s)) break;
        h_set(h, i, h->a[c]);
        i = c;
    }
    h_set(h, i, s);
}

static void h_remove(heap *h, sender *s)
{
    size_t i = *hidx(h, s);
    sender *last = h->a[--h->n];
    *hidx(h, s) = NONE;
    if (i == h->n) return;
    h_set(h, i, last);
    h_up(h, i);
    h_down(h, *hidx(h, last));
}

static int h_reserve(heap *h, size_t want)
{
    if (want <= h->cap) return 0;
    size_t cap = h->cap ? h->cap * 2 : 64;
    while (cap < want) cap *= 2;
    sender **a = realloc(h->a, cap * sizeof *a);
    if (!a) return PEL_ENOMEM;
    h->a = a;
    h->cap = cap;
    return 0;
}

/* Give s the key e in heap h (NULL: out of it). Capacity was reserved
 * when s was created. */
static void set_key(heap *h, sender *s, entry *e)
{
    uint32_t *ix = hidx(h, s);
    if (h->kind == READY) s->ready = e;
    else if (h->kind == EVICT) s->evict = e;
    else s->gap = e;
    if (!e) {
        if (*ix != NONE) h_remove(h, s);
        return;
    }
    if (*ix == NONE) h_set(h, h->n++, s);
    h_up(h, *ix);
    h_down(h, *ix);
}

/* ---- senders and entries (all under mp->mu) ---- */

/* Re-establish s's contig and heap keys after any change to s. */
static void refresh(pel_mempool *mp, sender *s)
{
    if (s->contig < s->nonce) s->contig = s->nonce;
    while (s->contig != UINT64_MAX && t_find(s->root, s->contig)) s->contig++;
    entry *r = t_find(s->root, s->next);
    set_key(&mp->ready, s, r && !r->taken ? r : NULL);
    entry *m = t_max(s->root);
    set_key(&mp->evict, s, m && !m->taken ? m : NULL);
    set_key(&mp->gap, s, m && !m->taken && m->tx.nonce > s->contig ? m : NULL);
}

static int sender_new(pel_mempool *mp, const entry *e, uint64_t nonce, uint64_t balance,
                      sender **out)
{
    *out = NULL;
    if (h_reserve(&mp->ready, mp->senders.n + 1) || h_reserve(&mp->evict, mp->senders.n + 1) ||
        h_reserve(&mp->gap, mp->senders.n + 1))
        return PEL_ENOMEM;
    sender *s = calloc(1, sizeof *s);
    if (!s) return PEL_ENOMEM;
    s->addr = e->tx.from;
    s->hn.h = e->addr_h;
    s->nonce = s->next = s->contig = nonce;
    s->balance = balance;
    s->ready_idx = s->evict_idx = s->gap_idx = NONE;
    ht_insert(&mp->senders, &s->hn);
    *out = s;
    return 0;
}

static void sender_maybe_free(pel_mempool *mp, sender *s)
{
    if (s->count || s->pins) return;
    ht_remove(&mp->senders, &s->hn);
    free(s);
}

static uint32_t next_prio(pel_mempool *mp)
{
    uint64_t x = mp->prng;   /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    mp->prng = x;
    return (uint32_t)(x >> 32);
}

static void insert(pel_mempool *mp, sender *s, entry *e)
{
    e->s = s;
    e->seq = mp->seq++;
    e->prio = next_prio(mp);
    e->l = e->r = NULL;
    e->taken = 0;
    s->root = t_insert(s->root, e);
    ht_insert(&mp->ids, &e->hn);
    s->count++;
    s->spend += e->spend;
    mp->count++;
    mp->bytes += e->cost;
    refresh(mp, s);
}

/* Take e out of every structure; the caller settles spend and frees it. */
static void unlink_entry(pel_mempool *mp, entry *e)
{
    sender *s = e->s;
    s->root = t_remove(s->root, e->tx.nonce);
    ht_remove(&mp->ids, &e->hn);
    s->count--;
    if (e->taken) s->taken--;
    mp->count--;
    mp->bytes -= e->cost;
}

/* Remove a pending entry for good, remembering why. */
static void drop(pel_mempool *mp, entry *e, int reason)
{
    sender *s = e->s;
    unlink_entry(mp, e);
    s->spend -= e->spend;
    if (e->tx.nonce < s->contig) s->contig = e->tx.nonce;
    remember(mp, e->tx.id, e->hn.h, reason);
    refresh(mp, s);
    free(e);
    sender_maybe_free(mp, s);
}

/* Forget a committed entry: its spend is held until the sender's balance
 * is re-read (so the window before that under-admits, never over). */
static void forget(pel_mempool *mp, entry *e)
{
    sender *s = e->s;
    unlink_entry(mp, e);
    s->held += e->spend;
    refresh(mp, s);
    free(e);
}

static int expired(const pel_tx *tx, uint64_t height)
{
    return tx->expiry_height != 0 && height > tx->expiry_height;
}

/* ---- stage 1: stateless checks, outside the lock ---- */

typedef struct item {
    entry *e;               /* owned until admitted; NULL if refused early */
    uint64_t id_h;          /* hash of res.id when has_id */
    uint64_t nonce, balance, epoch;     /* epoch UNREAD: not read */
    int acc_rc;
    int want;               /* read_accounts: this item reads its sender's */
} item;

typedef struct batch {
    pel_mempool *mp;
    const uint8_t *const *raw;
    const size_t *len;
    item *it;
    pel_mempool_result *res;
    size_t n;
    /* relaxed: it only hands out indices; pel_pool_run's handshake
     * publishes what the workers wrote */
    _Atomic size_t next;
} batch;

static void refuse(pel_mempool_result *r, int code, const char *why)
{
    r->code = code;
    r->why = why;
}

static const char *verify_why(int rc)
{
    return rc == PEL_EBADSIG ? M_BADSIG : rc == PEL_EBADKEY ? M_BADKEY : M_CRYPTO;
}

/* Read the committed account of it->e's sender (outside the lock). */
static void read_account(pel_mempool *mp, item *it)
{
    it->epoch = atomic_load_explicit(&mp->epoch, memory_order_acquire);
    it->acc_rc = mp->acc.get(mp->acc.ctx, &it->e->tx.from, &it->nonce, &it->balance);
}

static void check_one(pel_mempool *mp, const uint8_t *raw, size_t len, item *it,
                      pel_mempool_result *r)
{
    const char *why = NULL;
    int rc;
    memset(it, 0, sizeof *it);
    memset(r, 0, sizeof *r);
    if (len > PEL_TX_SIZE_MAX) return refuse(r, PEL_ETXSIZE, M_SIZE);
    if (!raw && len) return refuse(r, PEL_EINVAL, M_INVAL);
    entry *e = malloc(sizeof *e + len);
    if (!e) return refuse(r, PEL_ENOMEM, M_NOMEM);
    memset(e, 0, sizeof *e);
    if (len) memcpy(e->raw, raw, len);
    rc = pel_tx_decode(e->raw, len, &e->tx);
    if (rc) { why = M_MALFORMED; goto fail; }
    r->has_id = 1;
    memcpy(r->id, e->tx.id, PEL_TXID_LEN);
    it->id_h = e->hn.h = keyed(mp, e->tx.id, PEL_TXID_LEN);
    rc = pel_ledger_precheck(mp->params, &e->tx, &why);
    if (!rc && expired(&e->tx, atomic_load_explicit(&mp->height, memory_order_relaxed))) {
        rc = PEL_EEXPIRED;
        why = M_EXPIRED;
    }
    if (!rc && (rc = pel_tx_verify_cached(&e->tx, mp->keys)) != 0) why = verify_why(rc);
    if (!rc && pel_tx_spend(mp->params, &e->tx, &e->spend)) { rc = PEL_EFUNDS; why = M_FUNDS; }
    if (rc) goto fail;
    e->cost = len + ENTRY_OVERHEAD;
    e->addr_h = keyed(mp, e->tx.from.b, PEL_ADDR_LEN);
    it->e = e;
    it->epoch = UNREAD;                 /* read_accounts decides */
    return;
fail:
    free(e);
    refuse(r, rc, why);
}

static void batch_run(void *arg, unsigned worker)
{
    batch *b = arg;
    (void)worker;
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&b->next, CHUNK, memory_order_relaxed);
        if (i >= b->n) return;
        size_t end = b->n - i < CHUNK ? b->n : i + CHUNK;
        for (; i < end; i++) check_one(b->mp, b->raw[i], b->len[i], &b->it[i], &b->res[i]);
    }
}

/* Large batches go to the pool unless another batch is using it. */
static void verify_batch(pel_mempool *mp, batch *b)
{
    if (mp->pool && b->n >= PAR_MIN && pthread_mutex_trylock(&mp->pool_mu) == 0) {
        pel_pool_run(mp->pool, batch_run, b);
        pthread_mutex_unlock(&mp->pool_mu);
    } else {
        batch_run(b, 0);
    }
}

/* Between the stages: read the committed account for the first item of
 * each sender that has no record, outside the lock. The other items stay
 * unread: stage 2 finds their sender's record (made by the first item's
 * admission), or asks for a read then (RETRY) if it is gone or was never
 * made; so this pass only saves reads and never decides an admission. */
static void read_accounts(pel_mempool *mp, batch *b)
{
    size_t cap = 64;
    while (cap < 2 * b->n) cap <<= 1;
    uint32_t small[64], *seen = cap <= 64 ? small : malloc(cap * sizeof *seen);
    size_t nread = 0;
    if (!seen) return;                  /* stage 2 reads each one (RETRY) */
    for (size_t j = 0; j < cap; j++) seen[j] = NONE;
    pthread_mutex_lock(&mp->mu);
    for (size_t i = 0; i < b->n; i++) {
        const entry *e = b->it[i].e;
        if (!e || sender_find(mp, &e->tx.from, e->addr_h)) continue;
        size_t j = e->addr_h & (cap - 1);
        while (seen[j] != NONE && memcmp(b->it[seen[j]].e->tx.from.b, e->tx.from.b, PEL_ADDR_LEN))
            j = (j + 1) & (cap - 1);
        if (seen[j] != NONE) continue;  /* an earlier item of this sender reads */
        seen[j] = (uint32_t)i;
        b->it[i].want = 1;
        nread++;
    }
    pthread_mutex_unlock(&mp->mu);
    for (size_t i = 0; i < b->n && nread; i++)
        if (b->it[i].want) {
            read_account(mp, &b->it[i]);
            nread--;
        }
    if (seen != small) free(seen);
}

/* ---- stage 2: admission under the lock ---- */

/* The sender's committed state: its record's, else the item's read, which
 * is trusted only if no done() applied fresh state since it was made. */
static int account(pel_mempool *mp, const sender *s, const item *it, uint64_t *nonce,
                   uint64_t *balance)
{
    if (s) { *nonce = s->nonce; *balance = s->balance; return 0; }
    if (it->epoch != atomic_load_explicit(&mp->epoch, memory_order_relaxed)) return RETRY;
    *nonce = it->nonce;
    *balance = it->balance;
    return it->acc_rc;
}

static int covers(const sender *s, const entry *old, const entry *e, uint64_t balance)
{
    uint64_t pend = (s ? s->spend : 0) - (old ? old->spend : 0), total;
    return !__builtin_add_overflow(pend, e->spend, &total) && total <= balance;
}

/* Evict until e fits (s is pinned by the caller): while e does not wait on
 * a nonce gap itself, transactions that do (each sender's highest nonce
 * above its contiguous run) go first, whatever they pay, so transactions
 * that cannot be taken never keep out one that can; then cheaper
 * candidates. */
static int make_room(pel_mempool *mp, const sender *s, const entry *e)
{
    if (e->cost > mp->o.max_bytes) return PEL_EFULL;
    while (mp->count >= mp->o.max_txs || mp->bytes + e->cost > mp->o.max_bytes) {
        if (mp->gap.n && e->tx.nonce <= s->contig) {
            drop(mp, mp->gap.a[0]->gap, PEL_EEVICTED);
            continue;
        }
        if (mp->evict.n == 0) return PEL_EFULL;
        sender *v = mp->evict.a[0];
        entry *c = v->evict;
        if (c->tx.gas_price >= e->tx.gas_price) return PEL_EFULL;
        if (v == s && c->tx.nonce < e->tx.nonce) return PEL_EFULL;   /* e would sit on a gap */
        drop(mp, c, PEL_EEVICTED);
    }
    return 0;
}

/* The stateful checks that need no change to the pool, in order. */
static int judge(pel_mempool *mp, const sender *s, const entry *e, const entry *old,
                 uint64_t nonce, uint64_t balance, const char **why)
{
    if (e->tx.nonce < nonce) { *why = M_NONCE; return PEL_ENONCE; }
    if (e->tx.nonce - nonce > mp->o.max_per_sender) { *why = M_FUTURE; return PEL_EFUTURE; }
    if (!covers(s, old, e, balance)) { *why = M_FUNDS; return PEL_EFUNDS; }
    if (old && old->taken) { *why = M_TAKEN; return PEL_EDUP; }
    if (old && e->tx.gas_price <= old->tx.gas_price) { *why = M_REPLACE; return PEL_EDUP; }
    if (!old && s && s->count >= mp->o.max_per_sender) { *why = M_SENDER; return PEL_EFULL; }
    return 0;
}

/* Admit it->e or say why not; RETRY asks for a fresh account read. */
static int admit(pel_mempool *mp, item *it, const char **why)
{
    entry *e = it->e, *old;
    uint64_t nonce, balance;
    if (id_find(mp, e->tx.id, e->hn.h)) { *why = M_DUP; return PEL_EDUP; }
    sender *s = sender_find(mp, &e->tx.from, e->addr_h);
    int rc = account(mp, s, it, &nonce, &balance);
    if (rc) { *why = M_ACCOUNT; return rc; }
    old = s ? t_find(s->root, e->tx.nonce) : NULL;
    rc = judge(mp, s, e, old, nonce, balance, why);
    if (rc) return rc;
    if (!s && sender_new(mp, e, nonce, balance, &s)) { *why = M_NOMEM; return PEL_ENOMEM; }
    s->pins++;
    if (old && mp->bytes - old->cost + e->cost > mp->o.max_bytes) rc = PEL_EFULL;
    else if (old) drop(mp, old, PEL_EEVICTED);
    else rc = make_room(mp, s, e);
    if (!rc) insert(mp, s, e);
    else *why = M_FULL;
    s->pins--;
    sender_maybe_free(mp, s);
    return rc;
}

/* Settle item i under the lock; RETRY leaves it for a re-read. */
static int settle(pel_mempool *mp, item *it, pel_mempool_result *r)
{
    if (!it->e) {
        if (r->has_id) remember(mp, r->id, it->id_h, r->code);
        return 0;
    }
    const char *why = NULL;
    int rc = admit(mp, it, &why);
    if (rc == RETRY) return RETRY;
    if (rc) {
        refuse(r, rc, why);
        if (why != M_DUP) remember(mp, r->id, it->id_h, rc);   /* a pending id stays pending */
        free(it->e);
    }
    it->e = NULL;
    return 0;
}

static void admit_all(pel_mempool *mp, batch *b)
{
    size_t i = 0;
    while (i < b->n) {
        size_t end = b->n - i < LOCK_SPAN ? b->n : i + LOCK_SPAN;
        int retry = 0;
        pthread_mutex_lock(&mp->mu);
        for (; i < end && !retry; i++) retry = settle(mp, &b->it[i], &b->res[i]) == RETRY;
        pthread_mutex_unlock(&mp->mu);
        if (retry) read_account(mp, &b->it[--i]);
    }
}

/* ---- public API ---- */

pel_mempool_opts pel_mempool_defaults(void)
{
    pel_mempool_opts o = {
        .max_txs = 200000,
        .max_bytes = 256ull << 20,
        .max_per_sender = 8192,
        .verify_threads = pel_cpu_count(),
        .reject_memory = 100000,
    };
    return o;
}

static int init_tables(pel_mempool *mp)
{
    mp->ready.kind = READY;
    mp->evict.kind = EVICT;
    mp->gap.kind = GAP;
    if (ht_init(&mp->ids, 1024) || ht_init(&mp->senders, 1024)) return PEL_ENOMEM;
    if (ht_init(&mp->rtab, mp->o.reject_memory)) return PEL_ENOMEM;
    if (mp->o.reject_memory) {
        mp->ring = calloc(mp->o.reject_memory, sizeof *mp->ring);
        if (!mp->ring) return PEL_ENOMEM;
    }
    return 0;
}

int pel_mempool_new(const pel_mempool_opts *o, const pel_chain_params *params,
                    pel_mempool_accounts acc, pel_mempool **out)
{
    *out = NULL;
    pel_mempool_opts opts = o ? *o : pel_mempool_defaults();
    if (!opts.max_txs || !opts.max_bytes || !opts.max_per_sender || !acc.get) return PEL_EINVAL;
    if (!opts.verify_threads) opts.verify_threads = pel_mempool_defaults().verify_threads;
    int rc = pel_crypto_init();
    if (rc) return rc;
    pel_mempool *mp = calloc(1, sizeof *mp);
    if (!mp) return PEL_ENOMEM;
    mp->o = opts;
    mp->params = params;
    mp->acc = acc;
    pthread_mutex_init(&mp->mu, NULL);
    pthread_mutex_init(&mp->done_mu, NULL);
    pthread_mutex_init(&mp->pool_mu, NULL);
    atomic_init(&mp->height, 1);
    atomic_init(&mp->epoch, 0);
    randombytes_buf(mp->hkey, sizeof mp->hkey);
    randombytes_buf(&mp->prng, sizeof mp->prng);
    mp->prng |= 1;   /* xorshift must not start at 0 */
    rc = init_tables(mp);
    if (!rc) rc = pel_keycache_new(&mp->keys);
    if (!rc && opts.verify_threads > 1) rc = pel_pool_new(opts.verify_threads, &mp->pool);
    if (!rc) pel_pool_name(mp->pool, "pel-verify");
    if (rc) goto fail;
    *out = mp;
    return 0;
fail:
    pel_mempool_free(mp);
    return rc;
}

void pel_mempool_free(pel_mempool *mp)
{
    if (!mp) return;
    for (size_t i = 0; mp->ids.b && i <= mp->ids.mask; i++)
        for (hnode *x = mp->ids.b[i], *nx; x; x = nx) { nx = x->next; free(x); }
    for (size_t i = 0; mp->senders.b && i <= mp->senders.mask; i++)
        for (hnode *x = mp->senders.b[i], *nx; x; x = nx) { nx = x->next; free(x); }
    free(mp->ids.b);
    free(mp->senders.b);
    free(mp->rtab.b);
    free(mp->ring);
    free(mp->ready.a);
    free(mp->evict.a);
    free(mp->gap.a);
    pel_pool_free(mp->pool);
    pel_keycache_free(mp->keys);
    pthread_mutex_destroy(&mp->mu);
    pthread_mutex_destroy(&mp->done_mu);
    pthread_mutex_destroy(&mp->pool_mu);
    free(mp);
}

int pel_mempool_submit(pel_mempool *mp, const uint8_t *const *raw, const size_t *len, size_t n,
                       pel_mempool_result *res)
{
    if (n == 0) return 0;
    if (!raw || !len || !res) return PEL_EINVAL;
    item small[SMALL_BATCH];
    item *it = n <= SMALL_BATCH ? small : malloc(n * sizeof *it);
    if (!it) {
        for (size_t i = 0; i < n; i++) {
            memset(&res[i], 0, sizeof res[i]);
            refuse(&res[i], PEL_ENOMEM, M_NOMEM);
        }
        return PEL_ENOMEM;
    }
    batch b = { .mp = mp, .raw = raw, .len = len, .it = it, .res = res, .n = n };
    atomic_init(&b.next, 0);
    verify_batch(mp, &b);
    read_accounts(mp, &b);
    admit_all(mp, &b);
    if (it != small) free(it);
    return 0;
}

void pel_mempool_set_height(pel_mempool *mp, uint64_t next_height)
{
    atomic_store_explicit(&mp->height, next_height, memory_order_relaxed);
}

size_t pel_mempool_take(pel_mempool *mp, size_t max, const pel_tx **out)
{
    uint64_t height = atomic_load_explicit(&mp->height, memory_order_relaxed);
    size_t k = 0;
    pthread_mutex_lock(&mp->mu);
    while (k < max && mp->ready.n) {
        sender *s = mp->ready.a[0];
        entry *e = s->ready;
        if (expired(&e->tx, height)) { drop(mp, e, PEL_EEXPIRED); continue; }
        e->taken = 1;
        s->taken++;
        if (e->tx.nonce != UINT64_MAX) s->next = e->tx.nonce + 1;
        out[k++] = &e->tx;
        refresh(mp, s);
    }
    pthread_mutex_unlock(&mp->mu);
    return k;
}

/* Drop s's untaken entries below its committed nonce. */
static void drop_stale(pel_mempool *mp, sender *s)
{
    entry *e;
    uint64_t from = 0;
    while ((e = t_ceil(s->root, from)) != NULL && e->tx.nonce < s->nonce) {
        from = e->tx.nonce + 1;
        if (!e->taken) drop(mp, e, PEL_ENONCE);
    }
}

/* Fresh committed state for s (rc != 0: the read failed, keep the old
 * state and the held spend for the next successful read). */
static void apply(pel_mempool *mp, sender *s, int rc, uint64_t nonce, uint64_t balance)
{
    if (!rc) {
        s->spend -= s->held;
        s->held = 0;
        s->nonce = nonce;
        s->balance = balance;
        if (s->taken == 0) s->next = s->contig = nonce;   /* nothing in flight: resync */
        else if (s->next < nonce) s->next = nonce;
        drop_stale(mp, s);
    }
    refresh(mp, s);
}

/* One transaction at a time: the path when scratch memory is short. */
static void done_one(pel_mempool *mp, entry *e)
{
    uint64_t nonce = 0, balance = 0;
    pthread_mutex_lock(&mp->mu);
    sender *s = e->s;
    s->pins++;
    forget(mp, e);
    pthread_mutex_unlock(&mp->mu);
    int rc = mp->acc.get(mp->acc.ctx, &s->addr, &nonce, &balance);
    pthread_mutex_lock(&mp->mu);
    apply(mp, s, rc, nonce, balance);
    s->pins--;
    sender_maybe_free(mp, s);
    atomic_fetch_add_explicit(&mp->epoch, 1, memory_order_release);
    pthread_mutex_unlock(&mp->mu);
}

typedef struct fresh { uint64_t nonce, balance; int rc; } fresh;

/* The k senders in aff, pinned and marked under mu (held on entry, released
 * on return): unmark, read their committed state outside the lock (pinned
 * senders stay; addr is immutable), apply it, unpin. */
static void reread(pel_mempool *mp, sender **aff, fresh *st, size_t k)
{
    for (size_t j = 0; j < k; j++) aff[j]->mark = 0;
    pthread_mutex_unlock(&mp->mu);
    for (size_t j = 0; j < k; j++)
        st[j].rc = mp->acc.get(mp->acc.ctx, &aff[j]->addr, &st[j].nonce, &st[j].balance);
    pthread_mutex_lock(&mp->mu);
    for (size_t j = 0; j < k; j++) {
        apply(mp, aff[j], st[j].rc, st[j].nonce, st[j].balance);
        aff[j]->pins--;
        sender_maybe_free(mp, aff[j]);
    }
    atomic_fetch_add_explicit(&mp->epoch, 1, memory_order_release);
    pthread_mutex_unlock(&mp->mu);
}

static void done_commit(pel_mempool *mp, const pel_tx *const *txs, size_t n)
{
    sender **aff = malloc(n * sizeof *aff);
    fresh *st = malloc(n * sizeof *st);
    size_t k = 0;
    if (!aff || !st) {
        for (size_t i = 0; i < n; i++) done_one(mp, ENTRY_OF(txs[i]));
        goto out;
    }
    pthread_mutex_lock(&mp->mu);
    for (size_t i = 0; i < n; i++) {
        entry *e = ENTRY_OF(txs[i]);
        sender *s = e->s;
        if (!s->mark) { s->mark = 1; s->pins++; aff[k++] = s; }
        forget(mp, e);
    }
    reread(mp, aff, st, k);
out:
    free(aff);
    free(st);
}

/* Up to CHUNK_SENDERS transactions of a block committed elsewhere: forget
 * the untaken ones pending here, then re-read every sender of theirs that
 * has a record (pinned meanwhile). Caller holds done_mu. */
#define CHUNK_SENDERS 64
static void committed_chunk(pel_mempool *mp, const pel_tx *const *txs, size_t n)
{
    sender *aff[CHUNK_SENDERS];
    fresh st[CHUNK_SENDERS];
    size_t k = 0;
    pthread_mutex_lock(&mp->mu);
    for (size_t i = 0; i < n; i++) {
        entry *e = id_find(mp, txs[i]->id, keyed(mp, txs[i]->id, PEL_TXID_LEN));
        sender *s = e ? e->s : sender_find(mp, &txs[i]->from, keyed(mp, txs[i]->from.b, PEL_ADDR_LEN));
        if (!s) continue;
        if (!s->mark) { s->mark = 1; s->pins++; aff[k++] = s; }
        if (e && !e->taken) forget(mp, e);
    }
    reread(mp, aff, st, k);
}

void pel_mempool_committed(pel_mempool *mp, const pel_tx *const *txs, size_t n)
{
    pthread_mutex_lock(&mp->done_mu);
    for (size_t i = 0; i < n; i += CHUNK_SENDERS)
        committed_chunk(mp, txs + i, n - i < CHUNK_SENDERS ? n - i : CHUNK_SENDERS);
    pthread_mutex_unlock(&mp->done_mu);
}

static void done_abort(pel_mempool *mp, const pel_tx *const *txs, size_t n)
{
    pthread_mutex_lock(&mp->mu);
    for (size_t i = 0; i < n; i++) {
        entry *e = ENTRY_OF(txs[i]);
        sender *s = e->s;
        if (e->taken) {
            e->taken = 0;
            s->taken--;
            /* below the committed nonce: committed meanwhile by a block
             * this mempool did not take it for (pel_mempool_committed) */
            if (e->tx.nonce < s->nonce) { drop(mp, e, PEL_ENONCE); continue; }
            if (e->tx.nonce < s->next) s->next = e->tx.nonce;
        }
        refresh(mp, s);
    }
    pthread_mutex_unlock(&mp->mu);
}

void pel_mempool_done(pel_mempool *mp, const pel_tx *const *txs, size_t n, int committed)
{
    if (n == 0) return;
    pthread_mutex_lock(&mp->done_mu);
    if (committed) done_commit(mp, txs, n);
    else done_abort(mp, txs, n);
    pthread_mutex_unlock(&mp->done_mu);
}

int pel_mempool_lookup(pel_mempool *mp, const uint8_t id[PEL_TXID_LEN], int *reason)
{
    uint64_t h = keyed(mp, id, PEL_TXID_LEN);
    int state = PEL_MEMPOOL_UNKNOWN;
    pthread_mutex_lock(&mp->mu);
    rej *r;
    if (id_find(mp, id, h)) state = PEL_MEMPOOL_PENDING;
    else if ((r = rej_find(mp, id, h)) != NULL) {
        state = PEL_MEMPOOL_REJECTED;
        if (reason) *reason = r->reason;
    }
    pthread_mutex_unlock(&mp->mu);
    return state;
}

uint64_t pel_mempool_next_nonce(pel_mempool *mp, const pel_addr *a)
{
    uint64_t h = keyed(mp, a->b, PEL_ADDR_LEN), nonce = 0, balance = 0;
    pthread_mutex_lock(&mp->mu);
    sender *s = sender_find(mp, a, h);
    int found = s != NULL;
    if (found) nonce = s->contig;
    pthread_mutex_unlock(&mp->mu);
    if (!found && mp->acc.get(mp->acc.ctx, a, &nonce, &balance)) nonce = 0;
    return nonce;
}

void pel_mempool_stats(pel_mempool *mp, uint64_t *txs, uint64_t *bytes, uint64_t *senders)
{
    pthread_mutex_lock(&mp->mu);
    if (txs) *txs = mp->count;
    if (bytes) *bytes = mp->bytes;
    if (senders) *senders = mp->senders.n;
    pthread_mutex_unlock(&mp->mu);
}
