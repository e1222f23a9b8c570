/*
 * ledger.c - accounts, fees and the executor for signed transactions
 * (semantics in ledger.h). Every engine calls pel_ledger_exec; everything it
 * knows about state comes through the view.
 */
#include "ledger/ledger.h"

#include <pthread.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"

pel_gas_schedule pel_gas_defaults(void)
{
    pel_gas_schedule g = { .base = 1000, .per_byte = 10 };
    return g;
}

/* ---- state keys ---- */

static void addr_key(const char *tag, const pel_addr *a, pel_key *out)
{
    if (pel_hash_tagged(tag, a->b, PEL_ADDR_LEN, out->b) != 0) memset(out, 0, sizeof *out);
}

void pel_key_balance(const pel_addr *a, pel_key *out) { addr_key("PEL/acct-balance", a, out); }
void pel_key_nonce(const pel_addr *a, pel_key *out) { addr_key("PEL/acct-nonce", a, out); }

/* The fee pool's key is a constant: hashed once per process. */
static pel_key fee_pool_key;
static pthread_once_t fee_pool_once = PTHREAD_ONCE_INIT;

static void fee_pool_init(void)
{
    if (pel_hash_tagged("PEL/fee-pool", NULL, 0, fee_pool_key.b) != 0) memset(&fee_pool_key, 0, sizeof fee_pool_key);
}

void pel_key_fee_pool(pel_key *out)
{
    /* a failed pthread_once leaves nothing to read: hash it here instead */
    if (pthread_once(&fee_pool_once, fee_pool_init) != 0) {
        if (pel_hash_tagged("PEL/fee-pool", NULL, 0, out->b) != 0) memset(out, 0, sizeof *out);
        return;
    }
    *out = fee_pool_key;
}

/* ---- fees ---- */

uint64_t pel_intrinsic_gas(const pel_gas_schedule *g, uint32_t size)
{
    uint64_t bytes;
    if (__builtin_mul_overflow(g->per_byte, (uint64_t)size, &bytes)) return UINT64_MAX;
    return g->base > UINT64_MAX - bytes ? UINT64_MAX : g->base + bytes;
}

int pel_tx_max_fee(const pel_tx *tx, uint64_t *out)
{
    if (__builtin_mul_overflow(tx->gas_limit, tx->gas_price, out)) { *out = 0; return PEL_ERANGE; }
    return 0;
}

/* The amount a transaction's body moves out of the sender (0 if none). */
static uint64_t body_amount(const pel_chain_params *p, const pel_tx *tx)
{
    pel_addr to;
    uint64_t amount = 0;
    if (tx->type == PEL_TX_TRANSFER) {
        if (pel_transfer_parse(tx->body, tx->body_len, &to, &amount)) amount = 0;
        return amount;
    }
    const pel_tx_module *m = p ? pel_module_find(p->modules, tx->type) : NULL;
    return m && m->spend ? m->spend(tx->type, tx->body, tx->body_len) : 0;
}

int pel_tx_spend(const pel_chain_params *p, const pel_tx *tx, uint64_t *out)
{
    uint64_t fee;
    if (pel_tx_max_fee(tx, &fee) || __builtin_add_overflow(fee, body_amount(p, tx), out)) {
        *out = 0;
        return PEL_ERANGE;
    }
    return 0;
}

/* check_body - is the body well formed for its type? 0 or a code, with a
 * static message in *why. */
static int check_body(const pel_chain_params *p, const pel_tx *tx, const char **why)
{
    pel_addr to;
    uint64_t amount;
    if (tx->type == PEL_TX_TRANSFER) {
        if (pel_transfer_parse(tx->body, tx->body_len, &to, &amount) == 0) return 0;
        *why = "malformed transfer body";
        return PEL_ETXTYPE;
    }
    const pel_tx_module *m = pel_module_find(p->modules, tx->type);
    if (!m) { *why = "unknown transaction type"; return PEL_ETXTYPE; }
    *why = NULL;
    int rc = m->check(tx->type, tx->body, tx->body_len, why);
    if (rc && !*why) *why = "malformed transaction body";
    return rc;
}

static int chain_matches(const pel_chain_params *p, const pel_tx *tx)
{
    return tx->chain_id_len == strlen(p->chain_id) &&
           memcmp(tx->chain_id, p->chain_id, tx->chain_id_len) == 0;
}

static int has_key(const pel_key *keys, uint32_t n, const pel_key *k)
{
    for (uint32_t i = 0; i < n; i++)
        if (pel_key_eq(&keys[i], k)) return 1;
    return 0;
}

/* A declared access list must cover the ledger's own bookkeeping, or the
 * engines would discard the whole transaction, fee included: the sender's
 * nonce (write), its balance and the fee pool (delta or write), and for a
 * transfer the recipient's balance. */
