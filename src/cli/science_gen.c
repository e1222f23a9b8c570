/*
 * science_gen.c - the open-science transaction mix (science_gen.h): the
 * bodies of registrations, versions, reviews and preregistration commits,
 * chosen by one LCG draw per transaction.
 */
#include <math.h>
#include <string.h>

#include "cli/science_gen.h"
#include "core/codec.h"
#include "modules/prereg.h"
#include "modules/review.h"

const char *const pel_sci_kind_names[PEL_SCI_KINDS] = { "cite", "register", "version", "review", "prereg" };

/* Cumulative shares in percent, in pel_sci_kind order (science_gen.h). */
static const unsigned mix_upto[PEL_SCI_KINDS] = { 40, 55, 70, 85, 100 };

#define SCI_LICENSE "CC-BY-4.0"
#define SCI_REVIEW_SHARE 0.15       /* mix_upto[REVIEW] - mix_upto[VERSION], as a fraction */

/* fields - an object of kind dataset with one digest (8 bytes of x, tagged
 * by `tag` so that the setup's objects and the mix's never share content). */
static int fields(uint64_t x, uint8_t tag, const char *title, const pel_obj_id *cite,
                  const pel_obj_id *self, pel_buf *b)
{
    pel_obj_fields f;
    uint8_t dg[32];
    memset(&f, 0, sizeof f);
    memset(dg, 0, sizeof dg);
    pel_le_store(dg, x, 8);
    dg[31] = tag;
    f.kind = PEL_OBJ_DATASET;          /* a version keeps its kind */
    f.title = (const uint8_t *)title;
    f.title_len = (uint32_t)strlen(title);
    f.n_digests = 1;
    f.digests = dg;
    f.license = (const uint8_t *)SCI_LICENSE;
    f.license_len = (uint32_t)strlen(SCI_LICENSE);
    if (cite) { f.n_links = 1; f.links[0].relation = PEL_REL_CITES; f.links[0].target = *cite; }
    pel_buf_reset(b);
    if (self && pel_buf_append(b, self->b, PEL_OBJ_ID_LEN)) return PEL_ENOMEM;
    return pel_obj_fields_encode(&f, b);
}

int pel_sci_object_body(uint64_t x, const pel_obj_id *cite, const pel_obj_id *self, pel_buf *body)
{
    return fields(x, 0, "Benchmark object", cite, self, body);
}

int pel_sci_popular_body(uint32_t c, pel_buf *body)
{
    return fields(c, 1, "Popular benchmark object", NULL, NULL, body);
}

int pel_sci_own_body(uint32_t s, pel_buf *body)
{
    return fields(s, 2, "Benchmark object", NULL, NULL, body);
}

/* review - the sender's k-th review (science_gen.h); 1 when it has no
 * version left to review. */
static int review(const pel_sci_world *w, pel_sci_sender *s, uint64_t x, pel_buf *b)
{
    uint32_t k = s->reviews, p = w->n_popular;
    if (k / p >= w->versions) return 1;
    uint8_t dg[32];
    static const char ci[] = "none";
    memset(dg, 0xa5, sizeof dg);
    pel_le_store(dg, x, 8);
    s->reviews++;
    pel_buf_reset(b);
    return pel_enc_raw(b, w->popular[(k + s->index) % p].b, PEL_OBJ_ID_LEN) || pel_enc_u32(b, 1 + k / p) ||
           pel_enc_u8(b, (uint8_t)(x % PEL_REVIEW_RECS)) || pel_enc_raw(b, dg, 32) ||
           pel_enc_bytes(b, ci, strlen(ci)) || pel_enc_bytes(b, SCI_LICENSE, strlen(SCI_LICENSE)) ||
           pel_enc_u8(b, 0) ? PEL_ENOMEM : 0;
}

/* prereg - a commit with no embargo, registry id or sample size. */
static int prereg(uint64_t x, pel_buf *b)
{
    uint8_t cm[32];
    memset(cm, 0x5a, sizeof cm);
    pel_le_store(cm, x, 8);
    pel_buf_reset(b);
    return pel_enc_raw(b, cm, 32) || pel_enc_u64(b, 0) || pel_enc_u64(b, 0) ||
           pel_enc_bytes(b, "", 0) || pel_enc_u64(b, 0) ? PEL_ENOMEM : 0;
}

static pel_sci_kind kind_of(uint64_t r)
{
    unsigned pc = (unsigned)(r % 100), k = 0;
    while (pc >= mix_upto[k]) k++;
    return (pel_sci_kind)k;
}

int pel_sci_next(const pel_sci_world *w, pel_sci_sender *s, uint64_t *rng, uint16_t *type,
                 pel_sci_kind *kind, pel_buf *body)
{
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t x = *rng, r = x >> 24;   /* the LCG's low bits are weak */
    const pel_obj_id *pop = &w->popular[r / 100 % w->n_popular];
    pel_sci_kind k = kind_of(r);
    int rc = 0;
    if (k == PEL_SCI_VERSION && !s->has_own) k = PEL_SCI_REGISTER;
    if (k == PEL_SCI_REVIEW && (rc = review(w, s, x, body)) == 1) k = PEL_SCI_CITE, rc = 0;
    switch (k) {
    case PEL_SCI_CITE: rc = pel_sci_object_body(x, pop, NULL, body); break;
    case PEL_SCI_REGISTER: rc = pel_sci_object_body(x, NULL, NULL, body); break;
    case PEL_SCI_VERSION: rc = pel_sci_object_body(x, NULL, &s->own, body); break;
    case PEL_SCI_PREREG: rc = prereg(x, body); break;
    default: break;                    /* the review is written */
    }
    static const uint16_t types[PEL_SCI_KINDS] = { PEL_TX_OBJ_REGISTER, PEL_TX_OBJ_REGISTER, PEL_TX_OBJ_VERSION,
                                                   PEL_TX_REVIEW, PEL_TX_PREREG_COMMIT };
    *type = types[k];
    if (kind) *kind = k;
    return rc;
}

uint32_t pel_sci_versions_for(uint32_t n_popular, uint64_t txs_per_sender)
{
    double m = SCI_REVIEW_SHARE * (double)txs_per_sender;
    double room = m + 4.0 * sqrt(m) + 4.0;
    double v = ceil(room / (double)(n_popular ? n_popular : 1));
    return v < 1 ? 1 : v > 1e6 ? 1000000u : (uint32_t)v;
}

uint64_t pel_sci_extra_gas(uint16_t type, size_t len)
{
    if (type == PEL_TX_REVIEW || type == PEL_TX_PREREG_COMMIT) return 64000 + 4 * (uint64_t)len;
    return 2000 + 4 * (uint64_t)len + 200 * (PEL_OBJ_LINKS_MAX + PEL_OBJ_DIGESTS_MAX);
}
