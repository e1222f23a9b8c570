/*
 * modules.c - the module table (modules.h). Adding a module: its file pair
 * in src/modules/, its transaction types in a free range, one line here.
 */
#include "modules/modules.h"

#include "modules/dao.h"
#include "modules/licence.h"
#include "modules/prereg.h"
#include "modules/registry.h"
#include "modules/review.h"
#include "modules/shares.h"

const pel_module_table *pel_modules_table(void)
{
    static const pel_tx_module *const mods[] = { &pel_registry_module, &pel_prereg_module,
                                                 &pel_review_module, &pel_licence_module,
                                                 &pel_shares_module, &pel_dao_module };
    static const pel_module_table t = { mods, sizeof mods / sizeof mods[0] };
    return &t;
}
