/* fuzz_proof.c - libFuzzer target for proof files (state/proof.h).
 * Two properties per input:
 *   1. the input as a proof file: parse returns 0 or an error (and leaves
 *      the proof empty on error); a proof that parses formats without
 *      error, parses back equal, formats to the same text again (one
 *      proof, one canonical text), and verifies against the fuzz key with
 *      0 or a known code; a verified proof describes itself;
 *   2. three valid files made at start-up with the fuzz key (a transaction
 *      in a tree of one leaf, a key in the empty state tree, a ledger
 *      consistent with itself), edited at the positions the input names
 *      (3 bytes an edit: u16 offset, XOR mask). An edited file that still
 *      verifies must make the same claim about the same signed checkpoint
 *      (the empty tree proves every key absent, so there the key may
 *      change; the claim of absence may not).
 * No store: the trees here need only the pure functions. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/hash.h"
#include "state/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pel_note_verifier key;
static pel_buf tmpl[3];              /* canonical texts of the valid files */
static pel_proof orig[3];

static void must(int rc)
{
    if (rc) abort();
}

static void set(pel_buf *b, const void *p, size_t n)
{
    pel_buf_reset(b);
    must(pel_buf_append(b, p, n));
}

static void setup(void)
{
    static const uint8_t tx[] = "a transaction", rc[] = "a receipt";
    uint8_t seed[PEL_SEED_LEN], pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN], id[32], dg[32];
    pel_checkpoint c;
    pel_buf note;
    memset(seed, 0x5a, sizeof seed);
    must(pel_sign_seed_keypair(pk, sk, seed));
    must(pel_note_verifier_from_key("fuzz.example/pel", pk, &key));
    memset(&c, 0, sizeof c);
    strcpy(c.origin, "fuzz.example/pel");
    c.size = 1;
    c.height = 3;
    c.timestamp_ms = 1700000000000ull;
    must(pel_hash_tagged("PEL/txid", tx, sizeof tx, id));
    must(pel_hash_tagged("PEL/receipt", rc, sizeof rc, dg));
    pel_history_leaf(3, 0, id, dg, c.root);            /* one leaf: the root */
    pel_buf_init(&note);
    must(pel_checkpoint_sign(&c, sk, &note));
    for (int i = 0; i < 3; i++) {
        pel_proof_init(&orig[i]);
        pel_buf_init(&tmpl[i]);
        set(&orig[i].checkpoint, note.data, note.len);
    }
    orig[0].type = PEL_PROOF_TX;
    orig[0].height = 3;
    set(&orig[0].tx, tx, sizeof tx);
    set(&orig[0].receipt, rc, sizeof rc);
    orig[1].type = PEL_PROOF_STATE;
    memset(orig[1].key.b, 0x11, sizeof orig[1].key.b);
    orig[1].state_proof.kind = PEL_SMT_ABSENT_EMPTY;   /* depth 0: empty tree */
    orig[2].type = PEL_PROOF_CONSISTENCY;
    set(&orig[2].old_checkpoint, note.data, note.len);
    for (int i = 0; i < 3; i++) {
        must(pel_proof_format(&orig[i], &tmpl[i]));
        if (pel_proof_verify(&orig[i], &key, NULL, NULL, 0)) abort();
    }
    pel_buf_free(&note);
    sodium_memzero(sk, sizeof sk);
}

static bool buf_eq(const pel_buf *a, const pel_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool known_code(int rc)
{
    return rc == 0 || rc == PEL_EPROOF || (rc <= PEL_ENOTE && rc >= PEL_ECKPT_EXT) ||
           rc == PEL_EBADKEY;
}

static bool empty(const pel_proof *p)
{
    return p->type == 0 && p->checkpoint.len == 0 && p->tx.len == 0 && p->receipt.len == 0 &&
           p->value.len == 0 && p->old_checkpoint.len == 0 && p->path_len == 0;
}

/* property 1; returns the verify code (1 when it does not parse). */
static int any_input(const uint8_t *data, size_t size, pel_proof *p)
{
    pel_proof q;
    pel_buf t1, t2;
    char msg[256];
    int rc = pel_proof_parse((const char *)data, size, p, msg, sizeof msg);
    if (rc) {
        if ((rc != PEL_EPROOF_FORMAT && rc != PEL_EPROOF_VERSION) || !empty(p) || !msg[0])
            abort();
        return 1;
    }
    pel_proof_init(&q);
    pel_buf_init(&t1);
    pel_buf_init(&t2);
    must(pel_proof_format(p, &t1));
    must(pel_proof_parse((const char *)t1.data, t1.len, &q, NULL, 0));
    must(pel_proof_format(&q, &t2));
    if (!buf_eq(&t1, &t2) || !buf_eq(&p->checkpoint, &q.checkpoint) ||
        !buf_eq(&p->tx, &q.tx) || !buf_eq(&p->value, &q.value) || p->path_len != q.path_len ||
        memcmp(&p->state_proof, &q.state_proof, sizeof q.state_proof) != 0)
        abort();
    pel_proof_result r;
    rc = pel_proof_verify(p, &key, &r, msg, sizeof msg);
    if (!known_code(rc) || (rc && !msg[0])) abort();
    if (rc == 0) {
        pel_buf_reset(&t1);
        must(pel_proof_describe(p, &r, &t1));
        if (t1.len == 0 || t1.data[t1.len - 1] != '\n') abort();
    }
    pel_buf_free(&t1);
    pel_buf_free(&t2);
    pel_proof_free(&q);
    return rc;
}

/* same_claim - what an edited file that verifies may differ in. */
static bool same_claim(const pel_proof *a, const pel_proof *b)
{
    if (a->type != b->type || !buf_eq(&a->checkpoint, &b->checkpoint)) return false;
    switch (a->type) {
    case PEL_PROOF_TX:
        return a->height == b->height && a->index == b->index &&
               a->leaf_index == b->leaf_index && buf_eq(&a->tx, &b->tx) &&
               buf_eq(&a->receipt, &b->receipt);
    case PEL_PROOF_STATE:
        return !b->has_value;
    default:
        return buf_eq(&a->old_checkpoint, &b->old_checkpoint);
    }
}

/* property 2 */
static void edited(const uint8_t *data, size_t size)
{
    if (size < 1) return;
    const pel_buf *t = &tmpl[data[0] % 3];
    uint8_t *m = malloc(t->len);
    pel_proof p;
    if (!m) abort();
    memcpy(m, t->data, t->len);
    for (size_t i = 1; i + 3 <= size; i += 3)
        m[((size_t)data[i] | (size_t)data[i + 1] << 8) % t->len] ^= data[i + 2];
    pel_proof_init(&p);
    if (any_input(m, t->len, &p) == 0 && !same_claim(&orig[data[0] % 3], &p)) abort();
    pel_proof_free(&p);
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    pel_proof p;
    if (!ready) setup(), ready = true;
    pel_proof_init(&p);
    any_input(data, size, &p);
    pel_proof_free(&p);
    edited(data, size);
    return 0;
}
