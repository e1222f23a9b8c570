/*
 * prereg.c - preregistration (prereg.h): commit, reveal, results with
 * outcome-switching detection, status changes; the record's codec; the
 * query.
 */
#include "modules/prereg.h"

#include <stddef.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"
#include "core/text.h"

const char *const pel_prereg_status_names[PEL_PREREG_STATUSES] = {
    "planned", "recruiting", "active", "completed", "terminated", "withdrawn"
};

/* ==== ids ==== */

void pel_prereg_id_of(const uint8_t txid[32], pel_prereg_id *out)
{
    uint8_t h[32];
    if (pel_hash_tagged("PEL/prereg-id", txid, 32, h)) memset(h, 0, sizeof h);
    memcpy(out->b, h, PEL_PREREG_ID_LEN);
}

void pel_prereg_id_format(const pel_prereg_id *id, char *out)
{
    memcpy(out, "pel:prereg:", 11);
    pel_hex_encode(id->b, PEL_PREREG_ID_LEN, out + 11);
}

int pel_prereg_id_parse(const char *s, pel_prereg_id *id)
{
    size_t n;
    if (strncmp(s, "pel:prereg:", 11) != 0 || strlen(s) != PEL_PREREG_ID_STR_LEN) return PEL_EINVAL;
    for (int i = 11; i < PEL_PREREG_ID_STR_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return PEL_EINVAL;
    return pel_hex_decode(s + 11, 2 * PEL_PREREG_ID_LEN, id->b, PEL_PREREG_ID_LEN, &n) ? PEL_EINVAL : 0;
}

/* ==== outcomes ==== */

/* An outcome list where it lies in an encoding (a body or a stored record):
 * enc[0..len) is the list's encoding (count and items), canonical once
 * outcomes_scan accepted it, so it is copied as it is; s[i]/l[i] are the
 * items, pointing into it. Valid as long as those bytes are. */
typedef struct outlist {
    const uint8_t *enc;
    size_t len;
    uint32_t n;
    const uint8_t *s[PEL_PREREG_OUTCOMES_MAX];
    uint32_t l[PEL_PREREG_OUTCOMES_MAX];
} outlist;

static int has(const pel_outcomes *o, const char *s)
{
    for (uint32_t i = 0; i < o->n; i++)
        if (strcmp(o->s[i], s) == 0) return 1;
    return 0;
}

static int outlist_has(const outlist *o, const uint8_t *s, size_t n)
{
    for (uint32_t i = 0; i < o->n; i++)
        if (o->l[i] == n && memcmp(o->s[i], s, n) == 0) return 1;
    return 0;
}

/* outcomes_scan - an outcome list at d (prereg.h: 1..16 distinct texts of
 * 1..100 bytes, printable UTF-8). @return 0, PEL_EINVAL, or d's error. */
static int outcomes_scan(pel_dec *d, outlist *o)
{
    size_t start = d->pos;
    uint32_t n;
    o->n = 0;
    pel_dec_count(d, PEL_PREREG_OUTCOMES_MAX, &n);
    for (uint32_t i = 0; !d->err && i < n; i++) {
        const uint8_t *p;
        size_t len;
        pel_dec_bytes(d, PEL_PREREG_OUTCOME_MAX, &p, &len);
        if (d->err) break;
        if (len == 0 || !pel_text_printable(p, len) || memchr(p, 0, len)) return PEL_EINVAL;
        if (outlist_has(o, p, len)) return PEL_EINVAL;
        o->s[o->n] = p;
        o->l[o->n++] = (uint32_t)len;
    }
    if (d->err) return d->err;
    o->enc = d->p + start;
    o->len = d->pos - start;
    return n ? 0 : PEL_EINVAL;
}

static void outlist_copy(const outlist *l, pel_outcomes *o)
{
    o->n = l->n;
    for (uint32_t i = 0; i < l->n; i++) {
        memcpy(o->s[i], l->s[i], l->l[i]);
        o->s[i][l->l[i]] = 0;
    }
}

/* switched - do the reported outcomes differ from the primary ones as sets? */
static int switched(const outlist *primary, const outlist *reported)
{
    for (uint32_t i = 0; i < reported->n; i++)
        if (!outlist_has(primary, reported->s[i], reported->l[i])) return 1;
    for (uint32_t i = 0; i < primary->n; i++)
        if (!outlist_has(reported, primary->s[i], primary->l[i])) return 1;
    return 0;
}

int pel_outcomes_encode(const pel_outcomes *o, pel_buf *out)
{
    int rc = pel_enc_u32(out, o->n);
    for (uint32_t i = 0; !rc && i < o->n; i++) rc = pel_enc_bytes(out, o->s[i], strlen(o->s[i]));
    return rc;
}

/* commitment - H(protocol ‖ H(outcomes encoding) ‖ salt), prereg.h. */
static int commitment(const uint8_t protocol[32], const uint8_t *outcomes, size_t len,
                      const uint8_t salt[32], uint8_t out[32])
{
    pel_hasher h;
    uint8_t od[32];
    int rc = pel_hash_tagged("PEL/prereg-outcomes", outcomes, len, od);
    if (!rc) rc = pel_hasher_init(&h, "PEL/prereg-commit");
    if (rc) return rc;
    pel_hasher_update(&h, protocol, 32);
    pel_hasher_update(&h, od, 32);
    pel_hasher_update(&h, salt, 32);
    return pel_hasher_final(&h, out);
}

int pel_prereg_commitment(const uint8_t protocol[32], const pel_outcomes *o,
                          const uint8_t salt[32], uint8_t out[32])
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = o->n ? pel_outcomes_encode(o, &b) : PEL_EINVAL;
    if (!rc) rc = commitment(protocol, b.data, b.len, salt, out);
    pel_buf_free(&b);
    return rc;
}

