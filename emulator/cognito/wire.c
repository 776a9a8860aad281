/*
 * wire.c — Cognito's JSON protocol (awsJson1_1): POST /, X-Amz-Target
 * AWSCognitoIdentityProviderService.<Operation>, application/x-amz-json-1.1.
 *
 * Source: the Amazon Cognito user pools API reference (each operation's
 * request, response and errors) and WIRE.md. Errors are HTTP 400 (500 for
 * InternalErrorException) with {"__type": "<Type>", "message": "..."} and the
 * x-amzn-ErrorType header. Dates are epoch seconds (awsJson timestamps).
 * SignUp, ConfirmSignUp, InitiateAuth and the operations that take an access
 * token are unsigned on AWS; the Admin and List/Describe operations need IAM
 * credentials, so a request without a SigV4 Authorization header gets
 * MissingAuthenticationTokenException as AWS answers it (the signature itself
 * is not checked, as everywhere in shoplocal).
 *
 * The service also:
 *   - serves GET /<poolId>/.well-known/jwks.json (the path the issuer URL
 *     puts it at) and /<poolId>/.well-known/openid-configuration;
 *   - registers each pool's JWKS with the HTTP API's JWT authorizer under the
 *     pool's issuer, in-process (apigw_jwks_set), as soon as the keys exist
 *     (at start when kept from before, else on the pool's first use), so
 *     tokens it issues pass the template's authorizer and tokens of other
 *     pools do not;
 *   - loads <seed>/users.json on `serve --seed <folder>` (idempotent: a user
 *     that exists is left as it is) and puts each demo login in the banner.
 */
#include "cognito/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigateway/jwt.h"
#include "apigateway/service.h"
#include "cognito/model.h"
#include "core/fault.h"
#include "core/http.h"
#include "core/log.h"

#define TARGET_PREFIX "AWSCognitoIdentityProviderService"
#define CONTENT_TYPE "application/x-amz-json-1.1"

typedef struct cog_service {
    core_emulator *emu;
    cog_model *model;
    char *route_path; /* "/<region>_", borrowed by the router */
} cog_service;

typedef int (*cog_op)(cog_service *svc, const cJSON *in, cJSON *out, core_err *err);

/* ---- request helpers -------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A required string member, or InvalidParameterException in AWS's validation
 * wording (the member name with a lower-case first letter). */
static const char *need(const cJSON *in, const char *name, core_err *err)
{
    const char *v = jstr(in, name);
    if (v && *v)
        return v;
    char lower[64];
    snprintf(lower, sizeof lower, "%s", name);
    if (lower[0] >= 'A' && lower[0] <= 'Z')
        lower[0] = (char)(lower[0] - 'A' + 'a');
    core_err_set(err, 400, "InvalidParameterException",
                 "1 validation error detected: Value null at '%s' failed to satisfy "
                 "constraint: Member must not be null", lower);
    return NULL;
}

static const cog_pool *need_pool(cog_service *svc, const cJSON *in, core_err *err)
{
    const char *id = need(in, "UserPoolId", err);
    return id ? cog_model_pool(svc->model, id, err) : NULL;
}

static const cog_client *need_client(cog_service *svc, const cJSON *in, core_err *err)
{
    const char *id = need(in, "ClientId", err);
    return id ? cog_model_client(svc->model, id, err) : NULL;
}

static double epoch_s(int64_t ms) { return (double)ms / 1000.0; }

static void add_delivery(cJSON *out, const cog_delivery *d)
{
    cJSON *o = cJSON_AddObjectToObject(out, "CodeDeliveryDetails");
    cJSON_AddStringToObject(o, "Destination", d->destination);
    cJSON_AddStringToObject(o, "DeliveryMedium", d->medium);
    cJSON_AddStringToObject(o, "AttributeName", d->attribute);
}

/* The UserType shape (ListUsers, AdminCreateUser). attrs_name is "Attributes"
 * there and "UserAttributes" in AdminGetUser; keep filters them (NULL: all). */
static void add_user(cJSON *o, const cog_user *u, const char *attrs_name, const cJSON *keep)
{
    cJSON_AddStringToObject(o, "Username", u->username);
    cJSON *attrs = cJSON_AddArrayToObject(o, attrs_name);
    const cJSON *a;
    cJSON_ArrayForEach(a, u->attributes)
    {
        const char *n = jstr(a, "Name");
        int wanted = !keep;
        const cJSON *k;
        cJSON_ArrayForEach(k, keep)
            wanted |= cJSON_IsString(k) && n && !strcmp(k->valuestring, n);
        if (wanted)
            cJSON_AddItemToArray(attrs, cJSON_Duplicate(a, 1));
    }
    cJSON_AddNumberToObject(o, "UserCreateDate", epoch_s(u->created_ms));
    cJSON_AddNumberToObject(o, "UserLastModifiedDate", epoch_s(u->modified_ms));
    cJSON_AddBoolToObject(o, "Enabled", u->enabled);
    cJSON_AddStringToObject(o, "UserStatus", u->status);
}

static void add_tokens(cJSON *out, const cog_tokens *t)
{
    cJSON_AddItemToObject(out, "ChallengeParameters", cJSON_CreateObject());
    cJSON *r = cJSON_AddObjectToObject(out, "AuthenticationResult");
    cJSON_AddStringToObject(r, "AccessToken", t->access_token);
    cJSON_AddNumberToObject(r, "ExpiresIn", (double)t->expires_in);
    cJSON_AddStringToObject(r, "TokenType", "Bearer");
    if (t->refresh_token)
        cJSON_AddStringToObject(r, "RefreshToken", t->refresh_token);
    cJSON_AddStringToObject(r, "IdToken", t->id_token);
}

