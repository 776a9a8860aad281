/*
 * template.c — loading a SAM template into a model of the stack. See template.h.
 *
 * The order of work is CloudFormation's: parameters, conditions, then resources
 * resolved on demand. Resolving a resource first resolves everything its
 * properties refer to (a depth-first walk; meeting a resource that is still
 * being resolved is a cycle), then evaluates its properties and gives it its
 * identity (physical id, ARN, GetAtt attributes) from its type's rule below.
 * Local identities are derived from SHA-256(stack name, logical id), so the same
 * template always yields the same ids: data kept in the data folder still
 * matches after a restart.
 */
#include "core/template_impl.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/yaml.h"

/* ---- small helpers -------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static const char *str_prop(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Deterministic identifier characters from the stack name and logical id. */
static void derive_id(const core_template *t, const char *logical, const char *salt,
                      const char *alphabet, size_t n, char *out)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char seed[1024];
    snprintf(seed, sizeof seed, "%s/%s/%s", t->stack, logical, salt);
    SHA256((const unsigned char *)seed, strlen(seed), digest);
    size_t alen = strlen(alphabet);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[digest[i % sizeof digest] % alen];
    out[n] = '\0';
}

#define ALNUM_UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define ALNUM_LOWER "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM_MIXED "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* ---- identities by resource type ------------------------------------------ */

static void set_attr(tpl_res *r, const char *name, const char *value)
{
    cJSON_AddStringToObject(r->pub.attributes, name, value ? value : "");
}

/* A name property, or "<stack>-<logical>[-suffix]" capped at max characters. */
static char *name_or_default(core_template *t, tpl_res *r, const char *prop, int with_suffix,
                             size_t max, int lower)
{
    const char *given = prop ? str_prop(r->pub.properties, prop) : NULL;
    if (given)
        return strdup(given);
    char suffix[16] = "";
    if (with_suffix) {
        suffix[0] = '-';
        derive_id(t, r->pub.logical_id, "name", ALNUM_UPPER, 12, suffix + 1);
    }
    char *name = xprintf("%s-%s%s", t->stack, r->pub.logical_id, suffix);
    if (name && strlen(name) > max)
        name[max] = '\0';
    if (name && lower)
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    return name;
}