/* ==== bodies ==== */

/* A decoded body; the byte fields point into the transaction's body. */
typedef struct body {
    pel_prereg_id id;
    const uint8_t *commitment, *protocol, *salt;      /* 32 bytes each */
    uint64_t embargo_height, embargo_time_ms, sample_size;
    const uint8_t *registry_id;
    size_t registry_id_len;
    pel_obj_id object;
    outlist outcomes;
    uint8_t status;
} body;

static int raw(pel_dec *d, void *out, size_t n)
{
    const uint8_t *p;
    if (pel_dec_raw(d, n, &p) == 0) memcpy(out, p, n);
    return d->err;
}

static int decode_commit(pel_dec *d, body *b, const char **why)
{
    pel_dec_raw(d, 32, &b->commitment);
    pel_dec_u64(d, &b->embargo_height);
    pel_dec_u64(d, &b->embargo_time_ms);
    pel_dec_bytes(d, PEL_PREREG_REGID_MAX, &b->registry_id, &b->registry_id_len);
    pel_dec_u64(d, &b->sample_size);
    if (d->err) { *why = "malformed preregistration commit"; return d->err; }
    for (size_t i = 0; i < b->registry_id_len; i++)
        if (b->registry_id[i] < 0x21 || b->registry_id[i] > 0x7e) {
            *why = "the registry id must be printable ASCII";
            return PEL_EINVAL;
        }
    return 0;
}

static int decode_outcomes(pel_dec *d, body *b, const char **why)
{
    int rc = d->err ? 0 : outcomes_scan(d, &b->outcomes);
    if (rc) *why = "outcomes: 1 to 16 distinct texts of 1-100 bytes of UTF-8, no control characters";
    return rc;
}

/* decode_body - the body of a transaction of `type`, with every rule that
 * needs no state. Used by check and by exec, so both refuse the same bodies
 * with the same code. */