/* An attribute list as the API takes it: [{"Name","Value"}], or absent. */
static int attr_list(const cJSON *in, const char *name, const cJSON **out, core_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    *out = NULL;
    if (!v)
        return CORE_OK;
    if (!cJSON_IsArray(v))
        return core_err_set(err, 400, "InvalidParameterException", "%s must be a list", name);
    *out = v;
    return CORE_OK;
}

/* ---- pools and clients ------------------------------------------------------ */

static int list_bounds(const cJSON *in, const char *limit_name, int required, long max,
                       const char *token_name, long *limit, long *offset, core_err *err)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(in, limit_name);
    if (!l && required)
        return need(in, limit_name, err) ? CORE_OK : CORE_ERROR;
    *limit = max;
    if (l) {
        if (!cJSON_IsNumber(l) || l->valuedouble < (required ? 1 : 0) || l->valuedouble > max)
            return core_err_set(err, 400, "InvalidParameterException",
                                "1 validation error detected: Value at '%c%s' failed to satisfy "
                                "constraint: Member must have value less than or equal to %ld",
                                limit_name[0] + 32, limit_name + 1, max);
        *limit = (long)l->valuedouble;
        if (*limit == 0)
            *limit = max;
    }
    *offset = 0;
    const char *tok = jstr(in, token_name);
    if (tok) {
        char *end;
        if (strncmp(tok, "off.", 4) != 0 || (*offset = strtol(tok + 4, &end, 10)) < 0 || *end)
            return core_err_set(err, 400, "InvalidParameterException",
                                "The pagination token is invalid");
    }
    return CORE_OK;
}

static void add_next(cJSON *out, const char *name, long next)
{
    char tok[32];
    snprintf(tok, sizeof tok, "off.%ld", next);
    cJSON_AddStringToObject(out, name, tok);
}

static int op_list_user_pools(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    long limit, offset;
    if (list_bounds(in, "MaxResults", 1, 60, "NextToken", &limit, &offset, err) != CORE_OK)
        return CORE_ERROR;
    cJSON *arr = cJSON_AddArrayToObject(out, "UserPools");
    size_t n = cog_model_pool_count(svc->model);
    for (size_t i = (size_t)offset; i < n && i < (size_t)(offset + limit); i++) {
        const cog_pool *p = cog_model_pool_at(svc->model, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Id", p->id);
        cJSON_AddStringToObject(o, "Name", p->name);
        cJSON_AddItemToObject(o, "LambdaConfig", cJSON_CreateObject());
        cJSON_AddNumberToObject(o, "LastModifiedDate", epoch_s(p->created_ms));
        cJSON_AddNumberToObject(o, "CreationDate", epoch_s(p->created_ms));
        cJSON_AddItemToArray(arr, o);
    }
    if ((size_t)(offset + limit) < n)
        add_next(out, "NextToken", offset + limit);
    return CORE_OK;
}

static cJSON *string_list(const cJSON *props, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    return cJSON_IsArray(v) ? cJSON_Duplicate(v, 1) : NULL;
}

static int op_describe_user_pool(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    if (!p)
        return CORE_ERROR;
    cJSON *o = cJSON_AddObjectToObject(out, "UserPool");
    cJSON_AddStringToObject(o, "Id", p->id);
    cJSON_AddStringToObject(o, "Name", p->name);
    cJSON *pol = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "Policies"), "PasswordPolicy");
    cJSON_AddNumberToObject(pol, "MinimumLength", p->policy.minimum_length);
    cJSON_AddBoolToObject(pol, "RequireUppercase", p->policy.require_uppercase);
    cJSON_AddBoolToObject(pol, "RequireLowercase", p->policy.require_lowercase);
    cJSON_AddBoolToObject(pol, "RequireNumbers", p->policy.require_numbers);
    cJSON_AddBoolToObject(pol, "RequireSymbols", p->policy.require_symbols);
    cJSON_AddNumberToObject(pol, "TemporaryPasswordValidityDays",
                            p->policy.temporary_validity_days);
    const char *protection = jstr(p->properties, "DeletionProtection");
    cJSON_AddStringToObject(o, "DeletionProtection", protection ? protection : "INACTIVE");
    cJSON_AddItemToObject(o, "LambdaConfig", cJSON_CreateObject());
    cJSON_AddNumberToObject(o, "LastModifiedDate", epoch_s(p->created_ms));
    cJSON_AddNumberToObject(o, "CreationDate", epoch_s(p->created_ms));
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(p->properties, "Schema");
    if (cJSON_IsArray(schema))
        cJSON_AddItemToObject(o, "SchemaAttributes", cJSON_Duplicate(schema, 1));
    cJSON *v = string_list(p->properties, "AutoVerifiedAttributes");
    if (v)
        cJSON_AddItemToObject(o, "AutoVerifiedAttributes", v);
    if ((v = string_list(p->properties, "UsernameAttributes")))
        cJSON_AddItemToObject(o, "UsernameAttributes", v);
    const char *mfa = jstr(p->properties, "MfaConfiguration");
    cJSON_AddStringToObject(o, "MfaConfiguration", mfa ? mfa : "OFF");
    cJSON_AddNumberToObject(o, "EstimatedNumberOfUsers",
                            (double)cog_model_user_count(svc->model, p));
    cJSON_AddStringToObject(o, "Arn", p->arn);
    const cJSON *recovery = cJSON_GetObjectItemCaseSensitive(p->properties,
                                                             "AccountRecoverySetting");
    if (cJSON_IsObject(recovery))
        cJSON_AddItemToObject(o, "AccountRecoverySetting", cJSON_Duplicate(recovery, 1));
    return CORE_OK;
}