static int assign_identity(core_template *t, tpl_res *r)
{
    const char *type = r->pub.type;
    const char *region = t->region, *acct = CORE_ACCOUNT_ID;
    char id[64];
    char *name = NULL;

    if (!strcmp(type, "AWS::Serverless::Function") || !strcmp(type, "AWS::Lambda::Function")) {
        name = name_or_default(t, r, "FunctionName", 0, 64, 0);
        r->pub.physical_id = name;
        r->pub.arn = xprintf("arn:aws:lambda:%s:%s:function:%s", region, acct, name);
        set_attr(r, "Arn", r->pub.arn);
    } else if (!strcmp(type, "AWS::DynamoDB::Table") ||
               !strcmp(type, "AWS::Serverless::SimpleTable")) {
        name = name_or_default(t, r, "TableName", 0, 255, 0);
        r->pub.physical_id = name;
        r->pub.arn = xprintf("arn:aws:dynamodb:%s:%s:table/%s", region, acct, name);
        set_attr(r, "Arn", r->pub.arn);
        char *stream = xprintf("%s/stream/1970-01-01T00:00:00.000", r->pub.arn);
        set_attr(r, "StreamArn", stream);
        free(stream);
    } else if (!strcmp(type, "AWS::Serverless::StateMachine") ||
               !strcmp(type, "AWS::StepFunctions::StateMachine")) {
        const char *given = str_prop(r->pub.properties, "Name");
        if (!given)
            given = str_prop(r->pub.properties, "StateMachineName");
        name = given ? strdup(given) : xprintf("%s-%s", t->stack, r->pub.logical_id);
        r->pub.arn = xprintf("arn:aws:states:%s:%s:stateMachine:%s", region, acct, name);
        r->pub.physical_id = xstrdup(r->pub.arn);
        set_attr(r, "Arn", r->pub.arn);
        set_attr(r, "Name", name);
        free(name);
    } else if (!strcmp(type, "AWS::Serverless::HttpApi") ||
               !strcmp(type, "AWS::ApiGatewayV2::Api")) {
        derive_id(t, r->pub.logical_id, "api", ALNUM_LOWER, 10, id);
        r->pub.physical_id = strdup(id);
        set_attr(r, "ApiId", id);
        char *endpoint = xprintf("https://%s.execute-api.%s.amazonaws.com", id, region);
        set_attr(r, "ApiEndpoint", endpoint);
        free(endpoint);
    } else if (!strcmp(type, "AWS::Cognito::UserPool")) {
        char suffix[16];
        derive_id(t, r->pub.logical_id, "pool", ALNUM_MIXED, 9, suffix);
        r->pub.physical_id = xprintf("%s_%s", region, suffix);
        r->pub.arn = xprintf("arn:aws:cognito-idp:%s:%s:userpool/%s", region, acct,
                             r->pub.physical_id);
        set_attr(r, "Arn", r->pub.arn);
        set_attr(r, "UserPoolId", r->pub.physical_id);
        char *provider = xprintf("cognito-idp.%s.amazonaws.com/%s", region, r->pub.physical_id);
        set_attr(r, "ProviderName", provider);
        char *url = xprintf("https://%s", provider);
        set_attr(r, "ProviderURL", url);
        free(provider);
        free(url);
    } else if (!strcmp(type, "AWS::Cognito::UserPoolClient")) {
        derive_id(t, r->pub.logical_id, "client", ALNUM_LOWER, 26, id);
        r->pub.physical_id = strdup(id);
        set_attr(r, "ClientId", id);
        set_attr(r, "Name", str_prop(r->pub.properties, "ClientName"));
    } else if (!strcmp(type, "AWS::Cognito::UserPoolGroup")) {
        const char *g = str_prop(r->pub.properties, "GroupName");
        r->pub.physical_id = strdup(g ? g : r->pub.logical_id);
    } else if (!strcmp(type, "AWS::S3::Bucket")) {
        name = name_or_default(t, r, "BucketName", 1, 63, 1);
        r->pub.physical_id = name;
        r->pub.arn = xprintf("arn:aws:s3:::%s", name);
        set_attr(r, "Arn", r->pub.arn);
        char *v = xprintf("%s.s3.amazonaws.com", name);
        set_attr(r, "DomainName", v);
        free(v);
        v = xprintf("%s.s3.%s.amazonaws.com", name, region);
        set_attr(r, "RegionalDomainName", v);
        free(v);
        v = xprintf("%s.s3.dualstack.%s.amazonaws.com", name, region);
        set_attr(r, "DualStackDomainName", v);
        free(v);
        v = xprintf("http://%s.s3-website-%s.amazonaws.com", name, region);
        set_attr(r, "WebsiteURL", v);
        free(v);
    } else if (!strcmp(type, "AWS::SecretsManager::Secret")) {
        const char *given = str_prop(r->pub.properties, "Name");
        char suffix[8];
        derive_id(t, r->pub.logical_id, "secret", ALNUM_MIXED, 6, suffix);
        name = given ? strdup(given) : xprintf("%s-%s", r->pub.logical_id, suffix);
        r->pub.arn = xprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, acct, name,
                             suffix);
        r->pub.physical_id = xstrdup(r->pub.arn);
        set_attr(r, "Id", r->pub.arn);
        set_attr(r, "Name", name);
        free(name);
    } else if (!strcmp(type, "AWS::SNS::Topic")) {
        name = name_or_default(t, r, "TopicName", 1, 256, 0);
        r->pub.arn = xprintf("arn:aws:sns:%s:%s:%s", region, acct, name);
        r->pub.physical_id = xstrdup(r->pub.arn);
        set_attr(r, "TopicArn", r->pub.arn);
        set_attr(r, "TopicName", name);
        free(name);
    } else if (!strcmp(type, "AWS::SQS::Queue")) {
        name = name_or_default(t, r, "QueueName", 1, 80, 0);
        r->pub.arn = xprintf("arn:aws:sqs:%s:%s:%s", region, acct, name);
        r->pub.physical_id = xprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, name);
        set_attr(r, "Arn", r->pub.arn);
        set_attr(r, "QueueName", name);
        set_attr(r, "QueueUrl", r->pub.physical_id);
        free(name);
    } else if (!strcmp(type, "AWS::IAM::Role")) {
        name = name_or_default(t, r, "RoleName", 1, 64, 0);
        r->pub.physical_id = name;
        r->pub.arn = xprintf("arn:aws:iam::%s:role/%s", acct, name);
        set_attr(r, "Arn", r->pub.arn);
        derive_id(t, r->pub.logical_id, "roleid", ALNUM_UPPER, 17, id);
        char *rid = xprintf("AROA%s", id);
        set_attr(r, "RoleId", rid);
        free(rid);
    } else if (!strcmp(type, "AWS::Logs::LogGroup")) {
        name = name_or_default(t, r, "LogGroupName", 1, 512, 0);
        r->pub.physical_id = name;
        r->pub.arn = xprintf("arn:aws:logs:%s:%s:log-group:%s:*", region, acct, name);
        set_attr(r, "Arn", r->pub.arn);
    } else if (!strcmp(type, "AWS::CloudFront::Distribution")) {
        derive_id(t, r->pub.logical_id, "dist", ALNUM_UPPER, 13, id);
        r->pub.physical_id = xprintf("E%s", id);
        set_attr(r, "Id", r->pub.physical_id);
        derive_id(t, r->pub.logical_id, "domain", ALNUM_LOWER, 13, id);
        char *domain = xprintf("d%s.cloudfront.net", id);
        set_attr(r, "DomainName", domain);
        free(domain);
    } else if (!strncmp(type, "AWS::CloudFront::", 17)) {
        derive_id(t, r->pub.logical_id, "cf", ALNUM_UPPER, 14, id);
        r->pub.physical_id = strdup(id);
        set_attr(r, "Id", id);
        set_attr(r, "S3CanonicalUserId", id);
    } else if (!strcmp(type, "AWS::WAFv2::WebACL")) {
        const char *n = str_prop(r->pub.properties, "Name");
        const char *scope = str_prop(r->pub.properties, "Scope");
        derive_id(t, r->pub.logical_id, "waf", "0123456789abcdef", 32, id);
        name = n ? strdup(n) : xprintf("%s-%s", t->stack, r->pub.logical_id);
        int global = scope && !strcmp(scope, "CLOUDFRONT");
        r->pub.physical_id = xprintf("%s|%s|%s", name, id, scope ? scope : "REGIONAL");
        r->pub.arn = xprintf("arn:aws:wafv2:%s:%s:%s/webacl/%s/%s", global ? "us-east-1" : region,
                             acct, global ? "global" : "regional", name, id);
        set_attr(r, "Arn", r->pub.arn);
        set_attr(r, "Id", id);
        free(name);
    } else if (!strcmp(type, "AWS::CloudWatch::Alarm")) {
        name = name_or_default(t, r, "AlarmName", 1, 255, 0);
        r->pub.physical_id = name;
        r->pub.arn = xprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, acct, name);
        set_attr(r, "Arn", r->pub.arn);
    } else {
        /* A type shoplocal does not emulate still gets a stable name for Ref; GetAtt
         * on it is refused by tpl_attribute, naming the resource. */
        r->pub.physical_id = name_or_default(t, r, NULL, 1, 255, 0);
    }
    return r->pub.physical_id ? CORE_OK : CORE_ERROR;
}

const cJSON *tpl_attribute(core_template *t, tpl_res *r, const char *attr, const char *where,
                           core_err *err)
{
    (void)t;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->pub.attributes, attr);
    if (!v)
        core_err_set(err, 400, "ValidationError",
                     "%s: Fn::GetAtt %s.%s: %s has no attribute %s in shoplocal", where,
                     r->pub.logical_id, attr, r->pub.type, attr);
    return v;
}

/* ---- resolution ----------------------------------------------------------- */

static tpl_res *find_res(core_template *t, const char *logical)
{
    for (size_t i = 0; i < t->n_res; i++)
        if (!strcmp(t->res[i].pub.logical_id, logical))
            return &t->res[i];
    return NULL;
}

/* Resources named by DependsOn must exist and come first. */
static int resolve_depends_on(core_template *t, tpl_res *r, const char *where, core_err *err)
{
    const cJSON *dep = cJSON_GetObjectItemCaseSensitive(r->raw, "DependsOn");
    if (!dep)
        return CORE_OK;
    if (cJSON_IsString(dep))
        return tpl_resolve(t, dep->valuestring, where, err) ? CORE_OK : CORE_ERROR;
    if (!cJSON_IsArray(dep))
        return core_err_set(err, 400, "ValidationError",
                            "%s.DependsOn: must be a name or a list of names", where);
    for (const cJSON *d = dep->child; d; d = d->next) {
        if (!cJSON_IsString(d))
            return core_err_set(err, 400, "ValidationError",
                                "%s.DependsOn: must be a name or a list of names", where);
        if (!tpl_resolve(t, d->valuestring, where, err))
            return CORE_ERROR;
    }
    return CORE_OK;
}

