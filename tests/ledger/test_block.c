/*
 * test_block.c - block headers, stored block records, receipts, write-set
 * digests and the state chain (src/ledger/block.c).
 *
 * Encodings are checked against reference encoders written here from the
 * formats in block.h (raw little-endian appends), and the block hash and
 * signature of one fixed header are pinned as golden values. Decoders must
 * reject every truncation, trailing bytes and count mismatches; a header
 * must stop verifying when any bit of its signed encoding changes.
 */
#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"
#include "ledger/block.h"
#include "test.h"

/*
 * Golden values. They pin the header format and the block hash: computed
 * once from fixed_header() signed with the Ed25519 key of seed 00 01 .. 1f.
 * A change to the encoding or the "PEL/block" tag changes them; update
 * them only for an intended format change (it invalidates stored chains).
 */
#define GOLDEN_BLOCK_HASH "c2aa20369fcf24fa26f8d707fb386318acd446e51c03e710a1d262f29196453a"
#define GOLDEN_BLOCK_SIG "069f1de843c06db1415a121b02003f55f3ec798ee2d5d6f681f15c87" \
                         "8cfb1363af47a3dea74f601e5ed5a8b7a489a16388448689b1983ce4a9c832094e42ce08"
/* pel_writeset_digest of fixed_writes() (put, del, put): pins that digest. */
#define GOLDEN_WRITES "d9d41ebcde29994839a496d73e59ef43d058604d171d42a2f092c2df7868ec40"

#define HDR_UNSIGNED_LEN (8 + 32 + 8 + 4 + 3 * 32 + 8 + 32 + 32)
#define HDR_SIGNED_LEN (HDR_UNSIGNED_LEN + PEL_SIG_LEN)

/* ---- helpers ---- */

static int hex_is(const uint8_t *d, size_t n, const char *want)
{
    char got[2 * 64 + 1];
    if (n > 64) return 0;
    pel_hex_encode(d, n, got);
    if (strcmp(got, want) == 0) return 1;
    fprintf(stderr, "  got  %s\n  want %s\n", got, want);
    return 0;
}

static void app(pel_buf *b, const void *p, size_t n)
{
    if (pel_buf_append(b, p, n) != 0) { fprintf(stderr, "out of memory\n"); abort(); }
}

static void app_le(pel_buf *b, uint64_t v, size_t n)
{
    uint8_t t[8];
    pel_le_store(t, v, n);
    app(b, t, n);
}

static void keypair(uint8_t first, uint8_t pk[PEL_PUBKEY_LEN], uint8_t sk[PEL_SECKEY_LEN])
{
    uint8_t seed[PEL_SEED_LEN];
    for (int i = 0; i < PEL_SEED_LEN; i++) seed[i] = (uint8_t)(first + i);
    CHECK(pel_sign_seed_keypair(pk, sk, seed) == 0);
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *q = p;
    for (size_t i = 0; i < n; i++) if (q[i]) return 0;
    return 1;
}

/* fixed_header - every field distinct and multi-byte, proposer unset. */
static pel_block_header fixed_header(void)
{
    pel_block_header h;
    memset(&h, 0, sizeof h);
    h.height = 0x0102030405060708ull;
    h.timestamp_ms = 1764100000123ull;
    h.tx_count = 0xa1b2c3d4u;
    h.history_size = 0x1122334455667788ull;
    for (int i = 0; i < 32; i++) {
        h.prev_hash[i] = (uint8_t)(0x00 + i);
        h.tx_root[i] = (uint8_t)(0x20 + i);
        h.state_root[i] = (uint8_t)(0x40 + i);
        h.receipts_root[i] = (uint8_t)(0x60 + i);
        h.history_root[i] = (uint8_t)(0x80 + i);
    }
    return h;
}

/* spec_header - the header encoding as block.h lists it. */
static void spec_header(pel_buf *b, const pel_block_header *h, int with_sig)
{
    app_le(b, h->height, 8);
    app(b, h->prev_hash, 32);
    app_le(b, h->timestamp_ms, 8);
    app_le(b, h->tx_count, 4);
    app(b, h->tx_root, 32);
    app(b, h->state_root, 32);
    app(b, h->receipts_root, 32);
    app_le(b, h->history_size, 8);
    app(b, h->history_root, 32);
    app(b, h->proposer, 32);
    if (with_sig) app(b, h->sig, PEL_SIG_LEN);
}