static int op_list_user_pool_clients(cog_service *svc, const cJSON *in, cJSON *out,
                                     core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    long limit, offset;
    if (!p || list_bounds(in, "MaxResults", 0, 60, "NextToken", &limit, &offset, err) != CORE_OK)
        return CORE_ERROR;
    cJSON *arr = cJSON_AddArrayToObject(out, "UserPoolClients");
    long seen = 0, added = 0;
    for (size_t i = 0; i < cog_model_client_count(svc->model); i++) {
        const cog_client *c = cog_model_client_at(svc->model, i);
        if (c->pool != p || seen++ < offset)
            continue;
        if (added == limit) {
            add_next(out, "NextToken", offset + limit);
            break;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ClientId", c->id);
        cJSON_AddStringToObject(o, "UserPoolId", p->id);
        cJSON_AddStringToObject(o, "ClientName", c->name);
        cJSON_AddItemToArray(arr, o);
        added++;
    }
    return CORE_OK;
}

static void copy_prop(cJSON *o, const cJSON *props, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    if (v)
        cJSON_AddItemToObject(o, name, cJSON_Duplicate(v, 1));
}

static int op_describe_user_pool_client(cog_service *svc, const cJSON *in, cJSON *out,
                                        core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    const cog_client *c = p ? need_client(svc, in, err) : NULL;
    if (!c)
        return CORE_ERROR;
    if (c->pool != p)
        return core_err_set(err, 400, "ResourceNotFoundException",
                            "User pool client %s does not exist.", c->id);
    cJSON *o = cJSON_AddObjectToObject(out, "UserPoolClient");
    cJSON_AddStringToObject(o, "UserPoolId", p->id);
    cJSON_AddStringToObject(o, "ClientName", c->name);
    cJSON_AddStringToObject(o, "ClientId", c->id);
    cJSON_AddNumberToObject(o, "LastModifiedDate", epoch_s(p->created_ms));
    cJSON_AddNumberToObject(o, "CreationDate", epoch_s(p->created_ms));
    /* the template's numbers in the template's units; AWS's defaults (30 days,
     * 60 minutes, 60 minutes) when it gives none */
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(c->properties, "TokenValidityUnits");
    static const struct {
        const char *field, *unit_field, *dflt_unit;
        double dflt;
    } ttl[] = {{"RefreshTokenValidity", "RefreshToken", "days", 30},
               {"AccessTokenValidity", "AccessToken", "minutes", 60},
               {"IdTokenValidity", "IdToken", "minutes", 60}};
    cJSON *out_units = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof ttl / sizeof *ttl; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->properties, ttl[i].field);
        double n = cJSON_IsNumber(v) ? v->valuedouble
                   : cJSON_IsString(v) ? strtod(v->valuestring, NULL) : 0;
        const char *unit = jstr(units, ttl[i].unit_field);
        if (n <= 0) {
            n = ttl[i].dflt;
            unit = ttl[i].dflt_unit;
        }
        cJSON_AddNumberToObject(o, ttl[i].field, n);
        cJSON_AddStringToObject(out_units, ttl[i].unit_field,
                                unit ? unit : (i == 0 ? "days" : "hours"));
    }
    cJSON_AddItemToObject(o, "TokenValidityUnits", out_units);
    copy_prop(o, c->properties, "ExplicitAuthFlows");
    cJSON_AddStringToObject(o, "PreventUserExistenceErrors",
                            c->prevent_existence_errors ? "ENABLED" : "LEGACY");
    cJSON_AddBoolToObject(o, "AllowedOAuthFlowsUserPoolClient", 0);
    cJSON_AddBoolToObject(o, "EnableTokenRevocation", 1);
    cJSON_AddBoolToObject(o, "EnablePropagateAdditionalUserContextData", 0);
    cJSON_AddNumberToObject(o, "AuthSessionValidity", 3);
    return CORE_OK;
}

/* ---- sign-up and sign-in ---------------------------------------------------- */

static int op_sign_up(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    const cog_client *c = need_client(svc, in, err);
    const char *username = c ? need(in, "Username", err) : NULL;
    const char *password = username ? need(in, "Password", err) : NULL;
    const cJSON *attrs;
    if (!password || attr_list(in, "UserAttributes", &attrs, err) != CORE_OK)
        return CORE_ERROR;
    cog_user u;
    cog_delivery d;
    memset(&d, 0, sizeof d);
    int confirmed = 0;
    if (cog_sign_up(svc->model, c, username, password, attrs, &u, &confirmed, &d, err) != CORE_OK)
        return CORE_ERROR;
    cJSON_AddBoolToObject(out, "UserConfirmed", confirmed);
    if (!confirmed)
        add_delivery(out, &d);
    cJSON_AddStringToObject(out, "UserSub", u.sub);
    cog_user_release(&u);
    return CORE_OK;
}

static int op_confirm_sign_up(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    (void)out;
    const cog_client *c = need_client(svc, in, err);
    const char *username = c ? need(in, "Username", err) : NULL;
    const char *code = username ? need(in, "ConfirmationCode", err) : NULL;
    if (!code)
        return CORE_ERROR;
    return cog_confirm_sign_up(svc->model, c, username, code, err);
}

