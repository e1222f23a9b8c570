/*
 * spdx.c - lookups in the generated SPDX table (spdx.h).
 */
#include "modules/spdx.h"

#include <string.h>
#include <strings.h>

static int cmp(const char *a, const char *s, size_t len)
{
    size_t al = strlen(a);
    int c = memcmp(a, s, al < len ? al : len);
    return c ? c : (al > len) - (al < len);
}

const pel_spdx_id *pel_spdx_find(const char *s, size_t len)
{
    unsigned lo = 0, hi = pel_spdx_count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int c = cmp(pel_spdx_ids[mid].id, s, len);
        if (c == 0) return &pel_spdx_ids[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const pel_spdx_id *pel_spdx_canonical(const char *s)
{
    for (unsigned i = 0; i < pel_spdx_count; i++)
        if (strcasecmp(pel_spdx_ids[i].id, s) == 0) return &pel_spdx_ids[i];
    return NULL;
}