static int header_eq(const pel_block_header *a, const pel_block_header *b)
{
    return a->height == b->height && memcmp(a->prev_hash, b->prev_hash, 32) == 0 &&
           a->timestamp_ms == b->timestamp_ms && a->tx_count == b->tx_count &&
           memcmp(a->tx_root, b->tx_root, 32) == 0 && memcmp(a->state_root, b->state_root, 32) == 0 &&
           memcmp(a->receipts_root, b->receipts_root, 32) == 0 &&
           a->history_size == b->history_size && memcmp(a->history_root, b->history_root, 32) == 0 &&
           memcmp(a->proposer, b->proposer, 32) == 0 && memcmp(a->sig, b->sig, PEL_SIG_LEN) == 0;
}

static pel_block_header signed_fixed_header(void)
{
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN];
    keypair(0, pk, sk);
    pel_block_header h = fixed_header();
    CHECK_EQ_INT(pel_block_header_sign(&h, sk), 0);
    CHECK_MEM(h.proposer, pk, 32);
    return h;
}

/* decode_header - decode a signed header with the cursor and finish. */
static int decode_header(const uint8_t *p, size_t n, pel_block_header *h)
{
    pel_dec d;
    pel_dec_init(&d, p, n);
    memset(h, 0xAA, sizeof *h);
    pel_block_header_dec(&d, h);
    return pel_dec_finish(&d);
}

/* ---- headers ---- */

static void header_encoding_matches_layout(void)
{
    pel_block_header h = signed_fixed_header();
    for (int with_sig = 0; with_sig < 2; with_sig++) {
        pel_buf got, want;
        pel_buf_init(&got); pel_buf_init(&want);
        app(&got, "pre", 3);                                  /* encode appends */
        CHECK_EQ_INT(pel_block_header_encode(&h, with_sig, &got), 0);
        spec_header(&want, &h, with_sig);
        CHECK_EQ_INT(want.len, with_sig ? HDR_SIGNED_LEN : HDR_UNSIGNED_LEN);
        CHECK_EQ_INT(got.len, 3 + want.len);
        CHECK(got.len == 3 + want.len && memcmp(got.data + 3, want.data, want.len) == 0);
        CHECK_MEM(got.data, "pre", 3);
        pel_buf_free(&got); pel_buf_free(&want);
    }
    CHECK_EQ_INT(HDR_UNSIGNED_LEN, 220);
}

static void header_round_trip(void)
{
    pel_block_header h = signed_fixed_header(), d;
    pel_buf b, again;
    pel_buf_init(&b); pel_buf_init(&again);
    CHECK_EQ_INT(pel_block_header_encode(&h, 1, &b), 0);
    CHECK_EQ_INT(decode_header(b.data, b.len, &d), 0);
    CHECK(header_eq(&h, &d));
    CHECK_EQ_INT(pel_block_header_encode(&d, 1, &again), 0);
    CHECK(again.len == b.len && memcmp(again.data, b.data, b.len) == 0);
    CHECK_EQ_INT(pel_block_header_verify(&d), 0);
    /* the extremes */
    memset(&h, 0xff, sizeof h);
    pel_buf_reset(&b); pel_buf_reset(&again);
    CHECK_EQ_INT(pel_block_header_encode(&h, 1, &b), 0);
    CHECK_EQ_INT(decode_header(b.data, b.len, &d), 0);
    CHECK(header_eq(&h, &d));
    /* every truncation fails, a trailing byte fails */
    int bad = 0;
    for (size_t n = 0; n < b.len; n++) bad += decode_header(b.data, n, &d) != PEL_ETRUNC;
    CHECK_EQ_INT(bad, 0);
    app(&b, "", 1);
    CHECK_EQ_INT(decode_header(b.data, b.len, &d), PEL_ETRAILING);
    pel_buf_free(&b); pel_buf_free(&again);
}