static int decode_body(uint16_t type, const uint8_t *p, uint32_t len, body *b, const char **why)
{
    pel_dec d;
    int rc = 0;
    memset(b, 0, sizeof *b);
    pel_dec_init(&d, p, len);
    *why = "malformed preregistration body";
    if (type == PEL_TX_PREREG_COMMIT) rc = decode_commit(&d, b, why);
    else raw(&d, b->id.b, PEL_PREREG_ID_LEN);
    if (type == PEL_TX_PREREG_REVEAL) {
        pel_dec_raw(&d, 32, &b->protocol);
        rc = decode_outcomes(&d, b, why);
        if (!rc) pel_dec_raw(&d, 32, &b->salt);
    } else if (type == PEL_TX_PREREG_RESULTS) {
        raw(&d, b->object.b, PEL_OBJ_ID_LEN);
        rc = decode_outcomes(&d, b, why);
    } else if (type == PEL_TX_PREREG_STATUS) {
        pel_dec_u8(&d, &b->status);
        if (!d.err && b->status >= PEL_PREREG_STATUSES) { *why = "unknown status"; return PEL_EINVAL; }
    }
    if (rc) return rc;
    if (d.err) return d.err;
    if (pel_dec_finish(&d)) return PEL_ETRAILING;
    *why = NULL;
    return 0;
}

static int prereg_check(uint16_t type, const uint8_t *p, uint32_t len, const char **why)
{
    body b;
    return decode_body(type, p, len, &b, why);
}

/* ==== the record ==== */

/* A stored record, decoded lazily: the fixed fields copied, the lists left
 * encoded where they lie (in the stored bytes, or a body), since execution
 * only appends to them. The query expands it (rec_expand). The encoding
 * rec_encode writes is the one prereg.h describes. */
typedef struct rec {
    pel_addr registrant;
    uint64_t height, time_ms;
    uint8_t commitment[32];
    uint64_t embargo_height, embargo_time_ms;
    const uint8_t *registry_id;
    size_t registry_id_len;
    uint64_t sample_size;
    int revealed;
    uint64_t reveal_height;      /* these four: revealed only */
    pel_addr revealer;
    uint8_t protocol[32];
    outlist primary;
    uint32_t n_status;           /* the status changes, encoded: status[0..status_len) */
    const uint8_t *status;
    size_t status_len;
    uint32_t n_results;          /* the results, encoded */
    const uint8_t *results;
    size_t results_len;
    /* what this transaction appends, if anything */
    int add_status;
    uint8_t new_status;
    int add_result;
    pel_obj_id new_object;
    const outlist *new_reported;
    uint64_t add_height, add_time_ms;
} rec;

static void key_of(const pel_prereg_id *id, pel_key *k)
{
    if (pel_hash_tagged("PEL/prereg", id->b, PEL_PREREG_ID_LEN, k->b)) memset(k, 0, sizeof *k);
}

static int rec_encode(const void *arg, pel_buf *out)
{
    const rec *r = arg;
    int rc = pel_enc_raw(out, r->registrant.b, PEL_ADDR_LEN);
    if (!rc) rc = pel_enc_u64(out, r->height);
    if (!rc) rc = pel_enc_u64(out, r->time_ms);
    if (!rc) rc = pel_enc_raw(out, r->commitment, 32);
    if (!rc) rc = pel_enc_u64(out, r->embargo_height);
    if (!rc) rc = pel_enc_u64(out, r->embargo_time_ms);
    if (!rc) rc = pel_enc_bytes(out, r->registry_id, r->registry_id_len);
    if (!rc) rc = pel_enc_u64(out, r->sample_size);
    if (!rc) rc = pel_enc_u8(out, (uint8_t)r->revealed);
    if (!rc && r->revealed) {
        rc = pel_enc_u64(out, r->reveal_height);
        if (!rc) rc = pel_enc_raw(out, r->revealer.b, PEL_ADDR_LEN);
        if (!rc) rc = pel_enc_raw(out, r->protocol, 32);
        if (!rc) rc = pel_enc_raw(out, r->primary.enc, r->primary.len);
    }
    if (!rc) rc = pel_enc_u32(out, r->n_status + (r->add_status != 0));
    if (!rc) rc = pel_enc_raw(out, r->status, r->status_len);
    if (!rc && r->add_status) {
        rc = pel_enc_u8(out, r->new_status);
        if (!rc) rc = pel_enc_u64(out, r->add_height);
        if (!rc) rc = pel_enc_u64(out, r->add_time_ms);
    }
    if (!rc) rc = pel_enc_u32(out, r->n_results + (r->add_result != 0));
    if (!rc) rc = pel_enc_raw(out, r->results, r->results_len);
    if (!rc && r->add_result) {
        rc = pel_enc_raw(out, r->new_object.b, PEL_OBJ_ID_LEN);
        if (!rc) rc = pel_enc_u64(out, r->add_height);
        if (!rc) rc = pel_enc_raw(out, r->new_reported->enc, r->new_reported->len);
    }
    return rc;
}

