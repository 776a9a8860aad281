/*
 * config.c — option table, environment and flag parsing. See config.h.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum opt_kind {
    OPT_PATH,   /* string into a char[CORE_CONFIG_PATH_MAX] */
    OPT_STRING, /* string into a char[size] */
    OPT_PORT,   /* 0..65535 */
    OPT_INT,    /* positive int, bounded */
    OPT_SIZE,   /* bytes, with optional k/m suffix */
    OPT_BOOL,   /* flag without value; env: 1/0/true/false/yes/no */
    OPT_LEVEL,  /* log level */
    OPT_TIME,   /* real|virtual */
    OPT_PARAM,  /* Key=Value, repeatable */
    OPT_HOST,   /* an IPv4 or IPv6 literal */
} opt_kind;

typedef struct opt_def {
    const char *flag;
    const char *env;
    opt_kind kind;
    size_t offset;
    size_t size;
    const char *help;
} opt_def;

#define FIELD(f) offsetof(core_config, f), sizeof(((core_config *)0)->f)

static const opt_def options[] = {
    {"--template", "SHOPLOCAL_TEMPLATE", OPT_PATH, FIELD(template_path),
     "SAM template to load (default template.yaml)"},
    {"--data", "SHOPLOCAL_DATA", OPT_PATH, FIELD(data_dir),
     "data folder: databases, keys, logs (default .shoplocal)"},
    {"--fresh", "SHOPLOCAL_FRESH", OPT_BOOL, FIELD(fresh),
     "start from an empty data folder"},
    {"--seed", "SHOPLOCAL_SEED", OPT_PATH, FIELD(seed_dir),
     "load demo data from this fixtures folder"},
    {"--auto-confirm", "SHOPLOCAL_AUTO_CONFIRM", OPT_BOOL, FIELD(auto_confirm),
     "Cognito: confirm users at sign-up (no code needed); SNS: confirm email and HTTP "
     "subscriptions at Subscribe"},
    {"--functions", "SHOPLOCAL_FUNCTIONS", OPT_PATH, FIELD(functions_dir),
     "folder of the functions' in-process builds, <LogicalId>.so (default build/functions)"},
    {"--lambda-host", "SHOPLOCAL_LAMBDA_HOST", OPT_STRING, FIELD(lambda_host),
     "inprocess (handlers dlopen'ed, the default) | process (each function's bootstrap)"},
    {"--mock-config", "SFN_MOCK_CONFIG", OPT_PATH, FIELD(mock_config),
     "Step Functions Local mock config: mocked task responses by test case"},
    {"--web-port", "SHOPLOCAL_WEB_PORT", OPT_PORT, FIELD(web_port),
     "CloudFront + SPA + /api (default 3000; 0 = any free port)"},
    {"--aws-port", "SHOPLOCAL_AWS_PORT", OPT_PORT, FIELD(aws_port),
     "every AWS API, LocalStack-style (default 4566)"},
    {"--stripe-port", "SHOPLOCAL_STRIPE_PORT", OPT_PORT, FIELD(stripe_port),
     "Stripe fake (default 12111)"},
    {"--host", "SHOPLOCAL_HOST", OPT_HOST, FIELD(host),
     "address to listen on (default 127.0.0.1)"},
    {"--region", "SHOPLOCAL_REGION", OPT_STRING, FIELD(region),
     "AWS region the stack pretends to be in (default us-east-1)"},
    {"--stack-name", "SHOPLOCAL_STACK_NAME", OPT_STRING, FIELD(stack_name),
     "AWS::StackName (default shoplocal)"},
    {"--parameter", NULL, OPT_PARAM, 0, 0,
     "template parameter override Key=Value (repeatable)"},
    {"--threads", "SHOPLOCAL_THREADS", OPT_INT, FIELD(threads),
     "worker threads per listener (default: the number of cores, at least 2)"},
    {"--max-body", "SHOPLOCAL_MAX_BODY", OPT_SIZE, FIELD(max_body_bytes),
     "largest AWS request body, e.g. 16m (default 16m)"},
    {"--log-level", "SHOPLOCAL_LOG_LEVEL", OPT_LEVEL, FIELD(log_level),
     "debug|info|warn|error (default info)"},
    {"--time", "SHOPLOCAL_TIME", OPT_TIME, FIELD(time_mode),
     "real|virtual (default real)"},
};

void core_config_defaults(core_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->template_path, sizeof cfg->template_path, "template.yaml");
    snprintf(cfg->data_dir, sizeof cfg->data_dir, ".shoplocal");
    snprintf(cfg->functions_dir, sizeof cfg->functions_dir, "build/functions");
    snprintf(cfg->lambda_host, sizeof cfg->lambda_host, "inprocess");
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    snprintf(cfg->region, sizeof cfg->region, "us-east-1");
    snprintf(cfg->stack_name, sizeof cfg->stack_name, "shoplocal");
    cfg->web_port = 3000;
    cfg->aws_port = 4566;
    cfg->stripe_port = 12111;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cores < 2 ? 2 : cores > 64 ? 64 : (int)cores;
    cfg->max_body_bytes = 16LL * 1024 * 1024;
    cfg->log_level = CORE_LOG_INFO;
    cfg->time_mode = CORE_CLOCK_REAL;
}

void core_config_release(core_config *cfg)
{
    for (size_t i = 0; i < cfg->n_params; i++)
        free(cfg->params[i]);
    cfg->n_params = 0;
}

static int parse_long(const char *s, long long lo, long long hi, long long *out)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (strcmp(s, yes[i]) == 0)
            return *out = 1, 0;
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcmp(s, no[i]) == 0)
            return *out = 0, 0;
    return -1;
}