static void header_hash_golden_and_sig_independent(void)
{
    pel_block_header h = signed_fixed_header();
    uint8_t hash[32], want[32];
    pel_buf u;
    pel_buf_init(&u);
    spec_header(&u, &h, 0);
    CHECK(pel_hash_tagged("PEL/block", u.data, u.len, want) == 0);
    CHECK_EQ_INT(pel_block_header_hash(&h, hash), 0);
    CHECK_MEM(hash, want, 32);
    CHECK(hex_is(hash, 32, GOLDEN_BLOCK_HASH));
    CHECK(hex_is(h.sig, 64, GOLDEN_BLOCK_SIG));
    /* sig = Ed25519(proposer, hash) */
    CHECK_EQ_INT(pel_sign_verify(h.proposer, hash, 32, h.sig), 0);
    /* the hash does not cover the signature */
    pel_block_header h2 = h;
    memset(h2.sig, 0x5c, sizeof h2.sig);
    CHECK_EQ_INT(pel_block_header_hash(&h2, want), 0);
    CHECK_MEM(hash, want, 32);
    pel_buf_free(&u);
}

/* Changing any field (one byte of each field, each end) makes the header
 * fail to verify, and changes the hash unless the byte is in the signature. */
static void tampered_field_fails_verify(void)
{
    pel_block_header h = signed_fixed_header();
    uint8_t hash0[32];
    CHECK_EQ_INT(pel_block_header_verify(&h), 0);
    CHECK_EQ_INT(pel_block_header_hash(&h, hash0), 0);
    struct { void *p; size_t n; int in_hash; } f[] = {
        { &h.height, 8, 1 }, { h.prev_hash, 32, 1 }, { &h.timestamp_ms, 8, 1 },
        { &h.tx_count, 4, 1 }, { h.tx_root, 32, 1 }, { h.state_root, 32, 1 },
        { h.receipts_root, 32, 1 }, { &h.history_size, 8, 1 }, { h.history_root, 32, 1 },
        { h.proposer, 32, 1 }, { h.sig, 64, 0 },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        for (int end = 0; end < 2; end++) {
            uint8_t *byte = (uint8_t *)f[i].p + (end ? f[i].n - 1 : 0);
            uint8_t hash[32];
            *byte ^= 0x01;
            int rc = pel_block_header_verify(&h);
            CHECK(rc == PEL_EBADSIG || rc == PEL_EBADKEY);
            if (rc == 0) fprintf(stderr, "  field %zu end %d still verifies\n", i, end);
            CHECK_EQ_INT(pel_block_header_hash(&h, hash), 0);
            CHECK(f[i].in_hash ? memcmp(hash, hash0, 32) != 0 : memcmp(hash, hash0, 32) == 0);
            *byte ^= 0x01;
        }
    }
    CHECK_EQ_INT(pel_block_header_verify(&h), 0);
    /* another key's signature over the same header */
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN];
    keypair(7, pk, sk);
    pel_block_header o = fixed_header();
    CHECK_EQ_INT(pel_block_header_sign(&o, sk), 0);
    memcpy(o.proposer, h.proposer, 32);
    CHECK_EQ_INT(pel_block_header_verify(&o), PEL_EBADSIG);
}

/* Every single-bit change of the signed encoding: decoded, it never verifies. */
static void bit_flips_never_verify(void)
{
    pel_block_header h = signed_fixed_header(), d;
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_block_header_encode(&h, 1, &b), 0);
    int verified = 0;
    for (size_t bit = 0; bit < 8 * b.len; bit++) {
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (decode_header(b.data, b.len, &d) == 0 && pel_block_header_verify(&d) == 0) verified++;
        b.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK_EQ_INT(verified, 0);
    pel_buf_free(&b);
}

/* ---- block records ---- */

/* build_record - signed header ‖ u32 count ‖ (bytes tx)*. tx i has length
 * lens[i] and bytes (i * 16 + j). */
static void build_record(pel_buf *b, const pel_block_header *h, uint32_t count,
                         const uint32_t *lens, uint32_t n)
{
    spec_header(b, h, 1);
    app_le(b, count, 4);
    for (uint32_t i = 0; i < n; i++) {
        app_le(b, lens[i], 4);
        for (uint32_t j = 0; j < lens[i]; j++) app_le(b, (uint8_t)(i * 16 + j), 1);
    }
}