/* A client call on Username that sends a code: answers CodeDeliveryDetails. */
static int code_delivery_op(cog_service *svc, const cJSON *in, cJSON *out,
                            int (*send)(cog_model *m, const cog_client *c, const char *username,
                                        cog_delivery *d, core_err *err),
                            core_err *err)
{
    const cog_client *c = need_client(svc, in, err);
    const char *username = c ? need(in, "Username", err) : NULL;
    if (!username)
        return CORE_ERROR;
    cog_delivery d;
    memset(&d, 0, sizeof d);
    if (send(svc->model, c, username, &d, err) != CORE_OK)
        return CORE_ERROR;
    add_delivery(out, &d);
    return CORE_OK;
}

static int op_resend_code(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    return code_delivery_op(svc, in, out, cog_resend_code, err);
}

static int op_initiate_auth(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    const cog_client *c = need_client(svc, in, err);
    const char *flow = c ? need(in, "AuthFlow", err) : NULL;
    if (!flow)
        return CORE_ERROR;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(in, "AuthParameters");
    cog_tokens t;
    int rc;
    if (!strcmp(flow, "USER_PASSWORD_AUTH")) {
        const char *username = jstr(params, "USERNAME"), *password = jstr(params, "PASSWORD");
        if (!username || !password)
            return core_err_set(err, 400, "InvalidParameterException",
                                !username ? "Missing required parameter USERNAME"
                                          : "Missing required parameter PASSWORD");
        const char *challenge = NULL;
        rc = cog_auth_password(svc->model, c, username, password, &t, &challenge, err);
        if (rc == CORE_OK && challenge) {
            cJSON_AddStringToObject(out, "ChallengeName", challenge);
            cJSON_AddStringToObject(out, "Session", t.session);
            cJSON *cp = cJSON_AddObjectToObject(out, "ChallengeParameters");
            cJSON_AddStringToObject(cp, "USER_ID_FOR_SRP", username);
            cJSON_AddStringToObject(cp, "requiredAttributes", "[]");
            cJSON_AddStringToObject(cp, "userAttributes", "{}");
            cog_tokens_release(&t);
            return CORE_OK;
        }
    } else if (!strcmp(flow, "REFRESH_TOKEN_AUTH") || !strcmp(flow, "REFRESH_TOKEN")) {
        const char *refresh = jstr(params, "REFRESH_TOKEN");
        if (!refresh)
            return core_err_set(err, 400, "InvalidParameterException",
                                "Missing required parameter REFRESH_TOKEN");
        rc = cog_auth_refresh(svc->model, c, refresh, &t, err);
    } else if (!strcmp(flow, "USER_SRP_AUTH") || !strcmp(flow, "CUSTOM_AUTH") ||
               !strcmp(flow, "USER_AUTH")) {
        return core_err_set(err, 400, "InvalidParameterException",
                            "%s is not emulated by shoplocal; use USER_PASSWORD_AUTH", flow);
    } else if (!strcmp(flow, "ADMIN_NO_SRP_AUTH") || !strcmp(flow, "ADMIN_USER_PASSWORD_AUTH")) {
        return core_err_set(err, 400, "InvalidParameterException",
                            "Initiate Auth method not supported.");
    } else {
        return core_err_set(err, 400, "InvalidParameterException",
                            "1 validation error detected: Value '%.64s' at 'authFlow' failed to "
                            "satisfy constraint: Member must satisfy enum value set",
                            flow);
    }
    if (rc != CORE_OK)
        return CORE_ERROR;
    add_tokens(out, &t);
    cog_tokens_release(&t);
    return CORE_OK;
}

static int op_respond_to_auth_challenge(cog_service *svc, const cJSON *in, cJSON *out,
                                        core_err *err)
{
    const cog_client *c = need_client(svc, in, err);
    const char *name = c ? need(in, "ChallengeName", err) : NULL;
    if (!name)
        return CORE_ERROR;
    if (strcmp(name, "NEW_PASSWORD_REQUIRED") != 0)
        return core_err_set(err, 400, "InvalidParameterException",
                            "%.64s is not emulated by shoplocal; NEW_PASSWORD_REQUIRED is", name);
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(in, "ChallengeResponses");
    cog_tokens t;
    if (cog_respond_new_password(svc->model, c, jstr(in, "Session"), jstr(resp, "USERNAME"),
                                 jstr(resp, "NEW_PASSWORD"), &t, err) != CORE_OK)
        return CORE_ERROR;
    add_tokens(out, &t);
    cog_tokens_release(&t);
    return CORE_OK;
}

static int op_get_user(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    const char *token = need(in, "AccessToken", err);
    const cog_pool *pool;
    cog_user u;
    if (!token || cog_access_user(svc->model, token, &pool, &u, err) != CORE_OK)
        return CORE_ERROR;
    cJSON_AddStringToObject(out, "Username", u.username);
    cJSON_AddItemToObject(out, "UserAttributes", cJSON_Duplicate(u.attributes, 1));
    cog_user_release(&u);
    return CORE_OK;
}

static int op_global_sign_out(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    (void)out;
    const char *token = need(in, "AccessToken", err);
    const cog_pool *pool;
    cog_user u;
    if (!token || cog_access_user(svc->model, token, &pool, &u, err) != CORE_OK)
        return CORE_ERROR;
    int rc = cog_global_sign_out(svc->model, pool, u.sub, err);
    cog_user_release(&u);
    return rc;
}