tpl_res *tpl_resolve(core_template *t, const char *logical_id, const char *where,
                     core_err *err)
{
    tpl_res *r = find_res(t, logical_id);
    if (!r || r->state == TPL_SKIPPED) {
        core_err_set(err, 400, "ValidationError",
                     "%s: Unresolved resource dependencies [%s] in the Resources block of the "
                     "template%s",
                     where, logical_id, r ? " (its Condition is false)" : "");
        return NULL;
    }
    if (r->state == TPL_DONE)
        return r;
    if (r->state == TPL_ACTIVE) {
        char chain[1024] = "";
        size_t used = 0;
        size_t start = 0;
        for (size_t i = 0; i < t->depth; i++)
            if (!strcmp(t->stack_path[i], logical_id))
                start = i;
        for (size_t i = start; i < t->depth && used < sizeof chain; i++)
            used += (size_t)snprintf(chain + used, sizeof chain - used, "%s, ", t->stack_path[i]);
        if (used < sizeof chain)
            snprintf(chain + used, sizeof chain - used, "%s", logical_id);
        core_err_set(err, 400, "ValidationError", "Circular dependency between resources: [%s]",
                     chain);
        return NULL;
    }
    if (t->depth >= sizeof t->stack_path / sizeof *t->stack_path) {
        core_err_set(err, 400, "ValidationError", "%s: resource references nest too deeply",
                     where);
        return NULL;
    }
    r->state = TPL_ACTIVE;
    t->stack_path[t->depth++] = r->pub.logical_id;

    char path[512];
    snprintf(path, sizeof path, "Resources.%s", logical_id);
    int ok = resolve_depends_on(t, r, path, err) == CORE_OK;
    if (ok) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(r->raw, "Properties");
        snprintf(path, sizeof path, "Resources.%s.Properties", logical_id);
        cJSON *resolved = props ? tpl_eval(t, props, path, err) : cJSON_CreateObject();
        if (!resolved || resolved == TPL_NOVALUE || !cJSON_IsObject(resolved)) {
            if (resolved) { /* NULL already filled err */
                if (resolved != TPL_NOVALUE)
                    cJSON_Delete(resolved);
                core_err_set(err, 400, "ValidationError", "%s: must be a mapping", path);
            }
            ok = 0;
        } else {
            r->pub.properties = resolved;
            r->pub.attributes = cJSON_CreateObject();
            ok = assign_identity(t, r) == CORE_OK;
            if (!ok)
                core_err_set(err, 500, "InternalFailure", "%s: out of memory", path);
        }
    }
    t->depth--;
    if (!ok) {
        r->state = TPL_PENDING;
        return NULL;
    }
    r->state = TPL_DONE;
    t->order[t->n_order++] = r;
    return r;
}

/* ---- parameters ----------------------------------------------------------- */

static const char *override_for(const core_template_opts *opts, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < opts->n_params; i++)
        if (!strncmp(opts->params[i], name, n) && opts->params[i][n] == '=')
            return opts->params[i] + n + 1;
    return NULL;
}

static int load_parameters(core_template *t, const core_template_opts *opts, core_err *err)
{
    const cJSON *decl = cJSON_GetObjectItemCaseSensitive(t->doc, "Parameters");
    if (decl && !cJSON_IsObject(decl))
        return core_err_set(err, 400, "ValidationError", "Parameters: must be a mapping");
    for (size_t i = 0; i < opts->n_params; i++) {
        const char *eq = strchr(opts->params[i], '=');
        char name[256];
        size_t n = eq ? (size_t)(eq - opts->params[i]) : strlen(opts->params[i]);
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, opts->params[i], n);
        name[n] = '\0';
        if (!cJSON_GetObjectItemCaseSensitive(decl, name))
            return core_err_set(err, 400, "ValidationError",
                                "Parameters: [%s] do not exist in the template", name);
    }
    for (const cJSON *p = decl ? decl->child : NULL; p; p = p->next) {
        if (!cJSON_IsObject(p))
            return core_err_set(err, 400, "ValidationError", "Parameters.%s: must be a mapping",
                                p->string);
        const char *type = str_prop(p, "Type");
        if (!type)
            return core_err_set(err, 400, "ValidationError", "Parameters.%s.Type: required",
                                p->string);
        const char *value = override_for(opts, p->string);
        char *owned = NULL;
        if (!value) {
            const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "Default");
            if (cJSON_IsString(def))
                value = def->valuestring;
            else if (cJSON_IsNumber(def) || cJSON_IsBool(def))
                value = owned = cJSON_PrintUnformatted(def);
            else if (def)
                return core_err_set(err, 400, "ValidationError",
                                    "Parameters.%s.Default: must be a string", p->string);
        }
        if (!value)
            return core_err_set(err, 400, "ValidationError",
                                "Parameters: [%s] must have values", p->string);
        const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(p, "AllowedValues");
        if (cJSON_IsArray(allowed)) {
            int found = 0;
            for (const cJSON *a = allowed->child; a && !found; a = a->next) {
                char *s = cJSON_IsString(a) ? strdup(a->valuestring) : cJSON_PrintUnformatted(a);
                found = s && !strcmp(s, value);
                free(s);
            }
            if (!found) {
                core_err_set(err, 400, "ValidationError",
                             "Parameter '%s' must be one of AllowedValues", p->string);
                free(owned);
                return CORE_ERROR;
            }
        }
        const cJSON *minl = cJSON_GetObjectItemCaseSensitive(p, "MinLength");
        const cJSON *maxl = cJSON_GetObjectItemCaseSensitive(p, "MaxLength");
        size_t len = strlen(value);
        if ((cJSON_IsNumber(minl) && (double)len < minl->valuedouble) ||
            (cJSON_IsNumber(maxl) && (double)len > maxl->valuedouble)) {
            core_err_set(err, 400, "ValidationError",
                         "Parameter '%s' length must be within MinLength and MaxLength",
                         p->string);
            free(owned);
            return CORE_ERROR;
        }
        if (!strcmp(type, "Number")) {
            char *end;
            errno = 0;
            double d = strtod(value, &end);
            const cJSON *minv = cJSON_GetObjectItemCaseSensitive(p, "MinValue");
            const cJSON *maxv = cJSON_GetObjectItemCaseSensitive(p, "MaxValue");
            if (!*value || *end || errno) {
                core_err_set(err, 400, "ValidationError", "Parameter '%s' must be a number",
                             p->string);
                free(owned);
                return CORE_ERROR;
            }
            if ((cJSON_IsNumber(minv) && d < minv->valuedouble) ||
                (cJSON_IsNumber(maxv) && d > maxv->valuedouble)) {
                core_err_set(err, 400, "ValidationError",
                             "Parameter '%s' must be within MinValue and MaxValue", p->string);
                free(owned);
                return CORE_ERROR;
            }
        }
        /* Lists are kept as their text; Ref splits them (template_eval.c). */
        cJSON_AddStringToObject(t->params, p->string, value);
        free(owned);
    }
    return CORE_OK;
}

