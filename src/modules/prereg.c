/*
 * prereg.c - preregistration (prereg.h): commit, reveal, results with
 * outcome-switching detection, status changes; the record's codec; the
 * query.
 */
#include "modules/prereg.h"

#include <stdlib.h>
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

static int has(const pel_outcomes *o, const char *s)
{
    for (uint32_t i = 0; i < o->n; i++)
        if (strcmp(o->s[i], s) == 0) return 1;
    return 0;
}

static int outcomes_decode(pel_dec *d, pel_outcomes *o)
{
    pel_dec_count(d, PEL_PREREG_OUTCOMES_MAX, &o->n);
    for (uint32_t i = 0; !d->err && i < o->n; i++) {
        const uint8_t *p;
        size_t n;
        pel_dec_bytes(d, PEL_PREREG_OUTCOME_MAX, &p, &n);
        if (d->err) break;
        if (n == 0 || !pel_text_printable(p, n) || memchr(p, 0, n)) return PEL_EINVAL;
        memcpy(o->s[i], p, n);
        o->s[i][n] = 0;
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(o->s[k], o->s[i]) == 0) return PEL_EINVAL;
    }
    if (d->err) return d->err;
    return o->n ? 0 : PEL_EINVAL;
}

int pel_outcomes_encode(const pel_outcomes *o, pel_buf *out)
{
    int rc = pel_enc_u32(out, o->n);
    for (uint32_t i = 0; !rc && i < o->n; i++) rc = pel_enc_bytes(out, o->s[i], strlen(o->s[i]));
    return rc;
}

int pel_prereg_commitment(const uint8_t protocol[32], const pel_outcomes *o,
                          const uint8_t salt[32], uint8_t out[32])
{
    pel_buf b;
    pel_hasher h;
    uint8_t od[32];
    pel_buf_init(&b);
    int rc = o->n ? pel_outcomes_encode(o, &b) : PEL_EINVAL;
    if (!rc) rc = pel_hash_tagged("PEL/prereg-outcomes", b.data, b.len, od);
    pel_buf_free(&b);
    if (!rc) rc = pel_hasher_init(&h, "PEL/prereg-commit");
    if (rc) return rc;
    pel_hasher_update(&h, protocol, 32);
    pel_hasher_update(&h, od, 32);
    pel_hasher_update(&h, salt, 32);
    return pel_hasher_final(&h, out);
}

/* ==== bodies ==== */

typedef struct body {
    pel_prereg_id id;
    uint8_t commitment[32], protocol[32], salt[32];
    uint64_t embargo_height, embargo_time_ms, sample_size;
    char registry_id[PEL_PREREG_REGID_MAX + 1];
    pel_obj_id object;
    pel_outcomes outcomes;
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
    const uint8_t *p;
    size_t n;
    raw(d, b->commitment, 32);
    pel_dec_u64(d, &b->embargo_height);
    pel_dec_u64(d, &b->embargo_time_ms);
    pel_dec_bytes(d, PEL_PREREG_REGID_MAX, &p, &n);
    pel_dec_u64(d, &b->sample_size);
    if (d->err) { *why = "malformed preregistration commit"; return d->err; }
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e) { *why = "the registry id must be printable ASCII"; return PEL_EINVAL; }
    memcpy(b->registry_id, p, n);
    b->registry_id[n] = 0;
    return 0;
}

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
        raw(&d, b->protocol, 32);
        if (!d.err && (rc = outcomes_decode(&d, &b->outcomes)) != 0)
            *why = "outcomes: 1 to 16 distinct texts of 1-100 bytes of UTF-8, no control characters";
        if (!rc) raw(&d, b->salt, 32);
    } else if (type == PEL_TX_PREREG_RESULTS) {
        raw(&d, b->object.b, PEL_OBJ_ID_LEN);
        if (!d.err && (rc = outcomes_decode(&d, &b->outcomes)) != 0)
            *why = "outcomes: 1 to 16 distinct texts of 1-100 bytes of UTF-8, no control characters";
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
    body *b = malloc(sizeof *b);
    if (!b) return PEL_ENOMEM;
    int rc = decode_body(type, p, len, b, why);
    free(b);
    return rc;
}

/* ==== the record ==== */

static void key_of(const pel_prereg_id *id, pel_key *k)
{
    if (pel_hash_tagged("PEL/prereg", id->b, PEL_PREREG_ID_LEN, k->b)) memset(k, 0, sizeof *k);
}