static int op_change_password(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    (void)out;
    const char *token = need(in, "AccessToken", err);
    const char *previous = token ? need(in, "PreviousPassword", err) : NULL;
    const char *proposed = previous ? need(in, "ProposedPassword", err) : NULL;
    const cog_pool *pool;
    cog_user u;
    if (!proposed || cog_access_user(svc->model, token, &pool, &u, err) != CORE_OK)
        return CORE_ERROR;
    int rc = cog_change_password(svc->model, pool, u.sub, previous, proposed, err);
    cog_user_release(&u);
    return rc;
}

static int op_forgot_password(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    return code_delivery_op(svc, in, out, cog_forgot_password, err);
}

static int op_confirm_forgot_password(cog_service *svc, const cJSON *in, cJSON *out,
                                      core_err *err)
{
    (void)out;
    const cog_client *c = need_client(svc, in, err);
    const char *username = c ? need(in, "Username", err) : NULL;
    const char *code = username ? need(in, "ConfirmationCode", err) : NULL;
    const char *password = code ? need(in, "Password", err) : NULL;
    if (!password)
        return CORE_ERROR;
    return cog_confirm_forgot_password(svc->model, c, username, code, password, err);
}

/* ---- admin ------------------------------------------------------------------ */

static int op_admin_create_user(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    const char *username = p ? need(in, "Username", err) : NULL;
    const cJSON *attrs;
    if (!username || attr_list(in, "UserAttributes", &attrs, err) != CORE_OK)
        return CORE_ERROR;
    const char *action = jstr(in, "MessageAction");
    if (action && strcmp(action, "SUPPRESS") != 0 && strcmp(action, "RESEND") != 0)
        return core_err_set(err, 400, "InvalidParameterException",
                            "1 validation error detected: Value '%.32s' at 'messageAction' failed "
                            "to satisfy constraint: Member must satisfy enum value set: "
                            "[RESEND, SUPPRESS]", action);
    cog_user u;
    if (cog_admin_create_user(svc->model, p, username, attrs, jstr(in, "TemporaryPassword"),
                              action && !strcmp(action, "SUPPRESS"), &u, err) != CORE_OK)
        return CORE_ERROR;
    add_user(cJSON_AddObjectToObject(out, "User"), &u, "Attributes", NULL);
    cog_user_release(&u);
    return CORE_OK;
}

static int op_admin_set_user_password(cog_service *svc, const cJSON *in, cJSON *out,
                                      core_err *err)
{
    (void)out;
    const cog_pool *p = need_pool(svc, in, err);
    const char *username = p ? need(in, "Username", err) : NULL;
    const char *password = username ? need(in, "Password", err) : NULL;
    if (!password)
        return CORE_ERROR;
    return cog_admin_set_password(svc->model, p, username, password,
                                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "Permanent")),
                                  err);
}

/* An admin call on UserPoolId and Username with nothing to answer. */
static int admin_user_op(cog_service *svc, const cJSON *in,
                         int (*act)(cog_model *m, const cog_pool *pool, const char *username,
                                    core_err *err),
                         core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    const char *username = p ? need(in, "Username", err) : NULL;
    return username ? act(svc->model, p, username, err) : CORE_ERROR;
}

static int op_admin_confirm_sign_up(cog_service *svc, const cJSON *in, cJSON *out,
                                    core_err *err)
{
    (void)out;
    return admin_user_op(svc, in, cog_admin_confirm, err);
}

static int op_admin_get_user(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    const char *username = p ? need(in, "Username", err) : NULL;
    cog_user u;
    if (!username || cog_admin_get_user(svc->model, p, username, &u, err) != CORE_OK)
        return CORE_ERROR;
    add_user(out, &u, "UserAttributes", NULL);
    cog_user_release(&u);
    return CORE_OK;
}

static int op_admin_delete_user(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    (void)out;
    return admin_user_op(svc, in, cog_admin_delete_user, err);
}

static int op_admin_global_sign_out(cog_service *svc, const cJSON *in, cJSON *out,
                                    core_err *err)
{
    (void)out;
    return admin_user_op(svc, in, cog_global_sign_out, err);
}

static int group_op(cog_service *svc, const cJSON *in, int add, core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    const char *username = p ? need(in, "Username", err) : NULL;
    const char *group = username ? need(in, "GroupName", err) : NULL;
    if (!group)
        return CORE_ERROR;
    return add ? cog_group_add(svc->model, p, username, group, err)
               : cog_group_remove(svc->model, p, username, group, err);
}

static int op_admin_add_user_to_group(cog_service *svc, const cJSON *in, cJSON *out,
                                      core_err *err)
{
    (void)out;
    return group_op(svc, in, 1, err);
}

static int op_admin_remove_user_from_group(cog_service *svc, const cJSON *in, cJSON *out,
                                           core_err *err)
{
    (void)out;
    return group_op(svc, in, 0, err);
}

static int op_admin_list_groups_for_user(cog_service *svc, const cJSON *in, cJSON *out,
                                         core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    const char *username = p ? need(in, "Username", err) : NULL;
    long limit, offset;
    cJSON *names;
    if (!username || list_bounds(in, "Limit", 0, 60, "NextToken", &limit, &offset, err) != CORE_OK ||
        cog_groups_of(svc->model, p, username, &names, err) != CORE_OK)
        return CORE_ERROR;
    cJSON *arr = cJSON_AddArrayToObject(out, "Groups");
    long i = 0;
    const cJSON *name;
    cJSON_ArrayForEach(name, names)
    {
        if (i++ < offset)
            continue;
        if (i > offset + limit) {
            add_next(out, "NextToken", offset + limit);
            break;
        }
        const cog_group *g = cog_model_group(svc->model, p, name->valuestring);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "GroupName", g->name);
        cJSON_AddStringToObject(o, "UserPoolId", p->id);
        if (g->description)
            cJSON_AddStringToObject(o, "Description", g->description);
        if (g->role_arn)
            cJSON_AddStringToObject(o, "RoleArn", g->role_arn);
        if (g->precedence >= 0)
            cJSON_AddNumberToObject(o, "Precedence", g->precedence);
        cJSON_AddNumberToObject(o, "LastModifiedDate", epoch_s(p->created_ms));
        cJSON_AddNumberToObject(o, "CreationDate", epoch_s(p->created_ms));
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_Delete(names);
    return CORE_OK;
}