/* ---- SAM Globals ---------------------------------------------------------- */

/* SAM's merge rule: maps merge (the resource wins on a clash), lists append
 * (globals first), anything else — including an intrinsic — is replaced. */
static cJSON *merge_globals(const cJSON *global, const cJSON *local)
{
    if (!local)
        return cJSON_Duplicate(global, 1);
    if (cJSON_IsObject(global) && cJSON_IsObject(local) && !tpl_is_intrinsic(global) &&
        !tpl_is_intrinsic(local)) {
        cJSON *out = cJSON_Duplicate(local, 1);
        for (const cJSON *g = global->child; g; g = g->next) {
            cJSON *l = cJSON_GetObjectItemCaseSensitive(out, g->string);
            cJSON *merged = merge_globals(g, l);
            if (l)
                cJSON_ReplaceItemInObjectCaseSensitive(out, g->string, merged);
            else
                cJSON_AddItemToObject(out, g->string, merged);
        }
        return out;
    }
    if (cJSON_IsArray(global) && cJSON_IsArray(local)) {
        cJSON *out = cJSON_Duplicate(global, 1);
        for (const cJSON *l = local->child; l; l = l->next)
            cJSON_AddItemToArray(out, cJSON_Duplicate(l, 1));
        return out;
    }
    return cJSON_Duplicate(local, 1);
}

static int apply_globals(core_template *t, core_err *err)
{
    const cJSON *globals = cJSON_GetObjectItemCaseSensitive(t->doc, "Globals");
    if (!globals)
        return CORE_OK;
    if (!cJSON_IsObject(globals))
        return core_err_set(err, 400, "ValidationError", "Globals: must be a mapping");
    static const struct {
        const char *section, *type;
    } map[] = {
        {"Function", "AWS::Serverless::Function"},
        {"HttpApi", "AWS::Serverless::HttpApi"},
        {"Api", "AWS::Serverless::Api"},
        {"SimpleTable", "AWS::Serverless::SimpleTable"},
        {"StateMachine", "AWS::Serverless::StateMachine"},
        {"LayerVersion", "AWS::Serverless::LayerVersion"},
    };
    for (const cJSON *g = globals->child; g; g = g->next) {
        const char *type = NULL;
        for (size_t i = 0; i < sizeof map / sizeof *map; i++)
            if (!strcmp(g->string, map[i].section))
                type = map[i].type;
        if (!type)
            return core_err_set(err, 400, "ValidationError",
                                "Globals.%s: not a section SAM knows (Function, HttpApi, Api, "
                                "SimpleTable, StateMachine, LayerVersion)", g->string);
        if (!cJSON_IsObject(g))
            return core_err_set(err, 400, "ValidationError", "Globals.%s: must be a mapping",
                                g->string);
        cJSON *resources = cJSON_GetObjectItemCaseSensitive(t->doc, "Resources");
        for (cJSON *r = resources ? resources->child : NULL; r; r = r->next) {
            const char *rtype = str_prop(r, "Type");
            if (!rtype || strcmp(rtype, type) != 0)
                continue;
            cJSON *props = cJSON_GetObjectItemCaseSensitive(r, "Properties");
            cJSON *merged = merge_globals(g, props);
            if (props)
                cJSON_ReplaceItemInObjectCaseSensitive(r, "Properties", merged);
            else
                cJSON_AddItemToObject(r, "Properties", merged);
        }
    }
    return CORE_OK;
}

/* ---- typed views ---------------------------------------------------------- */

static int prop_int(const cJSON *props, const char *name, int def, int lo, int hi,
                    const char *where, int *out, core_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    if (!v) {
        *out = def;
        return CORE_OK;
    }
    double d = -1;
    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        d = strtod(v->valuestring, &end);
        if (*end)
            d = -1;
    }
    if (d < lo || d > hi || d != (int)d)
        return core_err_set(err, 400, "ValidationError", "%s.%s: must be an integer in %d..%d",
                            where, name, lo, hi);
    *out = (int)d;
    return CORE_OK;
}

static core_tpl_http_api *find_api(core_template *t, const char *logical_or_id)
{
    for (size_t i = 0; i < t->n_apis; i++)
        if (!strcmp(t->apis[i].logical_id, logical_or_id) || !strcmp(t->apis[i].id, logical_or_id))
            return &t->apis[i];
    return NULL;
}

static int build_api(core_template *t, core_tpl_http_api *api, const core_tpl_resource *res,
                     const char *logical_id, core_err *err)
{
    api->resource = res;
    api->logical_id = strdup(logical_id);
    if (res) {
        api->id = strdup(res->physical_id);
    } else {
        char id[16];
        derive_id(t, logical_id, "api", ALNUM_LOWER, 10, id);
        api->id = strdup(id);
    }
    const cJSON *props = res ? res->properties : NULL;
    const char *stage = str_prop(props, "StageName");
    api->stage = strdup(stage ? stage : "$default");
    const cJSON *cors = cJSON_GetObjectItemCaseSensitive(props, "CorsConfiguration");
    api->cors = cors ? cJSON_Duplicate(cors, 1) : NULL;
    char where[300];
    snprintf(where, sizeof where, "Resources.%s.Properties", logical_id);
    const cJSON *route = cJSON_GetObjectItemCaseSensitive(props, "DefaultRouteSettings");
    const cJSON *burst = cJSON_GetObjectItemCaseSensitive(route, "ThrottlingBurstLimit");
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(route, "ThrottlingRateLimit");
    api->throttle_burst = cJSON_IsNumber(burst) ? burst->valueint : 0;
    api->throttle_rate = cJSON_IsNumber(rate) ? rate->valuedouble : 0;

    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(props, "Auth");
    const cJSON *auths = cJSON_GetObjectItemCaseSensitive(auth, "Authorizers");
    api->default_authorizer = xstrdup(str_prop(auth, "DefaultAuthorizer"));
    int n = cJSON_IsObject(auths) ? cJSON_GetArraySize(auths) : 0;
    api->authorizers = calloc((size_t)n + 1, sizeof *api->authorizers);
    if (!api->authorizers)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    for (const cJSON *a = n ? auths->child : NULL; a; a = a->next) {
        core_tpl_authorizer *z = &api->authorizers[api->n_authorizers++];
        z->name = strdup(a->string);
        const cJSON *jwt = cJSON_GetObjectItemCaseSensitive(a, "JwtConfiguration");
        const char *src = str_prop(a, "IdentitySource");
        z->identity_source = strdup(src ? src : "$request.header.Authorization");
        const char *iss = str_prop(jwt, "issuer");
        if (!iss)
            return core_err_set(err, 400, "ValidationError",
                                "%s.Auth.Authorizers.%s.JwtConfiguration.issuer: required", where,
                                a->string);
        z->issuer = strdup(iss);
        const cJSON *aud = cJSON_GetObjectItemCaseSensitive(jwt, "audience");
        int na = cJSON_IsArray(aud) ? cJSON_GetArraySize(aud) : 0;
        z->audience = calloc((size_t)na + 1, sizeof *z->audience);
        for (const cJSON *x = na ? aud->child : NULL; x && z->audience; x = x->next) {
            if (!cJSON_IsString(x))
                return core_err_set(err, 400, "ValidationError",
                                    "%s.Auth.Authorizers.%s.JwtConfiguration.audience: strings "
                                    "only", where, a->string);
            z->audience[z->n_audience++] = strdup(x->valuestring);
        }
    }
    if (api->default_authorizer) {
        int found = 0;
        for (size_t i = 0; i < api->n_authorizers; i++)
            found |= !strcmp(api->authorizers[i].name, api->default_authorizer);
        if (!found)
            return core_err_set(err, 400, "ValidationError",
                                "%s.Auth.DefaultAuthorizer: no authorizer named %s", where,
                                api->default_authorizer);
    }
    return CORE_OK;
}