static void record_decode_splits_header_and_txs(void)
{
    static const uint32_t lens[] = { 0, 5, 300, 1 };
    pel_block_header h = signed_fixed_header(), d;
    h.tx_count = 4;                       /* signature now stale: decoding does not verify */
    pel_buf b;
    pel_buf_init(&b);
    build_record(&b, &h, 4, lens, 4);
    const uint8_t **txs = NULL;
    uint32_t *l = NULL, n = 99;
    CHECK_EQ_INT(pel_block_record_decode(b.data, b.len, &d, &txs, &l, &n), 0);
    CHECK(header_eq(&h, &d));
    CHECK_EQ_INT(n, 4);
    size_t off = HDR_SIGNED_LEN + 4;
    for (uint32_t i = 0; i < 4 && txs; i++) {
        off += 4;
        CHECK(txs[i] == b.data + off);
        CHECK_EQ_INT(l[i], lens[i]);
        if (lens[i]) CHECK(txs[i][lens[i] - 1] == (uint8_t)(i * 16 + lens[i] - 1));
        off += lens[i];
    }
    CHECK_EQ_INT(off, b.len);
    free(txs); free(l);

    /* an empty block */
    h.tx_count = 0;
    pel_buf_reset(&b);
    build_record(&b, &h, 0, NULL, 0);
    n = 99;
    CHECK_EQ_INT(pel_block_record_decode(b.data, b.len, &d, &txs, &l, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(b.len, HDR_SIGNED_LEN + 4);
    free(txs); free(l);
    pel_buf_free(&b);
}

/* expect_record_error - decoding fails with `code` and clears the outputs. */
static int record_error(const uint8_t *p, size_t n)
{
    pel_block_header d;
    const uint8_t **txs = (const uint8_t **)&d;
    uint32_t *l = (uint32_t *)&d, cnt = 99;
    int rc = pel_block_record_decode(p, n, &d, &txs, &l, &cnt);
    if (rc && (txs || l || cnt)) return 1;       /* outputs not cleared */
    if (!rc) { free(txs); free(l); }
    return rc;
}

static void record_decode_rejects_malformed(void)
{
    static const uint32_t lens[] = { 3, 0, 40 };
    pel_block_header h = signed_fixed_header();
    h.tx_count = 3;
    pel_buf b;
    pel_buf_init(&b);

    build_record(&b, &h, 3, lens, 3);
    CHECK_EQ_INT(record_error(b.data, b.len), 0);
    int bad = 0;
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = malloc(n ? n : 1);          /* exact-size copy: ASan sees overreads */
        memcpy(p, b.data, n);
        int rc = record_error(p, n);
        if (rc != PEL_ETRUNC) { bad++; fprintf(stderr, "  prefix %zu: %d\n", n, rc); }
        free(p);
    }
    CHECK_EQ_INT(bad, 0);
    app(&b, "x", 1);
    CHECK_EQ_INT(record_error(b.data, b.len), PEL_ETRAILING);

    /* count differs from the header's tx_count, either way */
    pel_buf_reset(&b);
    build_record(&b, &h, 2, lens, 2);
    CHECK_EQ_INT(record_error(b.data, b.len), PEL_ECORRUPT);
    h.tx_count = 2;
    pel_buf_reset(&b);
    build_record(&b, &h, 3, lens, 3);
    CHECK_EQ_INT(record_error(b.data, b.len), PEL_ECORRUPT);

    /* count over the limit */
    h.tx_count = PEL_BLOCK_MAX_TXS + 1;
    pel_buf_reset(&b);
    build_record(&b, &h, PEL_BLOCK_MAX_TXS + 1, NULL, 0);
    CHECK_EQ_INT(record_error(b.data, b.len), PEL_ETOOLONG);

    /* a transaction length past the end */
    static const uint32_t huge[] = { 0xffffffffu };
    h.tx_count = 1;
    pel_buf_reset(&b);
    spec_header(&b, &h, 1);
    app_le(&b, 1, 4);
    app_le(&b, huge[0], 4);
    app(&b, "abc", 3);
    CHECK_EQ_INT(record_error(b.data, b.len), PEL_ETRUNC);
    pel_buf_free(&b);
}

/* ---- receipts ---- */

static void spec_receipt(pel_buf *b, const pel_receipt *r)
{
    app_le(b, (uint32_t)r->status, 4);
    app_le(b, r->gas_used, 8);
    app_le(b, r->events_len, 4);
    if (r->events_len) app(b, r->events, r->events_len);
}

static void receipt_round_trip(void)
{
    static const uint8_t ev[] = { 3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0 };
    pel_receipt cases[] = {
        { 0, 0, NULL, 0 },
        { -45, 3830, ev, sizeof ev },            /* PEL_EFUNDS */
        { INT32_MIN, UINT64_MAX, ev, 4 },
        { INT32_MAX, 1, ev, 1 },
        { -1, 0, NULL, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pel_buf b, want;
        pel_receipt d;
        pel_buf_init(&b); pel_buf_init(&want);
        CHECK_EQ_INT(pel_receipt_encode(&cases[i], &b), 0);
        spec_receipt(&want, &cases[i]);
        CHECK(b.len == want.len && memcmp(b.data, want.data, b.len) == 0);
        CHECK_EQ_INT(b.len, 16 + cases[i].events_len);
        CHECK_EQ_INT(pel_receipt_decode(b.data, b.len, &d), 0);
        CHECK_EQ_INT(d.status, cases[i].status);
        CHECK(d.gas_used == cases[i].gas_used);
        CHECK_EQ_INT(d.events_len, cases[i].events_len);
        CHECK(d.events == b.data + 16);          /* points into the input */
        if (d.events_len) CHECK_MEM(d.events, cases[i].events, d.events_len);
        pel_buf_free(&b); pel_buf_free(&want);
    }
    /* negative status is the two's complement u32 */
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_receipt_encode(&cases[1], &b), 0);
    CHECK(pel_le_load(b.data, 4) == 0xffffffd3u);
    pel_buf_free(&b);
}

static int receipt_error(const uint8_t *p, size_t n)
{
    pel_receipt r;
    memset(&r, 0xAA, sizeof r);
    int rc = pel_receipt_decode(p, n, &r);
    if (rc && !all_zero(&r, sizeof r)) return 1;     /* not cleared */
    return rc;
}

static void receipt_decode_rejects_malformed(void)
{
    static const uint8_t ev[] = { 1, 2, 3, 4, 5, 6, 7 };
    pel_receipt r = { -50, 12345, ev, sizeof ev };
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_receipt_encode(&r, &b), 0);
    int bad = 0;
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, b.data, n);
        bad += receipt_error(p, n) != PEL_ETRUNC;
        free(p);
    }
    CHECK_EQ_INT(bad, 0);
    app(&b, "", 1);
    CHECK_EQ_INT(receipt_error(b.data, b.len), PEL_ETRAILING);
    pel_buf_free(&b);
}

