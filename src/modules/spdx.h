/*
 * spdx.h - the SPDX licence identifiers a research object may name
 * (spdx.org/licenses): a generated, committed table (spdx_ids.c, from
 * scripts/gen-spdx.py) so that every node of a chain accepts exactly the
 * same set.
 *
 * Thread safety: read-only tables.
 */
#ifndef PEL_SPDX_H
#define PEL_SPDX_H

#include <stddef.h>

typedef struct pel_spdx_id {
    const char *id;       /* e.g. "CC-BY-4.0", exact case */
    int deprecated;       /* listed as deprecated by SPDX (still accepted) */
} pel_spdx_id;

extern const pel_spdx_id pel_spdx_ids[];
extern const unsigned pel_spdx_count;

/* pel_spdx_find - the entry for s[0..len) (exact, case-sensitive), or NULL. */
const pel_spdx_id *pel_spdx_find(const char *s, size_t len);

/* pel_spdx_canonical - the entry whose id equals s ignoring ASCII case
 * (SPDX ids match case-insensitively; the chain stores the canonical
 * case), or NULL. For the CLI. */
const pel_spdx_id *pel_spdx_canonical(const char *s);

#endif
