/*
 * modules.h - the table of open-science modules a PEL chain runs: the one
 * place that lists them (ledger/module.h explains how the ledger uses it).
 *
 * Thread safety: a read-only table.
 */
#ifndef PEL_MODULES_H
#define PEL_MODULES_H

#include "ledger/module.h"

/* pel_modules_table - every module, for pel_chain_params.modules. */
const pel_module_table *pel_modules_table(void);

#endif
