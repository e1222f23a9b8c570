/* fuzz_smt.c - libFuzzer target for the state-tree proof decoder and
 * verifier (state/smt.h). Two properties per input:
 *   1. the whole input as an encoded proof: decode returns 0 or an error;
 *      on success the proof re-encodes to exactly the input (one proof,
 *      one encoding), and verify returns 0 or PEL_EPROOF for any key and
 *      claim (present with a value, absent);
 *   2. a real tree of 200 keys (every other one present), built once in a
 *      temporary store: the correct proof of key (byte 0 mod 400) verifies,
 *      and the proof edited by the input (length changed by byte 1, bytes
 *      XORed with the rest) decodes and verifies only when the edits
 *      cancel out. Without a BLAKE2b collision the verifier accepts exactly
 *      one proof per key.
 * The store lives under /tmp for the process and is removed at exit. */
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/hash.h"
#include "state/smt.h"
#include "state/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NKEYS 400

static pel_key keys[NKEYS];
static uint8_t vals[NKEYS][8];
static pel_buf enc[NKEYS];     /* the correct proof of each key, encoded */
static uint8_t root[32];
static bool ready;
static char dir[] = "/tmp/pel_fuzz_smt_XXXXXX";

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st; (void)flag; (void)f;
    return remove(p);
}

static void cleanup(void)
{
    (void)nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void make_key(uint32_t i, pel_key *k)
{
    uint8_t in[4] = { (uint8_t)i, (uint8_t)(i >> 8), 0, 0 };
    if (pel_hash_tagged("fuzz-smt-key", in, sizeof in, k->b)) abort();
}

/* setup - the tree (keys 0, 2, 4, ... present) and every key's proof. */
static void setup(void)
{
    if (!mkdtemp(dir)) abort();
    atexit(cleanup);
    pel_store *s;
    if (pel_store_open(dir, NULL, &s)) abort();
    pel_write *w = calloc(NKEYS, sizeof *w);
    uint32_t n = 0;
    for (uint32_t i = 0; i < NKEYS; i++) {
        make_key(i, &keys[i]);
        memcpy(vals[i], &i, sizeof i);
    }
    for (uint32_t i = 0; i < NKEYS; i += 2)
        w[n++] = (pel_write){ keys[i], PEL_W_PUT, { vals[i], sizeof vals[i] } };
    for (uint32_t i = 1; i < n; i++)             /* sort by key */
        for (uint32_t j = i; j > 0 && pel_key_cmp(&w[j - 1].key, &w[j].key) > 0; j--) {
            pel_write t = w[j]; w[j] = w[j - 1]; w[j - 1] = t;
        }
    pel_writeset ws = { w, n };
    pel_store_txn *t;
    if (pel_store_begin(s, &t) || pel_smt_update(s, t, PEL_SMT_NONE, 1, &ws, NULL, root) ||
        pel_store_commit(t))
        abort();
    for (uint32_t i = 0; i < NKEYS; i++) {
        pel_smt_proof p;
        pel_buf_init(&enc[i]);
        if (pel_smt_get_proof(s, 1, &keys[i], &p, NULL) || pel_smt_proof_encode(&p, &enc[i]))
            abort();
    }
    free(w);
    pel_store_close(s);
    ready = true;
}

static int verify_claim(const pel_key *k, uint32_t i, const pel_smt_proof *p)
{
    return pel_smt_verify(root, k, i % 2 ? NULL : vals[i], sizeof vals[i], p);
}

/* property 1 */
static void any_input(const uint8_t *data, size_t size)
{
    pel_smt_proof p;
    int rc = pel_smt_proof_decode(data, size, &p);
    if (rc) return;
    pel_buf b;
    pel_buf_init(&b);
    if (pel_smt_proof_encode(&p, &b) || b.len != size || memcmp(b.data, data, size))
        abort();
    pel_buf_free(&b);
    uint32_t i = size ? data[size - 1] % NKEYS : 0;
    for (int claim = 0; claim < 3; claim++) {
        rc = claim == 0 ? pel_smt_verify(root, &keys[i], NULL, 0, &p)
           : claim == 1 ? pel_smt_verify(root, &keys[i], vals[i], sizeof vals[i], &p)
                        : pel_smt_verify(root, &keys[i], data, size, &p);
        if (rc != 0 && rc != PEL_EPROOF) abort();
    }
}

/* property 2 */
static void edited_proof(const uint8_t *data, size_t size)
{
    if (size < 2) return;
    uint32_t i = ((uint32_t)data[0] | (uint32_t)data[1] << 8) % NKEYS;
    const pel_buf *e = &enc[i];
    int delta = (int)(data[1] % 9) - 4;            /* -4 .. +4 bytes */
    size_t len = (int)e->len + delta > 0 ? (size_t)((int)e->len + delta) : 0;
    uint8_t *m = calloc(len + 1, 1);
    if (!m) abort();
    memcpy(m, e->data, len < e->len ? len : e->len);
    for (size_t j = 2; j < size; j++) m[(j - 2) % (len ? len : 1)] ^= data[j];
    bool same = len == e->len && !memcmp(m, e->data, len);
    pel_smt_proof p;
    bool ok = pel_smt_proof_decode(m, len, &p) == 0 && verify_claim(&keys[i], i, &p) == 0;
    if (ok != same) abort();
    /* nor does it prove that another key has this key's value */
    uint32_t o = (i + 1) % NKEYS;
    if (same && pel_smt_verify(root, &keys[o], vals[i], sizeof vals[i], &p) == 0) abort();
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) setup();
    any_input(data, size);
    edited_proof(data, size);
    return 0;
}
