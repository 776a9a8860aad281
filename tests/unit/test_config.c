/*
 * test_config.c — defaults, SHOPLOCAL_* variables and flags, and their errors.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/config.h"

static const char *fake_env(const char *name, void *ctx)
{
    const char *const *pairs = ctx;
    for (size_t i = 0; pairs[i]; i += 2)
        if (!strcmp(pairs[i], name))
            return pairs[i + 1];
    return NULL;
}

static int parse(core_config *cfg, core_err *err, int argc, const char **argv)
{
    core_config_defaults(cfg);
    core_err_clear(err);
    return core_config_parse_args(cfg, argc, (char **)argv, err);
}

Test(core_config, defaults_match_the_documented_ports_and_paths)
{
    core_config cfg;
    core_config_defaults(&cfg);
    cr_assert_str_eq(cfg.template_path, "template.yaml");
    cr_assert_str_eq(cfg.data_dir, ".shoplocal");
    cr_assert_str_eq(cfg.host, "127.0.0.1");
    cr_assert_eq(cfg.web_port, 3000);
    cr_assert_eq(cfg.aws_port, 4566);
    cr_assert_eq(cfg.stripe_port, 12111);
    cr_assert_eq(cfg.fresh, 0);
    cr_assert_eq(cfg.log_level, CORE_LOG_INFO);
    cr_assert_eq(cfg.time_mode, CORE_CLOCK_REAL);
    cr_assert_str_eq(cfg.seed_dir, "");
}

Test(core_config, parses_every_flag_in_both_spellings)
{
    core_config cfg;
    core_err err;
    const char *argv[] = {"--template", "t.yaml", "--data=/tmp/d", "--fresh", "--seed",
                          "fixtures/", "--web-port", "0", "--aws-port=4567",
                          "--stripe-port", "12112", "--host", "::1", "--log-level", "debug",
                          "--time=virtual", "--region", "eu-west-1", "--stack-name", "s1",
                          "--threads", "4", "--max-body", "2m", "--parameter", "Stage=prod"};
    cr_assert_eq(parse(&cfg, &err, sizeof argv / sizeof *argv, argv), CORE_OK, "%s",
                 err.message);
    cr_assert_str_eq(cfg.template_path, "t.yaml");
    cr_assert_str_eq(cfg.data_dir, "/tmp/d");
    cr_assert_eq(cfg.fresh, 1);
    cr_assert_str_eq(cfg.seed_dir, "fixtures/");
    cr_assert_eq(cfg.web_port, 0);
    cr_assert_eq(cfg.aws_port, 4567);
    cr_assert_eq(cfg.stripe_port, 12112);
    cr_assert_str_eq(cfg.host, "::1");
    cr_assert_eq(cfg.log_level, CORE_LOG_DEBUG);
    cr_assert_eq(cfg.time_mode, CORE_CLOCK_VIRTUAL);
    cr_assert_str_eq(cfg.region, "eu-west-1");
    cr_assert_str_eq(cfg.stack_name, "s1");
    cr_assert_eq(cfg.threads, 4);
    cr_assert_eq(cfg.max_body_bytes, 2 * 1024 * 1024);
    cr_assert_eq(cfg.n_params, 1);
    cr_assert_str_eq(cfg.params[0], "Stage=prod");
    core_config_release(&cfg);
}

Test(core_config, fresh_takes_an_explicit_boolean)
{
    core_config cfg;
    core_err err;
    const char *argv[] = {"--fresh=false"};
    cr_assert_eq(parse(&cfg, &err, 1, argv), CORE_OK);
    cr_assert_eq(cfg.fresh, 0);
}

Test(core_config, rejects_unknown_flag_naming_it)
{
    core_config cfg;
    core_err err;
    const char *argv[] = {"--aws-prot", "1"};
    cr_assert_eq(parse(&cfg, &err, 2, argv), CORE_ERROR);
    cr_assert_str_eq(err.message, "unknown flag --aws-prot (see --help)");
    cr_assert_eq(err.status, 2);
}

Test(core_config, rejects_bad_values_with_the_flag_named)
{
    static const struct {
        const char *flag, *value, *message;
    } cases[] = {
        {"--aws-port", "65536", "--aws-port: not a port: 65536"},
        {"--web-port", "-1", "--web-port: not a port: -1"},
        {"--web-port", "12ab", "--web-port: not a port: 12ab"},
        {"--stripe-port", "", "--stripe-port: not a port: "},
        {"--log-level", "verbose", "--log-level: expected debug|info|warn|error, got verbose"},
        {"--time", "fast", "--time: expected real|virtual, got fast"},
        {"--threads", "999", "--threads: not a number in 1..256: 999"},
        {"--max-body", "12q", "--max-body: not a size: 12q"},
        {"--parameter", "NoEquals", "--parameter: expected Key=Value, got NoEquals"},
        {"--parameter", "=v", "--parameter: expected Key=Value, got =v"},
        {"--host", "", "--host: not an IP address: "},
        {"--host", "localhost", "--host: not an IP address: localhost"},
        {"--region", "", "--region: must not be empty"},
        {"--fresh=maybe", NULL, "--fresh: not a boolean: maybe"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        core_config cfg;
        core_err err;
        const char *argv[] = {cases[i].flag, cases[i].value};
        cr_assert_eq(parse(&cfg, &err, cases[i].value ? 2 : 1, argv), CORE_ERROR, "case %zu", i);
        cr_assert_str_eq(err.message, cases[i].message);
        core_config_release(&cfg);
    }
}

Test(core_config, rejects_missing_value_and_stray_arguments)
{
    core_config cfg;
    core_err err;
    const char *a1[] = {"--template"};
    cr_assert_eq(parse(&cfg, &err, 1, a1), CORE_ERROR);
    cr_assert_str_eq(err.message, "--template: missing value");
    const char *a2[] = {"template.yaml"};
    cr_assert_eq(parse(&cfg, &err, 1, a2), CORE_ERROR);
    cr_assert_str_eq(err.message, "unexpected argument: template.yaml");
}

Test(core_config, rejects_oversized_path_without_overflow)
{
    char big[CORE_CONFIG_PATH_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    core_config cfg;
    core_err err;
    const char *argv[] = {"--data", big};
    cr_assert_eq(parse(&cfg, &err, 2, argv), CORE_ERROR);
    cr_assert_str_eq(err.message, "--data: too long");
    cr_assert_str_eq(cfg.data_dir, ".shoplocal");
}

Test(core_config, reads_environment_variables)
{
    const char *env[] = {"SHOPLOCAL_AWS_PORT", "5000", "SHOPLOCAL_FRESH", "yes",
                         "SHOPLOCAL_TIME", "virtual", "SHOPLOCAL_DATA", "/var/tmp/x", NULL};
    core_config cfg;
    core_config_defaults(&cfg);
    core_err err;
    cr_assert_eq(core_config_from_env(&cfg, fake_env, env, &err), CORE_OK);
    cr_assert_eq(cfg.aws_port, 5000);
    cr_assert_eq(cfg.fresh, 1);
    cr_assert_eq(cfg.time_mode, CORE_CLOCK_VIRTUAL);
    cr_assert_str_eq(cfg.data_dir, "/var/tmp/x");
}

Test(core_config, flags_override_environment)
{
    const char *env[] = {"SHOPLOCAL_AWS_PORT", "5000", NULL};
    core_config cfg;
    core_config_defaults(&cfg);
    core_err err;
    cr_assert_eq(core_config_from_env(&cfg, fake_env, env, &err), CORE_OK);
    const char *argv[] = {"--aws-port", "6000"};
    cr_assert_eq(core_config_parse_args(&cfg, 2, (char **)argv, &err), CORE_OK);
    cr_assert_eq(cfg.aws_port, 6000);
}

Test(core_config, names_the_variable_in_environment_errors)
{
    const char *env[] = {"SHOPLOCAL_WEB_PORT", "http", NULL};
    core_config cfg;
    core_config_defaults(&cfg);
    core_err err;
    cr_assert_eq(core_config_from_env(&cfg, fake_env, env, &err), CORE_ERROR);
    cr_assert_str_eq(err.message, "SHOPLOCAL_WEB_PORT: not a port: http");
}

Test(core_config, caps_repeated_parameters)
{
    core_config cfg;
    core_config_defaults(&cfg);
    core_err err;
    const char *argv[2] = {"--parameter", "K=V"};
    int rc = CORE_OK;
    for (int i = 0; i <= CORE_CONFIG_MAX_PARAMS && rc == CORE_OK; i++)
        rc = core_config_parse_args(&cfg, 2, (char **)argv, &err);
    cr_assert_eq(rc, CORE_ERROR);
    cr_assert_eq(cfg.n_params, CORE_CONFIG_MAX_PARAMS);
    core_config_release(&cfg);
}

Test(core_config, usage_lists_every_flag_and_variable)
{
    char buf[4096];
    core_config_usage(buf, sizeof buf);
    const char *expect[] = {"--template", "--data", "--fresh", "--seed", "--web-port",
                            "--aws-port", "--stripe-port", "--host", "--log-level", "--time",
                            "SHOPLOCAL_AWS_PORT", "SHOPLOCAL_TIME"};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        cr_assert(strstr(buf, expect[i]), "usage lacks %s", expect[i]);
}