static int build_route(core_template *t, core_tpl_route *rt, const char *fn_logical,
                       const cJSON *event, core_err *err)
{
    char where[512];
    snprintf(where, sizeof where, "Resources.%s.Properties.Events.%s.Properties", fn_logical,
             event->string);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(event, "Properties");
    rt->event_name = strdup(event->string);
    const char *api_id = str_prop(props, "ApiId");
    core_tpl_http_api *api = find_api(t, api_id ? api_id : "ServerlessHttpApi");
    if (!api)
        return core_err_set(err, 400, "ValidationError",
                            "%s.ApiId: no AWS::Serverless::HttpApi with id %s", where, api_id);
    rt->api_logical_id = strdup(api->logical_id);
    const char *method = str_prop(props, "Method");
    const char *path = str_prop(props, "Path");
    if (!method && !path) {
        rt->method = strdup("ANY");
        rt->path = strdup("$default");
        rt->route_key = strdup("$default");
    } else {
        if (!method || !path)
            return core_err_set(err, 400, "ValidationError", "%s: Path and Method go together",
                                where);
        if (path[0] != '/')
            return core_err_set(err, 400, "ValidationError", "%s.Path: must start with /",
                                where);
        rt->method = strdup(method);
        for (char *c = rt->method; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE",
                                              "HEAD", "OPTIONS", "ANY"};
        int ok = 0;
        for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
            ok |= !strcmp(rt->method, methods[i]);
        if (!ok)
            return core_err_set(err, 400, "ValidationError", "%s.Method: unknown method %s",
                                where, method);
        rt->path = strdup(path);
        rt->route_key = xprintf("%s %s", rt->method, path);
    }
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(props, "Auth");
    const char *authorizer = str_prop(auth, "Authorizer");
    if (!authorizer)
        authorizer = api->default_authorizer;
    if (authorizer && strcmp(authorizer, "NONE") != 0) {
        int found = 0;
        for (size_t i = 0; i < api->n_authorizers; i++)
            found |= !strcmp(api->authorizers[i].name, authorizer);
        if (!found)
            return core_err_set(err, 400, "ValidationError",
                                "%s.Auth.Authorizer: %s has no authorizer named %s", where,
                                api->logical_id, authorizer);
        rt->authorizer = strdup(authorizer);
    }
    const cJSON *scopes = cJSON_GetObjectItemCaseSensitive(auth, "AuthorizationScopes");
    int ns = cJSON_IsArray(scopes) ? cJSON_GetArraySize(scopes) : 0;
    rt->scopes = calloc((size_t)ns + 1, sizeof *rt->scopes);
    for (const cJSON *s = ns ? scopes->child : NULL; s && rt->scopes; s = s->next)
        if (cJSON_IsString(s))
            rt->scopes[rt->n_scopes++] = strdup(s->valuestring);
    const char *pv = str_prop(props, "PayloadFormatVersion");
    rt->payload_version = strdup(pv ? pv : "2.0");
    return prop_int(props, "TimeoutInMillis", 30000, 50, 30000, where, &rt->timeout_ms, err);
}

static int is_type(const core_tpl_resource *r, const char *a, const char *b)
{
    return !strcmp(r->type, a) || (b && !strcmp(r->type, b));
}

