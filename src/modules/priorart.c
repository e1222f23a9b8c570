/*
 * priorart.c - what a verified transaction proof says about a file
 * (priorart.h).
 */
#include "modules/priorart.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "ledger/block.h"
#include "ledger/tx.h"

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

/* The object event of the receipt: id, version, first mask. */
static int object_event(const pel_receipt *rc, pel_obj_id *id, uint32_t *version, uint16_t *mask)
{
    pel_dec d;
    pel_dec_init(&d, rc->events, rc->events_len);
    while (d.pos < d.len && !d.err) {
        const uint8_t *ev;
        size_t n;
        if (pel_dec_bytes(&d, UINT32_MAX, &ev, &n)) break;
        if (n == 1 + PEL_OBJ_ID_LEN + 4 + 2 && ev[0] == PEL_EV_OBJECT) {
            memcpy(id->b, ev + 1, PEL_OBJ_ID_LEN);
            *version = (uint32_t)pel_le_load(ev + 1 + PEL_OBJ_ID_LEN, 4);
            *mask = (uint16_t)pel_le_load(ev + 1 + PEL_OBJ_ID_LEN + 4, 2);
            return 0;
        }
    }
    return PEL_ENOTFOUND;
}

static int fields_of(const pel_tx *tx, pel_obj_fields *f)
{
    pel_dec d;
    const char *why;
    size_t skip = tx->type == PEL_TX_OBJ_VERSION ? PEL_OBJ_ID_LEN : 0;
    if (tx->body_len < skip) return PEL_ETRUNC;
    pel_dec_init(&d, tx->body + skip, tx->body_len - skip);
    int rc = pel_obj_fields_decode(&d, f, &why);
    return rc ? rc : pel_dec_finish(&d);
}

int pel_priorart_check(const pel_proof *p, const pel_proof_result *r, const uint8_t digest[32],
                       pel_priorart_claim *out, char *err, size_t errlen)
{
    pel_tx tx;
    pel_receipt rcpt;
    pel_obj_fields f;
    uint16_t mask = 0;
    memset(out, 0, sizeof *out);
    if (errlen) err[0] = 0;
    if (p->type != PEL_PROOF_TX) return fail(err, errlen, PEL_EINVAL, "not a transaction proof (a prior-art bundle is one)");
    int rc = pel_tx_decode(p->tx.data, p->tx.len, &tx);
    if (rc) return fail(err, errlen, rc, "the proven transaction does not decode");
    if (tx.type != PEL_TX_OBJ_REGISTER && tx.type != PEL_TX_OBJ_VERSION)
        return fail(err, errlen, PEL_EINVAL, "the proven transaction (type %u) does not register a research object", tx.type);
    if ((rc = fields_of(&tx, &f)) != 0) return fail(err, errlen, rc, "the object's fields do not decode");
    if ((rc = pel_receipt_decode(p->receipt.data, p->receipt.len, &rcpt)) != 0)
        return fail(err, errlen, rc, "the receipt does not decode");
    if (rcpt.status != 0)
        return fail(err, errlen, PEL_EPROOF, "the registration failed (receipt status %d: %s): it registered nothing",
                    rcpt.status, pel_strerror(rcpt.status));
    if (object_event(&rcpt, &out->id, &out->version, &mask))
        return fail(err, errlen, PEL_EPROOF, "the receipt has no object event");
    for (uint32_t i = 0; i < f.n_digests; i++)
        if (memcmp(f.digests + 32 * i, digest, 32) == 0) {
            out->digest_index = i;
            out->first = (mask >> i) & 1;
            out->kind = f.kind;
            out->registrant = tx.from;
            out->height = p->height;
            out->no_later_than_ms = r->ckpt.timestamp_ms;
            memcpy(out->title, f.title, f.title_len);
            return 0;
        }
    memset(out, 0, sizeof *out);
    return fail(err, errlen, PEL_ENOTFOUND, "the file's SHA-256 is not among the object's %u content digests", f.n_digests);
}