static int access_complete(const pel_tx *tx)
{
    const pel_access *a = &tx->access;
    pel_key k[3];
    pel_addr to;
    uint64_t amount;
    pel_key_nonce(&tx->from, &k[0]);
    if (!has_key(a->writes, a->n_writes, &k[0])) return 0;
    pel_key_balance(&tx->from, &k[0]);
    pel_key_fee_pool(&k[1]);
    int n = 2;
    if (tx->type == PEL_TX_TRANSFER && pel_transfer_parse(tx->body, tx->body_len, &to, &amount) == 0)
        pel_key_balance(&to, &k[n++]);
    for (int i = 0; i < n; i++)
        if (!has_key(a->deltas, a->n_deltas, &k[i]) && !has_key(a->writes, a->n_writes, &k[i]))
            return 0;
    return 1;
}

int pel_ledger_precheck(const pel_chain_params *p, const pel_tx *tx, const char **why)
{
    uint64_t spend;
    int rc = 0;
    const char *msg = NULL;
    if (!chain_matches(p, tx)) { rc = PEL_ECHAIN; msg = "transaction is for another chain id"; }
    else if ((rc = check_body(p, tx, &msg)) != 0) { }
    else if (tx->gas_limit < pel_intrinsic_gas(&p->gas, tx->size)) {
        rc = PEL_EGAS; msg = "gas limit below the intrinsic cost (base + per byte)";
    } else if (tx->gas_price < p->min_gas_price) { rc = PEL_EFEE; msg = "gas price below the node's minimum"; }
    else if (pel_tx_spend(p, tx, &spend)) { rc = PEL_EFUNDS; msg = "max fee plus amount overflows 64 bits"; }
    else if (tx->has_access && !access_complete(tx)) {
        rc = PEL_EACCESS;
        msg = "access list must declare the sender's nonce (write), its balance, the fee pool and the recipient's balance (delta or write)";
    }
    if (why) *why = msg;
    return rc;
}

/* ---- execution ---- */

int pel_ledger_emit_transfer(pel_view *v, const pel_addr *from, const pel_addr *to, uint64_t amount)
{
    uint8_t ev[PEL_EV_TRANSFER_LEN];
    ev[0] = PEL_EV_TRANSFER;
    memcpy(ev + 1, from->b, PEL_ADDR_LEN);
    memcpy(ev + 1 + PEL_ADDR_LEN, to->b, PEL_ADDR_LEN);
    pel_le_store(ev + 1 + 2 * PEL_ADDR_LEN, amount, 8);
    return pel_view_emit(v, ev, sizeof ev);
}

bool pel_ledger_transfer_event(const uint8_t *ev, size_t len, pel_addr *from, pel_addr *to,
                               uint64_t *amount)
{
    if (len != PEL_EV_TRANSFER_LEN || ev[0] != PEL_EV_TRANSFER) return false;
    memcpy(from->b, ev + 1, PEL_ADDR_LEN);
    memcpy(to->b, ev + 1 + PEL_ADDR_LEN, PEL_ADDR_LEN);
    *amount = pel_le_load(ev + 1 + 2 * PEL_ADDR_LEN, 8);
    return true;
}

int pel_ledger_credit(pel_view *v, const pel_addr *from, const pel_addr *to, uint64_t amount)
{
    pel_key k;
    if (amount > INT64_MAX) return PEL_ERANGE;
    pel_key_balance(to, &k);
    int rc = pel_view_delta_add(v, &k, (int64_t)amount, UINT64_MAX);
    if (rc == PEL_EBOUND) return PEL_ERANGE;   /* the balance would overflow */
    return rc ? rc : pel_ledger_emit_transfer(v, from, to, amount);
}

/* move_from - pel_ledger_move with the sender's balance key (kfrom) known. */
static int move_from(pel_view *v, const pel_key *kfrom, const pel_addr *from, const pel_addr *to,
                     uint64_t amount)
{
    if (amount > INT64_MAX) return PEL_ERANGE;
    int rc = pel_view_delta_add(v, kfrom, -(int64_t)amount, UINT64_MAX);
    if (rc == PEL_EBOUND) return PEL_EFUNDS;
    return rc ? rc : pel_ledger_credit(v, from, to, amount);
}

int pel_ledger_move(pel_view *v, const pel_addr *from, const pel_addr *to, uint64_t amount)
{
    pel_key k;
    pel_key_balance(from, &k);
    return move_from(v, &k, from, to, amount);
}

/* The sender's state keys, derived once per transaction (each is a hash;
 * the nonce is read and written, the balance charged, refunded and, for a
 * transfer, debited). */