static int build_views(core_template *t, core_err *err)
{
    size_t n = t->n_order;
    t->functions = calloc(n + 1, sizeof *t->functions);
    t->apis = calloc(n + 2, sizeof *t->apis);
    t->tables = calloc(n + 1, sizeof *t->tables);
    t->machines = calloc(n + 1, sizeof *t->machines);
    if (!t->functions || !t->apis || !t->tables || !t->machines)
        return core_err_set(err, 500, "InternalFailure", "out of memory");

    int implicit_api = 0;
    for (size_t i = 0; i < n; i++) {
        const core_tpl_resource *r = &t->order[i]->pub;
        if (is_type(r, "AWS::Serverless::HttpApi", NULL)) {
            if (build_api(t, &t->apis[t->n_apis++], r, r->logical_id, err) != CORE_OK)
                return CORE_ERROR;
        } else if (is_type(r, "AWS::Serverless::Function", NULL)) {
            const cJSON *events = cJSON_GetObjectItemCaseSensitive(r->properties, "Events");
            for (const cJSON *e = events ? events->child : NULL; e; e = e->next) {
                const cJSON *ep = cJSON_GetObjectItemCaseSensitive(e, "Properties");
                if (!strcmp(str_prop(e, "Type") ? str_prop(e, "Type") : "", "HttpApi") &&
                    !cJSON_GetObjectItemCaseSensitive(ep, "ApiId"))
                    implicit_api = 1;
            }
        }
    }
    if (implicit_api && build_api(t, &t->apis[t->n_apis++], NULL, "ServerlessHttpApi", err) !=
                            CORE_OK)
        return CORE_ERROR;

    for (size_t i = 0; i < n; i++) {
        const core_tpl_resource *r = &t->order[i]->pub;
        char where[300];
        snprintf(where, sizeof where, "Resources.%s.Properties", r->logical_id);
        if (is_type(r, "AWS::Serverless::Function", "AWS::Lambda::Function")) {
            core_tpl_function *f = &t->functions[t->n_functions++];
            f->resource = r;
            f->name = r->physical_id;
            f->arn = r->arn;
            const cJSON *p = r->properties;
            f->handler = xstrdup(str_prop(p, "Handler"));
            f->runtime = xstrdup(str_prop(p, "Runtime"));
            f->code_uri = xstrdup(str_prop(p, "CodeUri"));
            const cJSON *arch = cJSON_GetObjectItemCaseSensitive(p, "Architectures");
            const cJSON *a0 = cJSON_GetArrayItem(arch, 0);
            f->architecture = strdup(cJSON_IsString(a0) ? a0->valuestring : "x86_64");
            f->build_method = xstrdup(str_prop(r->metadata, "BuildMethod"));
            const char *tracing = str_prop(p, "Tracing");
            const cJSON *tc = cJSON_GetObjectItemCaseSensitive(p, "TracingConfig");
            f->tracing_active = (tracing && !strcmp(tracing, "Active")) ||
                                (str_prop(tc, "Mode") && !strcmp(str_prop(tc, "Mode"), "Active"));
            if (!f->handler)
                return core_err_set(err, 400, "ValidationError", "%s.Handler: required", where);
            if (prop_int(p, "Timeout", 3, 1, 900, where, &f->timeout_s, err) != CORE_OK ||
                prop_int(p, "MemorySize", 128, 128, 10240, where, &f->memory_mb, err) != CORE_OK)
                return CORE_ERROR;
            f->environment = cJSON_CreateObject();
            const cJSON *vars = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(p, "Environment"), "Variables");
            for (const cJSON *v = vars ? vars->child : NULL; v; v = v->next) {
                if (cJSON_IsString(v))
                    cJSON_AddStringToObject(f->environment, v->string, v->valuestring);
                else if (cJSON_IsNumber(v) || cJSON_IsBool(v)) {
                    char *s = cJSON_PrintUnformatted(v);
                    cJSON_AddStringToObject(f->environment, v->string, s ? s : "");
                    free(s);
                } else
                    return core_err_set(err, 400, "ValidationError",
                                        "%s.Environment.Variables.%s: must be a string", where,
                                        v->string);
            }
            const cJSON *events = cJSON_GetObjectItemCaseSensitive(p, "Events");
            int ne = cJSON_IsObject(events) ? cJSON_GetArraySize(events) : 0;
            f->routes = calloc((size_t)ne + 1, sizeof *f->routes);
            if (!f->routes)
                return core_err_set(err, 500, "InternalFailure", "out of memory");
            for (const cJSON *e = ne ? events->child : NULL; e; e = e->next) {
                const char *etype = str_prop(e, "Type");
                if (!etype)
                    return core_err_set(err, 400, "ValidationError", "%s.Events.%s.Type: required",
                                        where, e->string);
                if (strcmp(etype, "HttpApi") != 0)
                    continue; /* other event sources belong to later services */
                if (build_route(t, &f->routes[f->n_routes++], r->logical_id, e, err) != CORE_OK)
                    return CORE_ERROR;
            }
        } else if (is_type(r, "AWS::DynamoDB::Table", NULL)) {
            core_tpl_table *tb = &t->tables[t->n_tables++];
            tb->resource = r;
            tb->name = r->physical_id;
            tb->arn = r->arn;
            const cJSON *p = r->properties;
            const cJSON *ks = cJSON_GetObjectItemCaseSensitive(p, "KeySchema");
            for (const cJSON *k = cJSON_IsArray(ks) ? ks->child : NULL; k; k = k->next) {
                const char *kn = str_prop(k, "AttributeName"), *kt = str_prop(k, "KeyType");
                if (!kn || !kt)
                    return core_err_set(err, 400, "ValidationError",
                                        "%s.KeySchema: each key needs AttributeName and KeyType",
                                        where);
                if (!strcmp(kt, "HASH") && !tb->hash_key)
                    tb->hash_key = strdup(kn);
                else if (!strcmp(kt, "RANGE") && !tb->range_key)
                    tb->range_key = strdup(kn);
                else
                    return core_err_set(err, 400, "ValidationError",
                                        "%s.KeySchema: one HASH and at most one RANGE key", where);
            }
            if (!tb->hash_key)
                return core_err_set(err, 400, "ValidationError",
                                    "%s.KeySchema: a HASH key is required", where);
            tb->attribute_definitions = cJSON_GetObjectItemCaseSensitive(p, "AttributeDefinitions");
            if (!cJSON_IsArray(tb->attribute_definitions))
                return core_err_set(err, 400, "ValidationError",
                                    "%s.AttributeDefinitions: required", where);
            tb->global_indexes = cJSON_GetObjectItemCaseSensitive(p, "GlobalSecondaryIndexes");
            tb->local_indexes = cJSON_GetObjectItemCaseSensitive(p, "LocalSecondaryIndexes");
            const char *billing = str_prop(p, "BillingMode");
            tb->billing_mode = strdup(billing ? billing : "PROVISIONED");
            const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(p, "TimeToLiveSpecification");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ttl, "Enabled")))
                tb->ttl_attribute = xstrdup(str_prop(ttl, "AttributeName"));
        } else if (is_type(r, "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")) {
            core_tpl_state_machine *sm = &t->machines[t->n_machines++];
            sm->resource = r;
            sm->arn = r->arn;
            sm->name = cJSON_GetObjectItemCaseSensitive(r->attributes, "Name")->valuestring;
            const cJSON *p = r->properties;
            const char *uri = str_prop(p, "DefinitionUri");
            if (!uri)
                uri = str_prop(p, "DefinitionS3Location");
            const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "Definition");
            const char *def_string = str_prop(p, "DefinitionString");
            if (uri) {
                sm->definition_path = uri[0] == '/' ? strdup(uri) : xprintf("%s/%s", t->base_dir, uri);
                if (access(sm->definition_path, R_OK) != 0)
                    return core_err_set(err, 400, "ValidationError",
                                        "%s.DefinitionUri: cannot read %s", where,
                                        sm->definition_path);
            } else if (def) {
                sm->definition = def;
            } else if (!def_string) {
                return core_err_set(err, 400, "ValidationError",
                                    "%s: one of DefinitionUri, Definition or DefinitionString "
                                    "is required", where);
            } else {
                sm->definition = cJSON_GetObjectItemCaseSensitive(p, "DefinitionString");
            }
            sm->substitutions = cJSON_GetObjectItemCaseSensitive(p, "DefinitionSubstitutions");
            const char *type = str_prop(p, "Type");
            if (!type)
                type = str_prop(p, "StateMachineType");
            sm->type = strdup(type ? type : "STANDARD");
        }
    }
    return CORE_OK;
}