static int record_encode(const pel_prereg *r, pel_buf *out)
{
    int rc = pel_enc_raw(out, r->registrant.b, PEL_ADDR_LEN);
    if (!rc) rc = pel_enc_u64(out, r->height);
    if (!rc) rc = pel_enc_u64(out, r->time_ms);
    if (!rc) rc = pel_enc_raw(out, r->commitment, 32);
    if (!rc) rc = pel_enc_u64(out, r->embargo_height);
    if (!rc) rc = pel_enc_u64(out, r->embargo_time_ms);
    if (!rc) rc = pel_enc_bytes(out, r->registry_id, strlen(r->registry_id));
    if (!rc) rc = pel_enc_u64(out, r->sample_size);
    if (!rc) rc = pel_enc_u8(out, (uint8_t)r->revealed);
    if (!rc && r->revealed) {
        rc = pel_enc_u64(out, r->reveal_height);
        if (!rc) rc = pel_enc_raw(out, r->revealer.b, PEL_ADDR_LEN);
        if (!rc) rc = pel_enc_raw(out, r->protocol, 32);
        if (!rc) rc = pel_outcomes_encode(&r->primary, out);
    }
    if (!rc) rc = pel_enc_u32(out, r->n_status);
    for (uint32_t i = 0; !rc && i < r->n_status; i++) {
        rc = pel_enc_u8(out, r->status[i].status);
        if (!rc) rc = pel_enc_u64(out, r->status[i].height);
        if (!rc) rc = pel_enc_u64(out, r->status[i].time_ms);
    }
    if (!rc) rc = pel_enc_u32(out, r->n_results);
    for (uint32_t i = 0; !rc && i < r->n_results; i++) {
        const pel_prereg_result *x = &r->results[i];
        rc = pel_enc_raw(out, x->object.b, PEL_OBJ_ID_LEN);
        if (!rc) rc = pel_enc_u64(out, x->height);
        if (!rc) rc = pel_outcomes_encode(&x->reported, out);
    }
    return rc;
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

static int record_decode(const uint8_t *p, size_t len, pel_prereg *r)
{
    pel_dec d;
    const uint8_t *s;
    size_t n;
    uint8_t flag = 0;
    memset(r, 0, sizeof *r);
    pel_dec_init(&d, p, len);
    raw(&d, r->registrant.b, PEL_ADDR_LEN);
    pel_dec_u64(&d, &r->height);
    pel_dec_u64(&d, &r->time_ms);
    raw(&d, r->commitment, 32);
    pel_dec_u64(&d, &r->embargo_height);
    pel_dec_u64(&d, &r->embargo_time_ms);
    if (pel_dec_bytes(&d, PEL_PREREG_REGID_MAX, &s, &n) == 0) { memcpy(r->registry_id, s, n); r->registry_id[n] = 0; }
    pel_dec_u64(&d, &r->sample_size);
    pel_dec_u8(&d, &flag);
    r->revealed = flag != 0;
    if (r->revealed) {
        pel_dec_u64(&d, &r->reveal_height);
        raw(&d, r->revealer.b, PEL_ADDR_LEN);
        raw(&d, r->protocol, 32);
        if (!d.err && outcomes_decode(&d, &r->primary)) return PEL_ECORRUPT;
    }
    pel_dec_count(&d, PEL_PREREG_STATUS_MAX, &r->n_status);
    for (uint32_t i = 0; !d.err && i < r->n_status; i++) {
        pel_dec_u8(&d, &r->status[i].status);
        pel_dec_u64(&d, &r->status[i].height);
        pel_dec_u64(&d, &r->status[i].time_ms);
    }
    pel_dec_count(&d, PEL_PREREG_RESULTS_MAX, &r->n_results);
    for (uint32_t i = 0; !d.err && i < r->n_results; i++) {
        pel_prereg_result *x = &r->results[i];
        raw(&d, x->object.b, PEL_OBJ_ID_LEN);
        pel_dec_u64(&d, &x->height);
        if (!d.err && outcomes_decode(&d, &x->reported)) return PEL_ECORRUPT;
        compare(&r->primary, x);
    }
    return pel_dec_finish(&d) ? PEL_ECORRUPT : 0;
}

/* ==== execution ==== */

static int view_record(pel_view *v, const pel_prereg_id *id, pel_prereg *r)
{
    pel_key k;
    pel_val val;
    key_of(id, &k);
    int rc = pel_view_get(v, &k, &val);
    if (rc == PEL_ENOTFOUND) return PEL_EPREREG_UNKNOWN;
    return rc ? rc : record_decode(val.p, val.len, r);
}

static int put_record(pel_view *v, const pel_prereg_id *id, const pel_prereg *r)
{
    pel_key k;
    pel_buf b;
    pel_buf_init(&b);
    key_of(id, &k);
    int rc = record_encode(r, &b);
    if (!rc) rc = pel_view_put(v, &k, b.data, b.len);
    pel_buf_free(&b);
    return rc;
}

static int emit(pel_view *v, const pel_prereg_id *id, uint16_t type, int flag)
{
    uint8_t ev[1 + PEL_PREREG_ID_LEN + 2];
    ev[0] = PEL_EV_PREREG;
    memcpy(ev + 1, id->b, PEL_PREREG_ID_LEN);
    ev[17] = (uint8_t)(type - 19);
    ev[18] = (uint8_t)flag;
    return pel_view_emit(v, ev, sizeof ev);
}

static int embargoed(const pel_prereg *r, const pel_module_ctx *c)
{
    return (r->embargo_height && c->height < r->embargo_height) ||
           (r->embargo_time_ms && c->time_ms < r->embargo_time_ms);
}

static int do_reveal(const pel_module_ctx *c, const pel_tx *tx, const body *b, pel_prereg *r)
{
    uint8_t cm[32];
    if (r->revealed) return PEL_EPREREG_STATE;
    int rc = pel_prereg_commitment(b->protocol, &b->outcomes, b->salt, cm);
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

static int do_results(pel_view *v, const pel_module_ctx *c, const pel_tx *tx, const body *b,
                      pel_prereg *r)
{
    pel_obj_head h;
    if (!r->revealed) return PEL_EPREREG_STATE;
    if (r->n_results == PEL_PREREG_RESULTS_MAX) return PEL_EPREREG_FULL;
    /* the results object must exist and be the sender's to link */
    int rc = pel_registry_head_view(v, &b->object, &h);
    if (rc) return rc;
    if (!pel_registry_controls(&h, &tx->from)) return PEL_EOBJ_PERM;
    pel_prereg_result *x = &r->results[r->n_results++];
    x->object = b->object;
    x->height = c->height;
    x->reported = b->outcomes;
    compare(&r->primary, x);
    return 0;
}

static int prereg_exec(const pel_module_ctx *c, const pel_tx *tx, pel_view *v)
{
    const char *why;
    body *b = malloc(sizeof *b);
    pel_prereg *r = malloc(sizeof *r);
    pel_prereg_id id;
    int rc = b && r ? decode_body(tx->type, tx->body, tx->body_len, b, &why) : PEL_ENOMEM;
    if (!rc && tx->type == PEL_TX_PREREG_COMMIT) {
        memset(r, 0, sizeof *r);
        pel_prereg_id_of(tx->id, &id);
        r->registrant = tx->from;
        r->height = c->height;
        r->time_ms = c->time_ms;
        memcpy(r->commitment, b->commitment, 32);
        r->embargo_height = b->embargo_height;
        r->embargo_time_ms = b->embargo_time_ms;
        memcpy(r->registry_id, b->registry_id, sizeof r->registry_id);
        r->sample_size = b->sample_size;
    } else if (!rc) {
        id = b->id;
        rc = view_record(v, &id, r);
        if (!rc && tx->type == PEL_TX_PREREG_REVEAL) rc = do_reveal(c, tx, b, r);
        else if (!rc && tx->type == PEL_TX_PREREG_RESULTS) rc = do_results(v, c, tx, b, r);
        else if (!rc) {
            if (memcmp(tx->from.b, r->registrant.b, PEL_ADDR_LEN) != 0) rc = PEL_EPREREG_PERM;
            else if (r->n_status == PEL_PREREG_STATUS_MAX) rc = PEL_EPREREG_FULL;
            else {
                r->status[r->n_status].status = b->status;
                r->status[r->n_status].height = c->height;
                r->status[r->n_status++].time_ms = c->time_ms;
            }
        }
    }
    int flag = !rc && tx->type == PEL_TX_PREREG_RESULTS && r->results[r->n_results - 1].switched;
    if (!rc) rc = put_record(v, &id, r);
    if (!rc) rc = emit(v, &id, tx->type, flag);
    free(b);
    free(r);
    return rc;
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
    key_of(id, &k);
    int rc = pel_state_get(st, &k, &val);
    if (rc == PEL_ENOTFOUND) { memset(out, 0, sizeof *out); return PEL_EPREREG_UNKNOWN; }
    return rc ? rc : record_decode(val.p, val.len, out);
}
