/*
 * config.h — the `shoplocal serve` configuration: defaults, SHOPLOCAL_*
 * environment variables, then command-line flags, in that order of precedence.
 *
 * Every option lives in one table (config.c) that names its flag, its
 * environment variable, its kind and where it is stored, so --help, the
 * environment and the parser can never disagree.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stddef.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#define CORE_CONFIG_PATH_MAX 1024
#define CORE_CONFIG_MAX_PARAMS 64

typedef struct core_config {
    char template_path[CORE_CONFIG_PATH_MAX];
    char data_dir[CORE_CONFIG_PATH_MAX];
    char seed_dir[CORE_CONFIG_PATH_MAX]; /* empty: no seeding */
    char functions_dir[CORE_CONFIG_PATH_MAX]; /* <LogicalId>.so builds of the handlers */
    char lambda_host[16];  /* "inprocess" or "process" */
    char mock_config[CORE_CONFIG_PATH_MAX]; /* Step Functions Local mock config; empty: none */
    char host[256];
    char region[64];
    char stack_name[128];
    int fresh;
    int auto_confirm; /* Cognito: SignUp confirms the user at once */
    int web_port;    /* 0 = any free port (the real one is printed and in health) */
    int aws_port;
    int stripe_port;
    int threads;     /* worker threads per listener */
    long long max_body_bytes; /* largest request body the aws listener accepts */
    core_log_level log_level;
    core_clock_mode time_mode;
    /* template parameter overrides, "Key=Value" (from --parameter, repeatable) */
    char *params[CORE_CONFIG_MAX_PARAMS];
    size_t n_params;
} core_config;

/* Fill cfg with the defaults. */
void core_config_defaults(core_config *cfg);

/* Release what cfg owns (the parameter overrides). */
void core_config_release(core_config *cfg);

/* Environment lookup, so tests can pass a fake environment. */
typedef const char *(*core_config_getenv)(const char *name, void *ctx);

/* Apply SHOPLOCAL_* variables found through getenv_fn (NULL: the process's).
 * Returns CORE_OK or CORE_ERROR with a message naming the variable. */
int core_config_from_env(core_config *cfg, core_config_getenv getenv_fn, void *ctx,
                         core_err *err);

/* Apply `serve` flags argv[0..argc) (argv[0] is the first flag, not the program).
 * Accepts "--flag value" and "--flag=value". Returns CORE_OK, or CORE_ERROR with a
 * one-line message ("unknown flag --x", "--aws-port: not a port: 99999"). */
int core_config_parse_args(core_config *cfg, int argc, char **argv, core_err *err);

/* Write the serve flags' help text to buf. */
void core_config_usage(char *buf, size_t len);

#endif
