/*
 * model.h — Secrets Manager's state and rules on SQLite (secretsmanager.db):
 * secrets, their versions and the staging labels (AWSCURRENT, AWSPREVIOUS, ...)
 * that point at versions.
 *
 * Each operation takes the parsed request (the API's own field names) and
 * gives the answer document, or CORE_ERROR with err filled with the error AWS
 * answers (type, message, status 400). The wire layer (wire.c) only frames
 * them. Secret values are never logged.
 *
 * Thread safety: callers serialise operations (the wire holds the store lock).
 */
#ifndef SM_MODEL_H
#define SM_MODEL_H

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/template.h"

typedef struct sm_model sm_model;

/* Open (creating) <dir>/secretsmanager.db; dir NULL or ":memory:" keeps it in
 * memory. */
int sm_model_open(const char *dir, const char *region, core_clock *clock, sm_model **out,
                  core_err *err);
void sm_model_close(sm_model *m);

/* Lock around one operation (the store's recursive lock). */
void sm_model_lock(sm_model *m);
void sm_model_unlock(sm_model *m);

/* Create the template's AWS::SecretsManager::Secret resources that do not
 * exist yet, with the template's ARN (its stable 6-character suffix) and
 * SecretString (or a GenerateSecretString password) as the AWSCURRENT
 * version. A secret that exists keeps its value (set later with
 * PutSecretValue). */
int sm_model_seed_template(sm_model *m, const core_template *tpl, core_err *err);

typedef int (*sm_op)(sm_model *m, const cJSON *req, cJSON **out, core_err *err);

/* Run op under the lock in one savepoint: all of its writes, or (on error)
 * none. */
int sm_model_run(sm_model *m, sm_op op, const cJSON *req, cJSON **out, core_err *err);

/* The operation for an X-Amz-Target operation name, or NULL. */
sm_op sm_op_find(const char *name);

int sm_op_create_secret(sm_model *m, const cJSON *req, cJSON **out, core_err *err);
int sm_op_put_secret_value(sm_model *m, const cJSON *req, cJSON **out, core_err *err);
int sm_op_get_secret_value(sm_model *m, const cJSON *req, cJSON **out, core_err *err);
int sm_op_describe_secret(sm_model *m, const cJSON *req, cJSON **out, core_err *err);
int sm_op_list_secrets(sm_model *m, const cJSON *req, cJSON **out, core_err *err);

#endif
