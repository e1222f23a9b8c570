/*
 * prove.c - assemble proof files from the committed chain (prove.h): read
 * the checkpoint, the block, the receipt and the tree paths, and fill a
 * pel_proof for state/proof.h to write.
 */
#include "node/prove.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/history.h"
#include "state/smt.h"

static int fail(pel_proof *out, int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    pel_proof_free(out);
    return rc;
}

static int load_checkpoint(pel_chain *c, uint64_t height, pel_buf *note, char *err, size_t errlen)
{
    int rc = pel_chain_checkpoint(c, height, note);
    if (rc == PEL_ENOTFOUND) snprintf(err, errlen, "no checkpoint is stored for height %llu", (unsigned long long)height);
    else if (rc) snprintf(err, errlen, "cannot read the checkpoint of height %llu: %s", (unsigned long long)height, pel_strerror(rc));
    return rc;
}

static int need_trees(pel_chain *c, pel_proof *out, char *err, size_t errlen)
{
    if (pel_chain_trees(c)) return 0;
    return fail(out, PEL_EINVAL, err, errlen, "this chain keeps no state or history trees (state.trees is false)");
}

/* The header of block `height` and, when tx is given, a copy of its
 * transaction `index`. */
static int block_at(pel_chain *c, uint64_t height, pel_block_header *h, uint32_t index, pel_buf *tx)
{
    pel_buf rec;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, n = 0;
    pel_buf_init(&rec);
    int rc = pel_chain_block(c, height, &rec);
    if (!rc) rc = pel_block_record_decode(rec.data, rec.len, h, &raw, &lens, &n);
    if (!rc && tx && index >= n) rc = PEL_ECORRUPT;   /* the index points past the block */
    if (!rc && tx) rc = pel_buf_append(tx, raw[index], lens[index]);
    free(raw);
    free(lens);
    pel_buf_free(&rec);
    return rc;
}

int pel_prove_tx(pel_chain *c, const uint8_t id[32], uint64_t at, pel_proof *out, char *err,
                 size_t errlen)
{
    pel_block_header h, ah;
    pel_chain_head head = pel_chain_get_head(c);
    if (errlen) err[0] = 0;
    pel_proof_free(out);
    if (need_trees(c, out, err, errlen)) return PEL_EINVAL;
    out->type = PEL_PROOF_TX;
    int rc = pel_chain_tx_location(c, id, &out->height, &out->index);
    if (rc == PEL_ENOTFOUND || (!rc && out->height > head.height))
        return fail(out, PEL_ENOTFOUND, err, errlen, "the transaction is not in the ledger");
    if (!rc) rc = block_at(c, out->height, &h, out->index, &out->tx);
    if (!rc) rc = pel_chain_receipt(c, out->height, out->index, &out->receipt);
    if (rc) return fail(out, rc, err, errlen, "cannot read the transaction: %s", pel_strerror(rc));
    out->leaf_index = h.history_size - h.tx_count + out->index;
    if (at == PEL_PROVE_HEAD) at = head.height;
    if (at < out->height || at > head.height)
        return fail(out, PEL_EINVAL, err, errlen, "height %llu is not from the transaction's block (%llu) to the head (%llu)",
                    (unsigned long long)at, (unsigned long long)out->height, (unsigned long long)head.height);
    rc = block_at(c, at, &ah, 0, NULL);
    if (!rc) rc = load_checkpoint(c, at, &out->checkpoint, err, errlen);
    if (!rc) rc = pel_history_prove_inclusion(pel_chain_store(c), out->leaf_index, ah.history_size,
                                              out->path, &out->path_len);
    if (rc && !(errlen && err[0])) snprintf(err, errlen, "cannot build the inclusion proof: %s", pel_strerror(rc));
    if (rc) pel_proof_free(out);
    return rc;
}

int pel_prove_state(pel_chain *c, const pel_key *k, uint64_t height, pel_proof *out, char *err,
                    size_t errlen)
{
    pel_chain_head head = pel_chain_get_head(c);
    if (errlen) err[0] = 0;
    pel_proof_free(out);
    if (need_trees(c, out, err, errlen)) return PEL_EINVAL;
    if (height == PEL_PROVE_HEAD) height = head.height;
    if (height > head.height)
        return fail(out, PEL_EINVAL, err, errlen, "height %llu is beyond the head (%llu)",
                    (unsigned long long)height, (unsigned long long)head.height);
    out->type = PEL_PROOF_STATE;
    out->key = *k;
    int rc = load_checkpoint(c, height, &out->checkpoint, err, errlen);
    if (rc) { pel_proof_free(out); return rc; }
    rc = pel_smt_get_proof(pel_chain_store(c), height, k, &out->state_proof, &out->value);
    if (rc == PEL_ESMT_PRUNED)
        return fail(out, rc, err, errlen, "the state at height %llu is no longer kept (state.versions_kept)",
                    (unsigned long long)height);
    if (rc) return fail(out, rc, err, errlen, "cannot build the state proof: %s", pel_strerror(rc));
    out->has_value = out->state_proof.kind == PEL_SMT_PRESENT;
    return 0;
}

int pel_prove_consistency(pel_chain *c, uint64_t old_h, uint64_t new_h, pel_proof *out,
                          char *err, size_t errlen)
{
    pel_chain_head head = pel_chain_get_head(c);
    pel_block_header o, n;
    if (errlen) err[0] = 0;
    pel_proof_free(out);
    if (need_trees(c, out, err, errlen)) return PEL_EINVAL;
    if (old_h > new_h || new_h > head.height)
        return fail(out, PEL_EINVAL, err, errlen, "need OLD <= NEW <= head (%llu), got %llu and %llu",
                    (unsigned long long)head.height, (unsigned long long)old_h, (unsigned long long)new_h);
    out->type = PEL_PROOF_CONSISTENCY;
    int rc = load_checkpoint(c, old_h, &out->old_checkpoint, err, errlen);
    if (!rc) rc = load_checkpoint(c, new_h, &out->checkpoint, err, errlen);
    if (rc) { pel_proof_free(out); return rc; }
    rc = block_at(c, old_h, &o, 0, NULL);
    if (!rc) rc = block_at(c, new_h, &n, 0, NULL);
    /* from the empty tree and between equal sizes the proof is empty */
    if (!rc && o.history_size > 0 && o.history_size < n.history_size)
        rc = pel_history_prove_consistency(pel_chain_store(c), o.history_size, n.history_size,
                                           out->path, &out->path_len);
    if (rc) return fail(out, rc, err, errlen, "cannot build the consistency proof: %s", pel_strerror(rc));
    return 0;
}