/* ---- load / free ---------------------------------------------------------- */

static int load_resources(core_template *t, core_err *err)
{
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(t->doc, "Resources");
    if (!cJSON_IsObject(resources) || !resources->child)
        return core_err_set(err, 400, "ValidationError",
                            "Resources: a template needs at least one resource");
    size_t n = (size_t)cJSON_GetArraySize(resources);
    t->res = calloc(n, sizeof *t->res);
    t->order = calloc(n, sizeof *t->order);
    if (!t->res || !t->order)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    for (const cJSON *r = resources->child; r; r = r->next) {
        tpl_res *x = &t->res[t->n_res++];
        x->raw = r;
        x->pub.logical_id = strdup(r->string);
        const char *type = str_prop(r, "Type");
        if (!cJSON_IsObject(r) || !type)
            return core_err_set(err, 400, "ValidationError", "Resources.%s.Type: required",
                                r->string);
        for (const char *c = r->string; *c; c++)
            if (!isalnum((unsigned char)*c))
                return core_err_set(err, 400, "ValidationError",
                                    "Resources.%s: logical ids are alphanumeric", r->string);
        x->pub.type = strdup(type);
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(r, "Metadata");
        x->pub.metadata = md ? cJSON_Duplicate(md, 1) : NULL;
    }
    for (size_t i = 0; i < t->n_res; i++) {
        const cJSON *cond = cJSON_GetObjectItemCaseSensitive(t->res[i].raw, "Condition");
        if (!cond)
            continue;
        char where[300];
        snprintf(where, sizeof where, "Resources.%s.Condition", t->res[i].pub.logical_id);
        if (!cJSON_IsString(cond))
            return core_err_set(err, 400, "ValidationError", "%s: must be a condition name",
                                where);
        int v = tpl_condition(t, cond->valuestring, where, err);
        if (v < 0)
            return CORE_ERROR;
        if (!v)
            t->res[i].state = TPL_SKIPPED;
    }
    for (size_t i = 0; i < t->n_res; i++)
        if (t->res[i].state == TPL_PENDING &&
            !tpl_resolve(t, t->res[i].pub.logical_id, "Resources", err))
            return CORE_ERROR;
    return CORE_OK;
}

static int load_outputs(core_template *t, core_err *err)
{
    t->outputs = cJSON_CreateObject();
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(t->doc, "Outputs");
    for (const cJSON *o = cJSON_IsObject(outs) ? outs->child : NULL; o; o = o->next) {
        char where[300];
        snprintf(where, sizeof where, "Outputs.%s", o->string);
        const cJSON *cond = cJSON_GetObjectItemCaseSensitive(o, "Condition");
        if (cJSON_IsString(cond)) {
            int v = tpl_condition(t, cond->valuestring, where, err);
            if (v < 0)
                return CORE_ERROR;
            if (!v)
                continue;
        }
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "Value");
        if (!value)
            return core_err_set(err, 400, "ValidationError", "%s.Value: required", where);
        snprintf(where, sizeof where, "Outputs.%s.Value", o->string);
        cJSON *v = tpl_eval(t, value, where, err);
        if (!v)
            return CORE_ERROR;
        if (v != TPL_NOVALUE)
            cJSON_AddItemToObject(t->outputs, o->string, v);
    }
    return CORE_OK;
}

int core_template_load_string(const char *text, size_t len, const char *base_dir,
                              const core_template_opts *opts, core_template **out,
                              core_err *err)
{
    *out = NULL;
    core_template_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    core_template *t = calloc(1, sizeof *t);
    if (!t)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    t->region = strdup(opts->region ? opts->region : "us-east-1");
    t->stack = strdup(opts->stack_name ? opts->stack_name : "shoplocal");
    t->base_dir = strdup(base_dir ? base_dir : ".");
    char sid[40];
    derive_id(t, "", "stackid", "0123456789abcdef", 32, sid);
    t->stack_id = xprintf("arn:aws:cloudformation:%s:%s:stack/%s/%.8s-%.4s-%.4s-%.4s-%.12s",
                          t->region, CORE_ACCOUNT_ID, t->stack, sid, sid + 8, sid + 12, sid + 16,
                          sid + 20);
    t->params = cJSON_CreateObject();
    t->conditions = cJSON_CreateObject();
    t->cond_active = cJSON_CreateObject();

    int rc = core_yaml_parse(text, len, &t->doc, err);
    if (rc == CORE_OK && !cJSON_IsObject(t->doc))
        rc = core_err_set(err, 400, "ValidationError", "line 1: a template is a mapping");
    if (rc == CORE_OK) {
        const cJSON *conds = cJSON_GetObjectItemCaseSensitive(t->doc, "Conditions");
        if (conds && !cJSON_IsObject(conds))
            rc = core_err_set(err, 400, "ValidationError", "Conditions: must be a mapping");
    }
    if (rc == CORE_OK)
        rc = load_parameters(t, opts, err);
    if (rc == CORE_OK)
        rc = apply_globals(t, err);
    if (rc == CORE_OK) {
        const cJSON *conds = cJSON_GetObjectItemCaseSensitive(t->doc, "Conditions");
        for (const cJSON *c = conds ? conds->child : NULL; c && rc == CORE_OK; c = c->next)
            if (tpl_condition(t, c->string, "Conditions", err) < 0)
                rc = CORE_ERROR;
    }
    if (rc == CORE_OK)
        rc = load_resources(t, err);
    if (rc == CORE_OK)
        rc = load_outputs(t, err);
    if (rc == CORE_OK)
        rc = build_views(t, err);
    if (rc != CORE_OK) {
        core_template_free(t);
        return CORE_ERROR;
    }
    *out = t;
    return CORE_OK;
}

