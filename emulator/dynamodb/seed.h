/*
 * seed.h — the demo catalog of `serve --seed <folder>` into the shop's table.
 */
#ifndef DDB_SEED_H
#define DDB_SEED_H

#include "core/err.h"
#include "core/template.h"
#include "dynamodb/ddb.h"

/* Load <seed_dir>/products.json ({"products": [...]}, each as POST /products
 * takes it, with an id) into the template's shop table, creating only products
 * that do not exist yet (idempotent across restarts). No products.json: CORE_OK.
 * A product the API would refuse fails the start (status 2, naming it). */
int ddb_seed_catalog(ddb_model *m, const core_template *tpl, const char *seed_dir,
                     core_err *err);

#endif