/* skip_status / skip_result - step over one encoded entry; a result's
 * outcomes go to o. @return 0 or an error (sticky in d). */
static int skip_status(pel_dec *d, uint8_t *status, uint64_t *height, uint64_t *time_ms)
{
    pel_dec_u8(d, status);
    pel_dec_u64(d, height);
    return pel_dec_u64(d, time_ms);
}

static int skip_result(pel_dec *d, pel_obj_id *object, uint64_t *height, outlist *o)
{
    raw(d, object->b, PEL_OBJ_ID_LEN);
    pel_dec_u64(d, height);
    return d->err ? d->err : outcomes_scan(d, o);
}

/* rec_parse - check a stored record and decode it lazily into r (the
 * pointers point into p[0..len)). The registry id ends at a NUL, as the
 * C string it once was. @return 0 or PEL_ECORRUPT. */
static int rec_parse(const uint8_t *p, size_t len, void *arg)
{
    rec *r = arg;
    pel_dec d;
    uint8_t flag = 0, st;
    uint64_t h, t;
    pel_obj_id obj;
    outlist o;
    memset(r, 0, offsetof(rec, primary));      /* the header; the rest is set below */
    r->primary.enc = NULL;
    r->primary.len = 0;
    r->primary.n = 0;
    pel_dec_init(&d, p, len);
    raw(&d, r->registrant.b, PEL_ADDR_LEN);
    pel_dec_u64(&d, &r->height);
    pel_dec_u64(&d, &r->time_ms);
    raw(&d, r->commitment, 32);
    pel_dec_u64(&d, &r->embargo_height);
    pel_dec_u64(&d, &r->embargo_time_ms);
    if (pel_dec_bytes(&d, PEL_PREREG_REGID_MAX, &r->registry_id, &r->registry_id_len) == 0) {
        const uint8_t *nul = memchr(r->registry_id, 0, r->registry_id_len);
        if (nul) r->registry_id_len = (size_t)(nul - r->registry_id);
    }
    pel_dec_u64(&d, &r->sample_size);
    pel_dec_u8(&d, &flag);
    r->revealed = flag != 0;
    if (r->revealed) {
        pel_dec_u64(&d, &r->reveal_height);
        raw(&d, r->revealer.b, PEL_ADDR_LEN);
        raw(&d, r->protocol, 32);
        if (!d.err && outcomes_scan(&d, &r->primary)) return PEL_ECORRUPT;
    }
    pel_dec_count(&d, PEL_PREREG_STATUS_MAX, &r->n_status);
    r->status = d.p + d.pos;
    for (uint32_t i = 0; !d.err && i < r->n_status; i++) skip_status(&d, &st, &h, &t);
    r->status_len = (size_t)(d.p + d.pos - r->status);
    pel_dec_count(&d, PEL_PREREG_RESULTS_MAX, &r->n_results);
    r->results = d.p + d.pos;
    for (uint32_t i = 0; !d.err && i < r->n_results; i++)
        if (skip_result(&d, &obj, &h, &o)) return PEL_ECORRUPT;
    r->results_len = (size_t)(d.p + d.pos - r->results);
    r->add_status = r->add_result = 0;
    return pel_dec_finish(&d) ? PEL_ECORRUPT : 0;
}