/* Filter: `attribute = "value"` or `attribute ^= "value"` (ListUsers). */
static int parse_filter(const char *f, char *attr, size_t attr_len, char *op, char *value,
                        size_t value_len, core_err *err)
{
    static const char *const allowed[] = {"username", "email", "phone_number", "name",
                                          "given_name", "family_name", "preferred_username",
                                          "cognito:user_status", "status", "sub"};
    const char *p = f;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " =^");
    int ok = n > 0 && n < attr_len;
    if (ok) {
        memcpy(attr, p, n);
        attr[n] = 0;
        p += n;
        while (*p == ' ')
            p++;
        if (!strncmp(p, "^=", 2)) {
            memcpy(op, "^=", 3);
            p += 2;
        } else if (*p == '=') {
            memcpy(op, "=", 2);
            p++;
        } else {
            ok = 0;
        }
    }
    while (ok && *p == ' ')
        p++;
    if (ok && *p == '"') {
        const char *close = strchr(p + 1, '"');
        ok = close && (size_t)(close - p - 1) < value_len;
        if (ok) {
            memcpy(value, p + 1, (size_t)(close - p - 1));
            value[close - p - 1] = 0;
            for (p = close + 1; *p == ' '; p++)
                ;
            ok = *p == 0;
        }
    } else {
        ok = 0;
    }
    int known = 0;
    for (size_t i = 0; ok && i < sizeof allowed / sizeof *allowed; i++)
        known |= !strcmp(attr, allowed[i]);
    if (!ok || !known)
        return core_err_set(err, 400, "InvalidParameterException", "Invalid search filter");
    return CORE_OK;
}

static int op_list_users(cog_service *svc, const cJSON *in, cJSON *out, core_err *err)
{
    const cog_pool *p = need_pool(svc, in, err);
    long limit, offset;
    if (!p || list_bounds(in, "Limit", 0, 60, "PaginationToken", &limit, &offset, err) != CORE_OK)
        return CORE_ERROR;
    char attr[64], op[4], value[256];
    const char *filter = jstr(in, "Filter");
    if (filter && *filter &&
        parse_filter(filter, attr, sizeof attr, op, value, sizeof value, err) != CORE_OK)
        return CORE_ERROR;
    int has_filter = filter && *filter;
    const cJSON *keep = cJSON_GetObjectItemCaseSensitive(in, "AttributesToGet");
    cog_user *users;
    size_t n;
    int more;
    if (cog_list_users(svc->model, p, has_filter ? attr : NULL, has_filter ? op : NULL,
                       has_filter ? value : NULL, offset, limit, &users, &n, &more,
                       err) != CORE_OK)
        return CORE_ERROR;
    cJSON *arr = cJSON_AddArrayToObject(out, "Users");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        add_user(o, &users[i], "Attributes", cJSON_IsArray(keep) ? keep : NULL);
        cJSON_AddItemToArray(arr, o);
        cog_user_release(&users[i]);
    }
    free(users);
    if (more)
        add_next(out, "PaginationToken", offset + limit);
    return CORE_OK;
}

/* ---- dispatch --------------------------------------------------------------- */

static const struct {
    const char *name;
    cog_op fn;
    int signed_only; /* needs IAM credentials on AWS */
} ops[] = {
    {"ListUserPools", op_list_user_pools, 1},
    {"DescribeUserPool", op_describe_user_pool, 1},
    {"ListUserPoolClients", op_list_user_pool_clients, 1},
    {"DescribeUserPoolClient", op_describe_user_pool_client, 1},
    {"SignUp", op_sign_up, 0},
    {"ConfirmSignUp", op_confirm_sign_up, 0},
    {"ResendConfirmationCode", op_resend_code, 0},
    {"InitiateAuth", op_initiate_auth, 0},
    {"RespondToAuthChallenge", op_respond_to_auth_challenge, 0},
    {"GetUser", op_get_user, 0},
    {"GlobalSignOut", op_global_sign_out, 0},
    {"ChangePassword", op_change_password, 0},
    {"ForgotPassword", op_forgot_password, 0},
    {"ConfirmForgotPassword", op_confirm_forgot_password, 0},
    {"AdminCreateUser", op_admin_create_user, 1},
    {"AdminSetUserPassword", op_admin_set_user_password, 1},
    {"AdminConfirmSignUp", op_admin_confirm_sign_up, 1},
    {"AdminGetUser", op_admin_get_user, 1},
    {"AdminDeleteUser", op_admin_delete_user, 1},
    {"AdminUserGlobalSignOut", op_admin_global_sign_out, 1},
    {"AdminAddUserToGroup", op_admin_add_user_to_group, 1},
    {"AdminRemoveUserFromGroup", op_admin_remove_user_from_group, 1},
    {"AdminListGroupsForUser", op_admin_list_groups_for_user, 1},
    {"ListUsers", op_list_users, 1},
};

