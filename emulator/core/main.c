/*
 * main.c — the `shoplocal` command line.
 *
 *   shoplocal serve [flags]    start the emulator (flags: shoplocal --help)
 *   shoplocal --help | --version
 *
 * Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 when start-up fails
 * (port in use, bad template), 2 for a bad command line.
 *
 * Signals are blocked in every thread before any is created, and the main
 * thread waits for them with sigwait: no async-signal-safety puzzles, and the
 * shutdown runs on an ordinary thread.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/emulator.h"
#include "core/log.h"

static void usage(FILE *out)
{
    char flags[4096];
    core_config_usage(flags, sizeof flags);
    fprintf(out,
            "shoplocal %s — the serverless shop, and a local AWS to run it on\n"
            "\n"
            "usage: shoplocal serve [flags]\n"
            "       shoplocal --help | --version\n"
            "\n"
            "serve flags (each also read from its SHOPLOCAL_* variable; flags win):\n%s",
            SHOPLOCAL_VERSION, flags);
}

static int serve(int argc, char **argv)
{
    int64_t t0 = core_clock_monotonic_us();
    core_config cfg;
    core_config_defaults(&cfg);
    core_err err;
    core_err_clear(&err);
    if (core_config_from_env(&cfg, NULL, NULL, &err) != CORE_OK ||
        core_config_parse_args(&cfg, argc, argv, &err) != CORE_OK) {
        fprintf(stderr, "shoplocal: %s\n", err.message);
        core_config_release(&cfg);
        return 2;
    }
    core_log_setup(cfg.log_level, stderr);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    core_emulator *emu = NULL;
    if (core_emulator_start(&cfg, &emu, &err) != CORE_OK) {
        fprintf(stderr, "shoplocal: %s\n", err.message);
        core_config_release(&cfg);
        return err.status == 2 ? 2 : 1;
    }
    double ready_ms = (double)(core_clock_monotonic_us() - t0) / 1000.0;
    const char *aws = core_emulator_url(emu, "aws");
    printf("shoplocal %s ready in %.1f ms\n"
           "  web     %s\n"
           "  aws     %s\n"
           "  stripe  %s\n"
           "  health  %s/_shoplocal/health\n",
           SHOPLOCAL_VERSION, ready_ms, core_emulator_url(emu, "web"), aws,
           core_emulator_url(emu, "stripe"), aws);
    /* Services' lines (the demo logins) come before "data", the line that
     * tells a waiting test harness the banner is complete. */
    for (size_t i = 0; i < core_emulator_note_count(emu); i++)
        printf("  %s\n", core_emulator_note_at(emu, i));
    printf("  data    %s\n", cfg.data_dir);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    core_log(CORE_LOG_INFO, "core", NULL, "received %s, shutting down",
             sig == SIGINT ? "SIGINT" : "SIGTERM");
    core_emulator_stop(emu, 10000);
    core_log(CORE_LOG_INFO, "core", NULL, "stopped cleanly");
    core_config_release(&cfg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("shoplocal %s\n", SHOPLOCAL_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "serve")) {
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                usage(stdout);
                return 0;
            }
        }
        return serve(argc - 2, argv + 2);
    }
    fprintf(stderr, "shoplocal: unknown command %s (try shoplocal --help)\n", argv[1]);
    return 2;
}