/* ---- write-set digest and state chain ---- */

static void spec_writes_digest(const pel_writeset *ws, uint8_t out[32])
{
    pel_buf b;
    pel_buf_init(&b);
    app_le(&b, ws->n, 4);
    for (uint32_t i = 0; i < ws->n; i++) {
        const pel_write *w = &ws->w[i];
        uint32_t len = w->kind == PEL_W_PUT ? w->val.len : 0;
        app(&b, w->key.b, PEL_KEY_LEN);
        app_le(&b, w->kind, 1);
        app_le(&b, len, 4);
        if (len) app(&b, w->val.p, len);
    }
    CHECK(pel_hash_tagged("PEL/writes", b.data, b.len, out) == 0);
    pel_buf_free(&b);
}

static void fixed_writes(pel_write w[3], uint8_t vals[2][8])
{
    memset(w, 0, 3 * sizeof *w);
    for (int i = 0; i < 3; i++) memset(w[i].key.b, 0x10 * (i + 1), PEL_KEY_LEN);
    for (int j = 0; j < 8; j++) { vals[0][j] = (uint8_t)j; vals[1][j] = (uint8_t)(0xf0 + j); }
    w[0].kind = PEL_W_PUT; w[0].val.p = vals[0]; w[0].val.len = 8;
    w[1].kind = PEL_W_DEL;
    w[2].kind = PEL_W_PUT; w[2].val.p = vals[1]; w[2].val.len = 3;
}

