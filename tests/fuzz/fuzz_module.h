/* fuzz_module.h - the properties every fuzz target of a module's body
 * decoder checks (fuzz_prereg.c, fuzz_review.c, fuzz_registry.c), for a
 * module m, a transaction type it owns and a body:
 *   - check never crashes, is deterministic (same code, same message) and
 *     gives no message on success;
 *   - check refuses every proper prefix of a body it accepts (no body is a
 *     prefix of another: the codec is length-prefixed);
 *   - spend (when the module has one) is 0 for a body check refuses;
 *   - exec, which the ledger runs without calling check first (module.h),
 *     refuses a body check refuses with check's code, before it reads or
 *     writes any state; on a body check accepts it does not crash (run on
 *     an empty state).
 * A violated property aborts (libFuzzer reports the input). */
#ifndef PEL_FUZZ_MODULE_H
#define PEL_FUZZ_MODULE_H

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "exec/view.h"
#include "ledger/module.h"

static int fuzz_empty_read(pel_view *v, const pel_key *key, void **ref, pel_val *out)
{
    (void)v; (void)key; (void)ref; (void)out;
    return PEL_ENOTFOUND;
}

static int fuzz_no_bound(pel_view *v, const pel_key *key, void **ref, pel_i128 offset, uint64_t bound)
{
    (void)v; (void)key; (void)ref; (void)offset; (void)bound;
    return 0;
}

/* fuzz_exec - m's exec of the body on an empty state; aborts unless a body
 * check refused (check_rc != 0) fails with check_rc and touches nothing. */
static void fuzz_exec(const pel_tx_module *m, uint16_t type, const uint8_t *body, uint32_t len,
                      int check_rc)
{
    static const pel_view_ops ops = { fuzz_empty_read, fuzz_no_bound };
    pel_module_ctx ctx = { .height = 1, .time_ms = 1700000000000ull };
    pel_arena arena;
    pel_view v;
    pel_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = type;
    tx.body = body;
    tx.body_len = len;
    pel_arena_init(&arena, 0);
    pel_view_init(&v, &ops, NULL, 0, NULL, &arena);
    int rc = m->exec(&ctx, &tx, &v);
    if (check_rc && (rc != check_rc || v.n != 0 || v.events_len != 0)) abort();
    pel_arena_free(&arena);
}

/* fuzz_module - check the properties above. @return check's code. */
static int fuzz_module(const pel_tx_module *m, uint16_t type, const uint8_t *body, uint32_t len)
{
    const char *why = NULL, *why2 = NULL;
    int rc = m->check(type, body, len, &why);
    if (rc != m->check(type, body, len, &why2) || why != why2) abort();
    if (rc == 0 && why != NULL) abort();
    if (rc == 0)
        for (uint32_t cut = 0; cut < len; cut++)
            if (m->check(type, body, cut, &why2) == 0) abort();
    if (m->spend && rc && m->spend(type, body, len) != 0) abort();   /* refused: spends nothing */
    fuzz_exec(m, type, body, len, rc);
    return rc;
}

#endif