static int parse_size(const char *s, long long *out)
{
    char num[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n + 1);
    long long mult = 1;
    char last = num[n - 1];
    if (last == 'k' || last == 'K')
        mult = 1024;
    else if (last == 'm' || last == 'M')
        mult = 1024 * 1024;
    if (mult != 1)
        num[n - 1] = '\0';
    long long v;
    if (parse_long(num, 1, (1LL << 40) / mult, &v) != 0)
        return -1;
    *out = v * mult;
    return 0;
}

/* Store one option's value; `source` names the flag or variable in errors. */
static int apply(core_config *cfg, const opt_def *o, const char *value, const char *source,
                 core_err *err)
{
    char *field = (char *)cfg + o->offset;
    long long v;
    switch (o->kind) {
    case OPT_HOST: {
        unsigned char addr[16];
        if (inet_pton(AF_INET, value, addr) != 1 && inet_pton(AF_INET6, value, addr) != 1)
            return core_err_set(err, 2, "InvalidArgument", "%s: not an IP address: %s", source,
                                value);
    }
        __attribute__((fallthrough)); /* stored as a string, like the others */
    case OPT_PATH:
    case OPT_STRING:
        if (o->kind != OPT_PATH && !*value)
            return core_err_set(err, 2, "InvalidArgument", "%s: must not be empty", source);
        if (strlen(value) >= o->size)
            return core_err_set(err, 2, "InvalidArgument", "%s: too long", source);
        memcpy(field, value, strlen(value) + 1);
        return CORE_OK;
    case OPT_PORT:
        if (parse_long(value, 0, 65535, &v) != 0)
            return core_err_set(err, 2, "InvalidArgument", "%s: not a port: %s", source, value);
        *(int *)field = (int)v;
        return CORE_OK;
    case OPT_INT:
        if (parse_long(value, 1, 256, &v) != 0)
            return core_err_set(err, 2, "InvalidArgument", "%s: not a number in 1..256: %s",
                                source, value);
        *(int *)field = (int)v;
        return CORE_OK;
    case OPT_SIZE:
        if (parse_size(value, &v) != 0)
            return core_err_set(err, 2, "InvalidArgument", "%s: not a size: %s", source, value);
        *(long long *)field = v;
        return CORE_OK;
    case OPT_BOOL: {
        int b;
        if (parse_bool(value, &b) != 0)
            return core_err_set(err, 2, "InvalidArgument", "%s: not a boolean: %s", source,
                                value);
        *(int *)field = b;
        return CORE_OK;
    }
    case OPT_LEVEL:
        if (core_log_level_parse(value, (core_log_level *)field) != 0)
            return core_err_set(err, 2, "InvalidArgument",
                                "%s: expected debug|info|warn|error, got %s", source, value);
        return CORE_OK;
    case OPT_TIME:
        if (core_clock_mode_parse(value, (core_clock_mode *)field) != 0)
            return core_err_set(err, 2, "InvalidArgument", "%s: expected real|virtual, got %s",
                                source, value);
        return CORE_OK;
    case OPT_PARAM: {
        const char *eq = strchr(value, '=');
        if (!eq || eq == value)
            return core_err_set(err, 2, "InvalidArgument", "%s: expected Key=Value, got %s",
                                source, value);
        if (cfg->n_params >= CORE_CONFIG_MAX_PARAMS)
            return core_err_set(err, 2, "InvalidArgument", "%s: more than %d overrides",
                                source, CORE_CONFIG_MAX_PARAMS);
        char *copy = strdup(value);
        if (!copy)
            return core_err_set(err, 2, "InvalidArgument", "out of memory");
        cfg->params[cfg->n_params++] = copy;
        return CORE_OK;
    }
    }
    return core_err_set(err, 2, "InvalidArgument", "%s: unhandled option kind", source);
}

static const char *process_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int core_config_from_env(core_config *cfg, core_config_getenv getenv_fn, void *ctx,
                         core_err *err)
{
    if (!getenv_fn)
        getenv_fn = process_getenv;
    for (size_t i = 0; i < sizeof options / sizeof *options; i++) {
        const opt_def *o = &options[i];
        if (!o->env)
            continue;
        const char *value = getenv_fn(o->env, ctx);
        if (value && apply(cfg, o, value, o->env, err) != CORE_OK)
            return CORE_ERROR;
    }
    return CORE_OK;
}

int core_config_parse_args(core_config *cfg, int argc, char **argv, core_err *err)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0)
            return core_err_set(err, 2, "InvalidArgument", "unexpected argument: %s", arg);
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const opt_def *o = NULL;
        for (size_t k = 0; k < sizeof options / sizeof *options; k++) {
            if (strlen(options[k].flag) == name_len &&
                strncmp(options[k].flag, arg, name_len) == 0) {
                o = &options[k];
                break;
            }
        }
        if (!o)
            return core_err_set(err, 2, "InvalidArgument", "unknown flag %.*s (see --help)",
                                (int)name_len, arg);
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (o->kind == OPT_BOOL) {
            value = "true";
        } else {
            if (i + 1 >= argc)
                return core_err_set(err, 2, "InvalidArgument", "%s: missing value", o->flag);
            value = argv[++i];
        }
        if (apply(cfg, o, value, o->flag, err) != CORE_OK)
            return CORE_ERROR;
    }
    return CORE_OK;
}

void core_config_usage(char *buf, size_t len)
{
    size_t used = 0;
    for (size_t i = 0; i < sizeof options / sizeof *options && used < len; i++) {
        const opt_def *o = &options[i];
        int n = snprintf(buf + used, len - used, "  %-15s %s%s%s%s\n", o->flag, o->help,
                         o->env ? " [env " : "", o->env ? o->env : "", o->env ? "]" : "");
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