static void writeset_digest_covers_every_field(void)
{
    pel_write w[3];
    uint8_t vals[2][8], base[32], d[32], s[32];
    fixed_writes(w, vals);
    pel_writeset ws = { w, 3 };
    CHECK_EQ_INT(pel_writeset_digest(&ws, base), 0);
    spec_writes_digest(&ws, s);
    CHECK_MEM(base, s, 32);
    CHECK(hex_is(base, 32, GOLDEN_WRITES));
    int same = 0;
    /* each change below must change the digest */
    for (int c = 0; c < 9; c++) {
        fixed_writes(w, vals);
        ws.n = 3;
        switch (c) {
        case 0: w[1].key.b[31] ^= 1; break;                 /* a key byte */
        case 1: w[0].kind = PEL_W_DEL; break;               /* put -> del */
        case 2: w[1].kind = PEL_W_PUT; w[1].val.p = vals[0]; w[1].val.len = 0; break;   /* del -> empty put */
        case 3: vals[0][7] ^= 0x80; break;                  /* a value byte */
        case 4: w[2].val.len = 4; break;                    /* a value length */
        case 5: ws.n = 2; break;                            /* a write dropped */
        case 6: { pel_write t = w[0]; w[0] = w[2]; w[2] = t; break; }   /* order */
        case 7: w[0].val.len = 0; break;                    /* empty value */
        case 8: ws.n = 0; break;                            /* nothing */
        }
        CHECK_EQ_INT(pel_writeset_digest(&ws, d), 0);
        spec_writes_digest(&ws, s);
        CHECK_MEM(d, s, 32);
        if (memcmp(d, base, 32) == 0) { same++; fprintf(stderr, "  change %d kept the digest\n", c); }
    }
    CHECK_EQ_INT(same, 0);
    /* a delete's value is not part of the digest */
    fixed_writes(w, vals);
    ws.n = 3;
    w[1].val.p = vals[1]; w[1].val.len = 8;
    CHECK_EQ_INT(pel_writeset_digest(&ws, d), 0);
    CHECK_MEM(d, base, 32);
}

static void state_chain_is_tagged_hash_of_both(void)
{
    uint8_t parent[32], writes[32], both[64], got[32], want[32], other[32];
    for (int i = 0; i < 32; i++) { parent[i] = (uint8_t)i; writes[i] = (uint8_t)(0xff - i); }
    memcpy(both, parent, 32);
    memcpy(both + 32, writes, 32);
    CHECK(pel_hash_tagged("PEL/state-chain", both, 64, want) == 0);
    CHECK_EQ_INT(pel_state_chain(parent, writes, got), 0);
    CHECK_MEM(got, want, 32);
    CHECK_EQ_INT(pel_state_chain(writes, parent, other), 0);     /* order matters */
    CHECK(memcmp(other, got, 32) != 0);
    parent[0] ^= 1;
    CHECK_EQ_INT(pel_state_chain(parent, writes, other), 0);
    CHECK(memcmp(other, got, 32) != 0);
    parent[0] ^= 1;
    writes[31] ^= 1;
    CHECK_EQ_INT(pel_state_chain(parent, writes, other), 0);
    CHECK(memcmp(other, got, 32) != 0);
}

int main(void)
{
    RUN(header_encoding_matches_layout);
    RUN(header_round_trip);
    RUN(header_hash_golden_and_sig_independent);
    RUN(tampered_field_fails_verify);
    RUN(bit_flips_never_verify);
    RUN(record_decode_splits_header_and_txs);
    RUN(record_decode_rejects_malformed);
    RUN(receipt_round_trip);
    RUN(receipt_decode_rejects_malformed);
    RUN(writeset_digest_covers_every_field);
    RUN(state_chain_is_tagged_hash_of_both);
    return TEST_END("test_block");
}