typedef struct sender_keys { pel_key nonce, balance; } sender_keys;

static int exec_transfer(const pel_tx *tx, const sender_keys *sk, pel_view *v)
{
    pel_addr to;
    uint64_t amount;
    int rc = pel_transfer_parse(tx->body, tx->body_len, &to, &amount);
    return rc ? rc : move_from(v, &sk->balance, &tx->from, &to, amount);
}

/* exec_body - run the body. A module's exec validates its body itself with
 * check's rules and codes (module.h), so check_body is not called here: the
 * body is decoded once. */
static int exec_body(const pel_ledger_ctx *c, const pel_tx *tx, const sender_keys *sk, pel_view *v)
{
    if (tx->type == PEL_TX_TRANSFER) return exec_transfer(tx, sk, v);
    const pel_tx_module *m = pel_module_find(c->params->modules, tx->type);
    if (!m) return PEL_ETXTYPE;
    pel_module_ctx mc = { .height = c->height, .time_ms = c->time_ms };
    return m->exec(&mc, tx, v);
}

/* Add `amount` (may be negative) to a counter with no upper bound but
 * u64. Fee amounts fit int64: the reservation was checked against that. */
static int counter_add(pel_view *v, const pel_key *k, int64_t amount)
{
    return pel_view_delta_add(v, k, amount, UINT64_MAX);
}

/* Step 1 of ledger.h: is the transaction valid at all in this block? */
static int check_void(const pel_ledger_ctx *c, const pel_tx *tx, const sender_keys *sk, pel_view *v,
                      uint64_t *max_fee)
{
    uint64_t nonce;
    if (!chain_matches(c->params, tx)) return PEL_ECHAIN;
    if (tx->expiry_height != 0 && c->height > tx->expiry_height) return PEL_EEXPIRED;
    if (tx->gas_limit < pel_intrinsic_gas(&c->params->gas, tx->size)) return PEL_EGAS;
    if (pel_tx_max_fee(tx, max_fee) || *max_fee > INT64_MAX) return PEL_EGAS;
    int rc = pel_view_get_u64(v, &sk->nonce, &nonce);
    if (rc) return rc;
    return nonce == tx->nonce ? 0 : PEL_ENONCE;
}

/* Consume the nonce and reserve the max fee. */
static int reserve(const pel_tx *tx, const sender_keys *sk, pel_view *v, uint64_t max_fee)
{
    if (tx->nonce == UINT64_MAX) return PEL_ENONCE;
    int rc = pel_view_put_u64(v, &sk->nonce, tx->nonce + 1);
    if (!rc) rc = counter_add(v, &sk->balance, -(int64_t)max_fee);
    return rc == PEL_EBOUND ? PEL_EFUNDS : rc;
}

/* Pay the fee: return what was reserved beyond it, credit the pool. */
static int settle(const sender_keys *sk, pel_view *v, uint64_t max_fee, uint64_t fee)
{
    pel_key kp;
    pel_key_fee_pool(&kp);
    int rc = 0;
    if (max_fee > fee) rc = counter_add(v, &sk->balance, (int64_t)(max_fee - fee));
    if (!rc && fee > 0) rc = counter_add(v, &kp, (int64_t)fee);
    return rc;
}

int pel_ledger_exec(void *ctx, const void *txp, pel_view *v)
{
    const pel_ledger_ctx *c = ctx;
    const pel_tx *tx = txp;
    uint64_t max_fee = 0;
    sender_keys sk;
    pel_key_nonce(&tx->from, &sk.nonce);
    pel_key_balance(&tx->from, &sk.balance);
    int rc = check_void(c, tx, &sk, v, &max_fee);
    if (!rc) rc = reserve(tx, &sk, v, max_fee);
    if (rc) {                          /* void: no effect, no gas */
        pel_view_rollback(v);
        pel_view_set_gas(v, 0);
        return rc;
    }
    uint64_t before = pel_view_gas(v);
    int status = exec_body(c, tx, &sk, v);
    if (status == PEL_EHALT) return status;
    uint64_t gas = pel_intrinsic_gas(&c->params->gas, tx->size);
    uint64_t body_gas = pel_view_gas(v) - before;
    gas = body_gas > UINT64_MAX - gas ? UINT64_MAX : gas + body_gas;
    if (gas > tx->gas_limit) { status = PEL_EGAS; gas = tx->gas_limit; }
    if (status) {                      /* failed: undo the body, keep nonce + fee */
        pel_view_rollback(v);
        rc = reserve(tx, &sk, v, max_fee);
        if (rc) { status = rc; goto out; }
    }
    rc = settle(&sk, v, max_fee, gas * tx->gas_price);
    if (rc) status = rc;
out:
    pel_view_set_gas(v, gas);
    return status;
}