static void answer_error(core_http_response *resp, const core_http_request *req,
                         const core_err *err)
{
    core_http_response_aws_error(resp, req, err->status >= 400 ? err->status : 400, err->type,
                                 err->message);
    /* the error body carries the same content type as answers */
    core_http_response_header(resp, "Content-Type", CONTENT_TYPE, 0);
}

static void handle(void *ctx, const core_http_request *req, core_http_response *resp)
{
    cog_service *svc = ctx;
    core_err err;
    core_err_clear(&err);
    if (strcmp(req->method, "POST") != 0) {
        core_err_set(&err, 400, "UnknownOperationException", "Cognito's API takes POST /");
        answer_error(resp, req, &err);
        return;
    }
    const char *target = core_http_header_get(req, "X-Amz-Target");
    const char *name = target ? strchr(target, '.') : NULL;
    cog_op fn = NULL;
    int signed_only = 0;
    for (size_t i = 0; name && i < sizeof ops / sizeof *ops && !fn; i++)
        if (!strcmp(ops[i].name, name + 1)) {
            fn = ops[i].fn;
            signed_only = ops[i].signed_only;
        }
    if (!fn) {
        core_err_set(&err, 400, "UnknownOperationException", "Unknown operation %.100s",
                     name ? name + 1 : "");
        answer_error(resp, req, &err);
        return;
    }
    const char *auth = core_http_header_get(req, "Authorization");
    if (signed_only && (!auth || strncmp(auth, "AWS4-HMAC-SHA256", 16) != 0)) {
        core_err_set(&err, 400, "MissingAuthenticationTokenException",
                     "Missing Authentication Token");
        answer_error(resp, req, &err);
        return;
    }
    cJSON *in = cJSON_ParseWithLength(req->body, req->body_len);
    if (!cJSON_IsObject(in)) {
        cJSON_Delete(in);
        core_err_set(&err, 400, "SerializationException", "The request body is not a JSON object");
        answer_error(resp, req, &err);
        return;
    }
    const char *resource = jstr(in, "UserPoolId");
    if (!resource)
        resource = jstr(in, "ClientId");
    if (core_fault_check(core_emulator_faults(svc->emu), "cognito-idp", name + 1, resource,
                         &err)) {
        cJSON_Delete(in);
        answer_error(resp, req, &err);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    int rc = fn(svc, in, out, &err);
    cJSON_Delete(in);
    if (rc != CORE_OK) {
        cJSON_Delete(out);
        answer_error(resp, req, &err);
        return;
    }
    core_http_response_json(resp, 200, CONTENT_TYPE, out);
    cJSON_Delete(out);
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
}

/* GET /<poolId>/.well-known/jwks.json and .../openid-configuration. */
static void well_known(void *ctx, const core_http_request *req, core_http_response *resp)
{
    cog_service *svc = ctx;
    core_http_response_header(resp, "x-amzn-RequestId", req->request_id, 0);
    const char *slash = strchr(req->path + 1, '/');
    char id[128];
    size_t n = slash ? (size_t)(slash - req->path - 1) : 0;
    if (n == 0 || n >= sizeof id) {
        core_http_response_body(resp, 404, "application/json", "{\"message\":\"Not Found\"}", 23);
        return;
    }
    memcpy(id, req->path + 1, n);
    id[n] = 0;
    core_err err;
    const cog_pool *p = cog_model_pool(svc->model, id, &err);
    int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (!p || !get) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "message", p ? "Method Not Allowed" : err.message);
        core_http_response_json(resp, p ? 405 : 404, "application/json", o);
        cJSON_Delete(o);
        return;
    }
    if (!strcmp(slash, "/.well-known/jwks.json")) {
        char *jwks = cog_model_jwks(svc->model, p);
        if (!jwks) {
            core_http_response_body(resp, 500, "application/json",
                                    "{\"message\":\"Internal Server Error\"}", 35);
            return;
        }
        core_http_response_body(resp, 200, "application/json", jwks, strlen(jwks));
        free(jwks);
        return;
    }
    if (!strcmp(slash, "/.well-known/openid-configuration")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "issuer", p->issuer);
        char url[512];
        snprintf(url, sizeof url, "%s/.well-known/jwks.json", p->issuer);
        cJSON_AddStringToObject(o, "jwks_uri", url);
        cJSON *algs = cJSON_AddArrayToObject(o, "id_token_signing_alg_values_supported");
        cJSON_AddItemToArray(algs, cJSON_CreateString("RS256"));
        cJSON *subj = cJSON_AddArrayToObject(o, "subject_types_supported");
        cJSON_AddItemToArray(subj, cJSON_CreateString("public"));
        core_http_response_json(resp, 200, "application/json", o);
        cJSON_Delete(o);
        return;
    }
    core_http_response_body(resp, 404, "application/json", "{\"message\":\"Not Found\"}", 23);
}

/* ---- seeding ---------------------------------------------------------------- */

static char *read_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (!buf || n > max) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* <seed>/users.json: {"userPool": "<logical id>" (default: the first pool),
 * "users": [{"username","password","attributes":{name: value},"groups":[...],
 * "note"}]}. */
