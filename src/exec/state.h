/*
 * state.h - the state an engine executes a block against.
 *
 * pel_state is a read-only view of the state before a block: engines only
 * call get(). The node will back it with LMDB; tests and benchmarks use
 * pel_memstate, an in-memory map that can apply a block's writes and compute
 * a digest of the whole state.
 */
#ifndef PEL_STATE_H
#define PEL_STATE_H

#include <stddef.h>
#include "core/codec.h"
#include "core/err.h"
#include "exec/key.h"

/* A write produced by execution. kind: PEL_W_PUT (value in val) or
 * PEL_W_DEL (key removed). */
enum { PEL_W_PUT = 1, PEL_W_DEL = 2 };

typedef struct pel_write {
    pel_key key;
    uint8_t kind;
    pel_val val;
} pel_write;

/* A write set: writes sorted by key, each key at most once. */
typedef struct pel_writeset {
    pel_write *w;
    uint32_t n;
} pel_writeset;

/*
 * get - look up `key` in the pre-block state.
 * @return 0 with *out set (bytes stay valid and unchanged until the state is
 *         next modified), or PEL_ENOTFOUND (*out cleared).
 * Must be safe to call from many threads at once.
 */
typedef struct pel_state {
    int (*get)(const void *ctx, const pel_key *key, pel_val *out);
    const void *ctx;
} pel_state;

static inline int pel_state_get(const pel_state *s, const pel_key *key, pel_val *out)
{
    return s->get(s->ctx, key, out);
}

/* pel_state_get_counter - a counter's value (8 bytes little-endian; absent
 * is 0). @return 0, PEL_ECORRUPT (another length), or the state's error. */
static inline int pel_state_get_counter(const pel_state *s, const pel_key *key, uint64_t *out)
{
    pel_val v;
    *out = 0;
    int rc = pel_state_get(s, key, &v);
    if (rc == PEL_ENOTFOUND) return 0;
    if (rc) return rc;
    if (v.len != 8) return PEL_ECORRUPT;
    *out = pel_le_load(v.p, 8);
    return 0;
}

/* ---- pel_memstate: in-memory state (tests, benchmarks, the demo) ---- */

typedef struct pel_memstate pel_memstate;

/* pel_memstate_new - an empty state. @return 0 or PEL_ENOMEM. */
int pel_memstate_new(pel_memstate **out) PEL_MUST_USE;
void pel_memstate_free(pel_memstate *ms);

/* pel_memstate_put / _del - set or remove one key (copies the bytes).
 * Not thread-safe. @return 0, PEL_ENOMEM, or PEL_ERANGE for len > PEL_VAL_MAX. */
int pel_memstate_put(pel_memstate *ms, const pel_key *key, const void *val, size_t len) PEL_MUST_USE;
int pel_memstate_del(pel_memstate *ms, const pel_key *key) PEL_MUST_USE;

/* pel_memstate_apply - apply a block's write set. Not thread-safe.
 * On PEL_ENOMEM the state may be partly updated. */
int pel_memstate_apply(pel_memstate *ms, const pel_writeset *ws) PEL_MUST_USE;

/* pel_memstate_reader - a pel_state that reads `ms` (valid while ms lives). */
pel_state pel_memstate_reader(const pel_memstate *ms);

/* pel_memstate_count - number of keys present. */
size_t pel_memstate_count(const pel_memstate *ms);

/* pel_memstate_digest - BLAKE2b-256 ("PEL/memstate") over every (key, value)
 * in key order: equal states have equal digests. @return 0 or PEL_ENOMEM. */
int pel_memstate_digest(const pel_memstate *ms, uint8_t out[32]) PEL_MUST_USE;

#endif