int core_template_load_file(const char *path, const core_template_opts *opts,
                            core_template **out, core_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return core_err_set(err, 400, "ValidationError", "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return core_err_set(err, 400, "ValidationError", "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > CORE_YAML_MAX_BYTES) {
        fclose(f);
        return core_err_set(err, 400, "ValidationError",
                            "%s: %lld bytes, larger than the %u byte limit", path,
                            (long long)st.st_size, CORE_YAML_MAX_BYTES);
    }
    size_t len = (size_t)st.st_size;
    char *text = malloc(len + 1);
    if (!text || fread(text, 1, len, f) != len) {
        free(text);
        fclose(f);
        return core_err_set(err, 400, "ValidationError", "%s: read error", path);
    }
    fclose(f);
    text[len] = '\0';
    char *dir_copy = strdup(path);
    const char *dir = dir_copy ? dirname(dir_copy) : ".";
    core_err inner;
    core_err_clear(&inner);
    int rc = core_template_load_string(text, len, dir, opts, out, &inner);
    free(dir_copy);
    free(text);
    if (rc != CORE_OK)
        core_err_set(err, inner.status, inner.type, "%s: %s", path, inner.message);
    return rc;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void core_template_free(core_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_functions; i++) {
        core_tpl_function *f = &t->functions[i];
        free(f->handler);
        free(f->runtime);
        free(f->code_uri);
        free(f->architecture);
        free(f->build_method);
        cJSON_Delete(f->environment);
        for (size_t k = 0; k < f->n_routes; k++) {
            core_tpl_route *r = &f->routes[k];
            free(r->event_name);
            free(r->api_logical_id);
            free(r->method);
            free(r->path);
            free(r->route_key);
            free(r->authorizer);
            free(r->payload_version);
            free_strings(r->scopes, r->n_scopes);
        }
        free(f->routes);
    }
    free(t->functions);
    for (size_t i = 0; i < t->n_apis; i++) {
        core_tpl_http_api *a = &t->apis[i];
        free(a->logical_id);
        free(a->id);
        free(a->stage);
        cJSON_Delete(a->cors);
        free(a->default_authorizer);
        for (size_t k = 0; k < a->n_authorizers; k++) {
            free(a->authorizers[k].name);
            free(a->authorizers[k].identity_source);
            free(a->authorizers[k].issuer);
            free_strings(a->authorizers[k].audience, a->authorizers[k].n_audience);
        }
        free(a->authorizers);
    }
    free(t->apis);
    for (size_t i = 0; i < t->n_tables; i++) {
        free(t->tables[i].hash_key);
        free(t->tables[i].range_key);
        free(t->tables[i].billing_mode);
        free(t->tables[i].ttl_attribute);
    }
    free(t->tables);
    for (size_t i = 0; i < t->n_machines; i++) {
        free(t->machines[i].definition_path);
        free(t->machines[i].type);
    }
    free(t->machines);
    for (size_t i = 0; i < t->n_res; i++) {
        core_tpl_resource *r = &t->res[i].pub;
        free(r->logical_id);
        free(r->type);
        cJSON_Delete(r->properties);
        cJSON_Delete(r->metadata);
        free(r->physical_id);
        free(r->arn);
        cJSON_Delete(r->attributes);
    }
    free(t->res);
    free(t->order);
    cJSON_Delete(t->doc);
    cJSON_Delete(t->params);
    cJSON_Delete(t->conditions);
    cJSON_Delete(t->cond_active);
    cJSON_Delete(t->outputs);
    free(t->region);
    free(t->stack);
    free(t->stack_id);
    free(t->base_dir);
    free(t);
}

/* ---- accessors ------------------------------------------------------------ */

const char *core_template_region(const core_template *t) { return t->region; }
const char *core_template_stack_name(const core_template *t) { return t->stack; }
size_t core_template_resource_count(const core_template *t) { return t->n_order; }
const core_tpl_resource *core_template_resource_at(const core_template *t, size_t i)
{
    return i < t->n_order ? &t->order[i]->pub : NULL;
}

const core_tpl_resource *core_template_resource(const core_template *t, const char *logical_id)
{
    for (size_t i = 0; i < t->n_order; i++)
        if (!strcmp(t->order[i]->pub.logical_id, logical_id))
            return &t->order[i]->pub;
    return NULL;
}

const char *core_template_parameter(const core_template *t, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->params, name);
    if (cJSON_IsString(v))
        return v->valuestring;
    return NULL;
}

int core_template_condition(const core_template *t, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->conditions, name);
    return v ? cJSON_IsTrue(v) : -1;
}

const cJSON *core_template_outputs(const core_template *t) { return t->outputs; }
size_t core_template_function_count(const core_template *t) { return t->n_functions; }
const core_tpl_function *core_template_function_at(const core_template *t, size_t i)
{
    return i < t->n_functions ? &t->functions[i] : NULL;
}

const core_tpl_function *core_template_function(const core_template *t, const char *logical_id)
{
    for (size_t i = 0; i < t->n_functions; i++)
        if (!strcmp(t->functions[i].resource->logical_id, logical_id))
            return &t->functions[i];
    return NULL;
}

size_t core_template_http_api_count(const core_template *t) { return t->n_apis; }
const core_tpl_http_api *core_template_http_api_at(const core_template *t, size_t i)
{
    return i < t->n_apis ? &t->apis[i] : NULL;
}

size_t core_template_table_count(const core_template *t) { return t->n_tables; }
const core_tpl_table *core_template_table_at(const core_template *t, size_t i)
{
    return i < t->n_tables ? &t->tables[i] : NULL;
}

size_t core_template_state_machine_count(const core_template *t) { return t->n_machines; }
const core_tpl_state_machine *core_template_state_machine_at(const core_template *t, size_t i)
{
    return i < t->n_machines ? &t->machines[i] : NULL;
}

cJSON *core_template_describe(const core_template *t)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "stackName", t->stack);
    cJSON_AddStringToObject(d, "stackId", t->stack_id);
    cJSON_AddStringToObject(d, "region", t->region);
    cJSON_AddStringToObject(d, "accountId", CORE_ACCOUNT_ID);
    cJSON *res = cJSON_AddArrayToObject(d, "resources");
    for (size_t i = 0; i < t->n_order; i++) {
        const core_tpl_resource *r = &t->order[i]->pub;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "logicalId", r->logical_id);
        cJSON_AddStringToObject(o, "type", r->type);
        cJSON_AddStringToObject(o, "physicalId", r->physical_id);
        if (r->arn)
            cJSON_AddStringToObject(o, "arn", r->arn);
        cJSON_AddItemToArray(res, o);
    }
    cJSON *routes = cJSON_AddArrayToObject(d, "routes");
    for (size_t i = 0; i < t->n_functions; i++) {
        const core_tpl_function *f = &t->functions[i];
        for (size_t k = 0; k < f->n_routes; k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "routeKey", f->routes[k].route_key);
            cJSON_AddStringToObject(o, "function", f->resource->logical_id);
            if (f->routes[k].authorizer)
                cJSON_AddStringToObject(o, "authorizer", f->routes[k].authorizer);
            cJSON_AddItemToArray(routes, o);
        }
    }
    cJSON_AddItemToObject(d, "outputs", cJSON_Duplicate(t->outputs, 1));
    return d;
}