static int seed_users(cog_service *svc, const char *seed_dir, core_err *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/users.json", seed_dir);
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return CORE_OK; /* nothing to seed */
    fclose(probe);
    char *text = read_file(path, 1024 * 1024);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return core_err_set(err, 2, "InvalidArgument", "%s: not a JSON object", path);
    }
    const char *pool_name = jstr(doc, "userPool");
    const cog_pool *pool = NULL;
    for (size_t i = 0; i < cog_model_pool_count(svc->model) && !pool; i++) {
        const cog_pool *p = cog_model_pool_at(svc->model, i);
        if (!pool_name || !strcmp(p->logical_id, pool_name) || !strcmp(p->id, pool_name))
            pool = p;
    }
    if (!pool) {
        core_log(CORE_LOG_WARN, "cognito-idp", NULL, "%s: the template has no user pool %s; "
                 "demo users not loaded", path, pool_name ? pool_name : "");
        cJSON_Delete(doc);
        return CORE_OK;
    }
    int rc = CORE_OK;
    const cJSON *u;
    cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(doc, "users"))
    {
        const char *username = jstr(u, "username"), *password = jstr(u, "password");
        cJSON *attrs = cJSON_CreateArray();
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(u, "attributes"))
        {
            if (!cJSON_IsString(a))
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "Name", a->string);
            cJSON_AddStringToObject(o, "Value", a->valuestring);
            cJSON_AddItemToArray(attrs, o);
        }
        const cJSON *groups = cJSON_GetObjectItemCaseSensitive(u, "groups");
        int created = 0;
        core_err e;
        core_err_clear(&e);
        if (!username ||
            cog_seed_user(svc->model, pool, username, password, attrs, groups, &created, &e) !=
                CORE_OK) {
            rc = core_err_set(err, 2, "InvalidArgument", "%s: user %s: %s", path,
                              username ? username : "(no username)", e.message);
            cJSON_Delete(attrs);
            break;
        }
        cJSON_Delete(attrs);
        char line[400];
        char gtext[200] = "";
        size_t used = 0;
        const cJSON *g;
        cJSON_ArrayForEach(g, groups)
            if (cJSON_IsString(g) && used < sizeof gtext)
                used += (size_t)snprintf(gtext + used, sizeof gtext - used, "%s%s",
                                         used ? ", " : " (", g->valuestring);
        if (used && used < sizeof gtext - 1)
            snprintf(gtext + used, sizeof gtext - used, ")");
        snprintf(line, sizeof line, "%s / %s%s", username, password, gtext);
        core_emulator_add_note(svc->emu, "login", line);
        core_log(CORE_LOG_INFO, "cognito-idp", NULL, "demo user %s %s", username,
                 created ? "created" : "already there");
    }
    cJSON_Delete(doc);
    return rc;
}

/* ---- lifecycle -------------------------------------------------------------- */

/* A pool's keys are known (kept from an earlier start, or just made): the
 * HTTP API's authorizer learns its JWKS under the pool's issuer. Until then
 * the registry has no keys for the issuer, and no token of it can exist. */
static void keys_known(void *ctx, const cog_pool *pool)
{
    cog_service *svc = ctx;
    apigw_jwks *registry = apigw_service_jwks(svc->emu);
    const cog_key *keys[] = {pool->access_key, pool->id_key};
    char *jwks = cog_jwks_render(keys, 2);
    core_err err;
    core_err_clear(&err);
    if (!registry || !jwks || apigw_jwks_set(registry, pool->issuer, jwks, &err) != CORE_OK)
        core_log(CORE_LOG_ERROR, "cognito-idp", NULL,
                 "the HTTP API could not learn the keys of %s: %s", pool->id, err.message);
    free(jwks);
}

int cog_service_start(core_emulator *emu, void **state, core_err *err)
{
    *state = NULL;
    const core_config *cfg = core_emulator_config(emu);
    cog_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return core_err_set(err, 500, "InternalErrorException", "out of memory");
    svc->emu = emu;
    cog_model_opts opts = {.kdf_iterations = 0, .auto_confirm = cfg->auto_confirm,
                           .on_keys = keys_known, .on_keys_ctx = svc};
    if (cog_model_open(cfg->data_dir, core_emulator_template(emu), core_emulator_clock(emu),
                       core_emulator_outbox(emu), &opts, &svc->model, err) != CORE_OK) {
        free(svc);
        return CORE_ERROR;
    }
    core_service row = {.name = "cognito-idp", .target_prefix = TARGET_PREFIX,
                        .signing_name = "cognito-idp", .handler = handle, .ctx = svc};
    if (core_router_add(core_emulator_router(emu), &row) != CORE_OK)
        goto full;
    /* Every pool id of the stack's region starts "<region>_": one path prefix
     * serves the JWKS of each pool, and a 404 for pools that do not exist. */
    const char *region = core_template_region(core_emulator_template(emu));
    size_t len = strlen(region) + 3;
    if (!(svc->route_path = malloc(len)))
        goto full;
    snprintf(svc->route_path, len, "/%s_", region);
    core_service jwks_row = {.name = "cognito-idp", .path_prefix = svc->route_path,
                             .handler = well_known, .ctx = svc};
    if (core_router_add(core_emulator_router(emu), &jwks_row) != CORE_OK)
        goto full;
    if (cfg->seed_dir[0] && seed_users(svc, cfg->seed_dir, err) != CORE_OK) {
        cog_service_stop(svc);
        return CORE_ERROR;
    }
    *state = svc;
    return CORE_OK;
full:
    cog_service_stop(svc);
    return core_err_set(err, 500, "InternalErrorException", "the router table is full");
}

void cog_service_stop(void *state)
{
    cog_service *svc = state;
    if (!svc)
        return;
    cog_model_close(svc->model);
    free(svc->route_path);
    free(svc);
}