/* compare - added = reported - primary, dropped = primary - reported. */
static void compare(const pel_outcomes *primary, pel_prereg_result *x)
{
    x->added.n = x->dropped.n = 0;
    for (uint32_t i = 0; i < x->reported.n; i++)
        if (!has(primary, x->reported.s[i])) memcpy(x->added.s[x->added.n++], x->reported.s[i], PEL_PREREG_OUTCOME_MAX + 1);
    for (uint32_t i = 0; i < primary->n; i++)
        if (!has(&x->reported, primary->s[i])) memcpy(x->dropped.s[x->dropped.n++], primary->s[i], PEL_PREREG_OUTCOME_MAX + 1);
    x->switched = x->added.n || x->dropped.n;
}

/* rec_expand - the whole record of a parsed one, for the query. */
static void rec_expand(const rec *r, pel_prereg *out)
{
    pel_dec d;
    outlist o;
    memset(out, 0, sizeof *out);
    out->registrant = r->registrant;
    out->height = r->height;
    out->time_ms = r->time_ms;
    memcpy(out->commitment, r->commitment, 32);
    out->embargo_height = r->embargo_height;
    out->embargo_time_ms = r->embargo_time_ms;
    memcpy(out->registry_id, r->registry_id, r->registry_id_len);
    out->sample_size = r->sample_size;
    out->revealed = r->revealed;
    out->reveal_height = r->reveal_height;
    out->revealer = r->revealer;
    memcpy(out->protocol, r->protocol, 32);
    outlist_copy(&r->primary, &out->primary);
    out->n_status = r->n_status;
    pel_dec_init(&d, r->status, r->status_len);
    for (uint32_t i = 0; i < r->n_status; i++)
        skip_status(&d, &out->status[i].status, &out->status[i].height, &out->status[i].time_ms);
    out->n_results = r->n_results;
    pel_dec_init(&d, r->results, r->results_len);
    for (uint32_t i = 0; i < r->n_results; i++) {
        pel_prereg_result *x = &out->results[i];
        if (skip_result(&d, &x->object, &x->height, &o)) break;   /* parsed already: cannot fail */
        outlist_copy(&o, &x->reported);
        compare(&out->primary, x);
    }
}

/* ==== execution ==== */

static int emit(pel_view *v, const pel_prereg_id *id, uint16_t type, int flag)
{
    uint8_t ev[1 + PEL_PREREG_ID_LEN + 2];
    ev[0] = PEL_EV_PREREG;
    memcpy(ev + 1, id->b, PEL_PREREG_ID_LEN);
    ev[17] = (uint8_t)(type - 19);
    ev[18] = (uint8_t)flag;
    return pel_view_emit(v, ev, sizeof ev);
}

static int embargoed(const rec *r, const pel_module_ctx *c)
{
    return (r->embargo_height && c->height < r->embargo_height) ||
           (r->embargo_time_ms && c->time_ms < r->embargo_time_ms);
}

static void do_commit(const pel_module_ctx *c, const pel_tx *tx, const body *b, rec *r)
{
    memset(r, 0, sizeof *r);
    r->registrant = tx->from;
    r->height = c->height;
    r->time_ms = c->time_ms;
    memcpy(r->commitment, b->commitment, 32);
    r->embargo_height = b->embargo_height;
    r->embargo_time_ms = b->embargo_time_ms;
    r->registry_id = b->registry_id;
    r->registry_id_len = b->registry_id_len;
    r->sample_size = b->sample_size;
}

