/*
 * seed.c — `serve --seed <folder>`: the demo catalog (<folder>/products.json)
 * into the shop's table. See seed.h.
 *
 * Each product is validated by the same rules as POST /products
 * (backend/lib/model.c's model_product_create_fields) and written as the same
 * item (model_product_item), so the fixtures cannot hold what the API would
 * refuse. Writes are PutItem with attribute_not_exists(PK): a restart with
 * --seed again leaves every product as it is (stock sold, prices an admin
 * changed, products an admin deleted... no: a deleted one comes back), and
 * never duplicates one. createdAt is fixed per position in the file, so the
 * catalog order (GSI1, oldest first) is the file's order on every start.
 */
#include "dynamodb/seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "lib/model.h"
#include "lib/val.h"

#define SEED_MAX_BYTES (4 * 1024 * 1024)
#define SEED_MAX_PRODUCTS 10000

/* The table the shop's handlers use: the template's ShopTable, else the only
 * table keyed PK/SK. */
static const core_tpl_table *shop_table(const core_template *tpl)
{
    const core_tpl_table *only = NULL;
    size_t n = 0;
    for (size_t i = 0; i < core_template_table_count(tpl); i++) {
        const core_tpl_table *t = core_template_table_at(tpl, i);
        if (!strcmp(t->resource->logical_id, "ShopTable"))
            return t;
        if (t->hash_key && !strcmp(t->hash_key, "PK") && t->range_key &&
            !strcmp(t->range_key, "SK")) {
            only = t;
            n++;
        }
    }
    return n == 1 ? only : NULL;
}

static char *read_file(const char *path, size_t *len, core_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        core_err_set(err, 2, "InvalidArgument", "--seed: cannot read %s", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > SEED_MAX_BYTES) {
        fclose(f);
        core_err_set(err, 2, "InvalidArgument", "--seed: %s is larger than %d bytes", path,
                     SEED_MAX_BYTES);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf || n != (size_t)st.st_size) {
        free(buf);
        core_err_set(err, 2, "InvalidArgument", "--seed: cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int ddb_seed_catalog(ddb_model *m, const core_template *tpl, const char *seed_dir,
                     core_err *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/products.json", seed_dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return CORE_OK; /* a seed folder without a catalog seeds none */
    const core_tpl_table *table = shop_table(tpl);
    if (!table)
        return core_err_set(err, 2, "InvalidArgument",
                            "--seed: %s needs the template's ShopTable (or one PK/SK table)",
                            path);
    size_t len = 0;
    char *text = read_file(path, &len, err);
    if (!text)
        return CORE_ERROR;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *products = cJSON_IsArray(doc) ? doc
                            : cJSON_GetObjectItemCaseSensitive(doc, "products");
    if (!cJSON_IsArray(products) || cJSON_GetArraySize(products) > SEED_MAX_PRODUCTS) {
        cJSON_Delete(doc);
        return core_err_set(err, 2, "InvalidArgument",
                            "--seed: %s must be {\"products\": [...]} (at most %d)", path,
                            SEED_MAX_PRODUCTS);
    }
    ddb_op put = ddb_op_find("PutItem");
    int index = 0, created = 0;
    for (const cJSON *p = products->child; p; p = p->next, index++) {
        val_problem prob;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
        if (val_object(p, model_product_create_fields, &prob) || !cJSON_IsString(id)) {
            core_err_set(err, 2, "InvalidArgument", "--seed: %s: products[%d]: %s", path, index,
                         prob.message[0] ? prob.message : "id: is required in fixtures");
            cJSON_Delete(doc);
            return CORE_ERROR;
        }
        /* a fixed, ordered creation time: 2026-01-01T00:00:00Z plus one second each */
        char created_at[32];
        snprintf(created_at, sizeof created_at, "2026-01-01T%02d:%02d:%02d.000Z",
                 index / 3600 % 24, index / 60 % 60, index % 60);
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "TableName", table->name);
        cJSON_AddItemToObject(req, "Item", model_product_item(p, id->valuestring, created_at));
        cJSON_AddStringToObject(req, "ConditionExpression", "attribute_not_exists(PK)");
        cJSON *resp = NULL, *extra = NULL;
        core_err inner;
        core_err_clear(&inner);
        int rc = put(m, req, &resp, &extra, &inner);
        cJSON_Delete(req);
        cJSON_Delete(resp);
        cJSON_Delete(extra);
        if (rc == CORE_OK)
            created++;
        else if (strcmp(inner.type, "ConditionalCheckFailedException")) {
            core_err_set(err, 500, "InternalFailure", "--seed: products[%d]: %s", index,
                         inner.message);
            cJSON_Delete(doc);
            return CORE_ERROR;
        }
    }
    cJSON_Delete(doc);
    cJSON *fields = cJSON_CreateObject();
    cJSON_AddStringToObject(fields, "table", table->name);
    cJSON_AddNumberToObject(fields, "products", index);
    cJSON_AddNumberToObject(fields, "created", created);
    core_log_fields(CORE_LOG_INFO, "dynamodb", NULL, fields, "seeded the catalog");
    cJSON_Delete(fields);
    return CORE_OK;
}