static int do_reveal(const pel_module_ctx *c, const pel_tx *tx, const body *b, rec *r)
{
    uint8_t cm[32];
    if (r->revealed) return PEL_EPREREG_STATE;
    int rc = commitment(b->protocol, b->outcomes.enc, b->outcomes.len, b->salt, cm);
    if (rc) return rc;
    if (memcmp(cm, r->commitment, 32) != 0) return PEL_EPREREG_MISMATCH;
    if (embargoed(r, c) && memcmp(tx->from.b, r->registrant.b, PEL_ADDR_LEN) != 0) return PEL_EPREREG_EMBARGO;
    r->revealed = 1;
    r->reveal_height = c->height;
    r->revealer = tx->from;
    memcpy(r->protocol, b->protocol, 32);
    r->primary = b->outcomes;
    return 0;
}

static int do_results(pel_view *v, const pel_module_ctx *c, const pel_tx *tx, const body *b, rec *r)
{
    pel_obj_head h;
    if (!r->revealed) return PEL_EPREREG_STATE;
    if (r->n_results == PEL_PREREG_RESULTS_MAX) return PEL_EPREREG_FULL;
    /* the results object must exist and be the sender's to link */
    int rc = pel_registry_head_view(v, &b->object, &h);
    if (rc) return rc;
    if (!pel_registry_controls(&h, &tx->from)) return PEL_EOBJ_PERM;
    r->add_result = 1;
    r->new_object = b->object;
    r->new_reported = &b->outcomes;
    r->add_height = c->height;
    return 0;
}

static int do_status(const pel_module_ctx *c, const pel_tx *tx, const body *b, rec *r)
{
    if (memcmp(tx->from.b, r->registrant.b, PEL_ADDR_LEN) != 0) return PEL_EPREREG_PERM;
    if (r->n_status == PEL_PREREG_STATUS_MAX) return PEL_EPREREG_FULL;
    r->add_status = 1;
    r->new_status = b->status;
    r->add_height = c->height;
    r->add_time_ms = c->time_ms;
    return 0;
}

/* The body is decoded once, here (the ledger does not call check first);
 * the record is read lazily and written back with what the transaction
 * appends. */
static int prereg_exec(const pel_module_ctx *c, const pel_tx *tx, pel_view *v)
{
    const char *why;
    body b;
    rec r;
    pel_prereg_id id;
    pel_key k;
    int rc = decode_body(tx->type, tx->body, tx->body_len, &b, &why);
    if (rc) return rc;
    if (tx->type == PEL_TX_PREREG_COMMIT) {
        pel_prereg_id_of(tx->id, &id);
        do_commit(c, tx, &b, &r);
    } else {
        id = b.id;
        key_of(&id, &k);
        rc = pel_module_get(v, &k, PEL_EPREREG_UNKNOWN, rec_parse, &r);
        if (!rc && tx->type == PEL_TX_PREREG_REVEAL) rc = do_reveal(c, tx, &b, &r);
        else if (!rc && tx->type == PEL_TX_PREREG_RESULTS) rc = do_results(v, c, tx, &b, &r);
        else if (!rc) rc = do_status(c, tx, &b, &r);
    }
    if (rc) return rc;
    int flag = tx->type == PEL_TX_PREREG_RESULTS && switched(&r.primary, &b.outcomes);
    key_of(&id, &k);
    rc = pel_module_put(v, &k, rec_encode, &r);
    return rc ? rc : emit(v, &id, tx->type, flag);
}

const pel_tx_module pel_prereg_module = {
    .name = "prereg",
    .first_type = PEL_TX_PREREG_COMMIT,
    .last_type = PEL_TX_PREREG_STATUS,
    .check = prereg_check,
    .exec = prereg_exec,
};

/* ==== query ==== */

int pel_prereg_get(const pel_state *st, const pel_prereg_id *id, pel_prereg *out)
{
    pel_key k;
    pel_val val;
    rec r;
    key_of(id, &k);
    int rc = pel_state_get(st, &k, &val);
    if (rc == PEL_ENOTFOUND) { memset(out, 0, sizeof *out); return PEL_EPREREG_UNKNOWN; }
    if (!rc) rc = rec_parse(val.p, val.len, &r);
    if (!rc) rec_expand(&r, out);
    return rc;
}
