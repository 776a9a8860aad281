/*
 * sfn_inproc.c — the Step Functions interpreter alone, in-process, for make bench:
 * run the order saga (its tasks mocked to succeed) N times to its end, one after
 * another, on a real stepfunctions.db in a temporary folder (every execution is
 * persisted with its history, as under `shoplocal serve`), and print
 * {"executions": N, "seconds": S, "rps": R}. The same work as aws-local-stepfunctions
 * does in-process (plus the SQLite writes it does not do), without HTTP.
 *
 *   sfn_inproc [--input JSON] DEFINITION.json MOCK.json MACHINE_NAME TEST_CASE SECONDS DATA_DIR
 *              [sync|value [THREADS]]
 *
 * --input: each execution's input (default {"orderId": "o-bench", "total": 1999});
 * make bench passes the same document the peer and the HTTP runs get.
 * SECONDS may instead be "n=COUNT": run exactly COUNT executions (per thread),
 * whatever time they take — the load-independent form for callgrind, whose
 * instruction total divided by COUNT is the cost of one execution.
 * With "sync", each execution runs as StartSyncExecution runs an Express one:
 * ephemeral, nothing written, the machine's compiled definition held
 * (sfn_runtime_definition) as the wire holds it per machine. THREADS (default 1) such loops run at once on one
 * runtime, as the emulator's HTTP threads (--threads, one per core) run the
 * StartSyncExecution requests of concurrent clients; "rps" is their sum.
 * "value" runs as "sync" does, but on values, as aws-local-stepfunctions' API
 * is called (sm.run(object) -> object): the input parsed once, each execution
 * given the tree (sfn_runtime_run_value copies it, as an execution consumes
 * its input) and answering its output as a tree, whose "notification" is
 * checked as the peer's bench checks it — no JSON text on either side.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/store.h"
#include "stepfunctions/sfn_impl.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

typedef struct sync_loop {
    sfn_runtime *rt;
    const sfn_definition *compiled; /* as the wire holds it per machine */
    char *def, *machine, *test_case; /* the row's (not const in sfn_exec_row) */
    const char *start, *input;
    core_clock *clk;
    int64_t end;
    long count; /* > 0: stop after this many instead of at end */
    const cJSON *value; /* "value" mode: the parsed input */
    int id;
    long n;
    int failed;
} sync_loop;

/* One Express execution: 0 when it succeeded (with a notification, on values). */
static int run_one(sfn_runtime *rt, const sfn_definition *compiled, const sfn_exec_row *row,
                   const char *start, const cJSON *value, core_err *err)
{
    sfn_exec_row out;
    cJSON *output = NULL;
    int rc = value ? sfn_runtime_run_value(rt, compiled, row, value, start, &out, &output, err)
                   : sfn_runtime_run_ephemeral_def(rt, compiled, row, start, &out, err);
    int ok = rc == CORE_OK && out.status && !strcmp(out.status, "SUCCEEDED") &&
             (!value || cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(output, "notification")));
    if (!ok)
        fprintf(stderr, "execution failed: %s\n", out.error ? out.error : err->message);
    cJSON_Delete(output);
    if (rc == CORE_OK)
        sfn_exec_row_release(&out);
    return ok ? 0 : -1;
}

/* Express executions one after another until l->end (a thread of the sync mode). */
static void *sync_main(void *arg)
{
    sync_loop *l = arg;
    char name[48], arn[256];
    core_err err;
    while (l->count > 0 ? l->n < l->count : core_clock_monotonic_us() < l->end) {
        snprintf(name, sizeof name, "t%d-e%ld", l->id, l->n);
        sfn_exec_arn("us-east-1", l->machine, name, 0, arn, sizeof arn);
        sfn_exec_row row = {.arn = arn, .machine_arn = "arn:aws:states:us-east-1:000000000000:"
                                                       "stateMachine:bench",
                            .machine_name = l->machine, .name = name,
                            .input = (char *)l->input, .definition = l->def,
                            .role_arn = "arn:aws:iam::000000000000:role/r",
                            .type = "EXPRESS", .test_case = l->test_case,
                            .start_ms = core_clock_now_ms(l->clk)};
        if (run_one(l->rt, l->compiled, &row, l->start, l->value, &err) != 0) {
            l->failed = 1;
            return NULL;
        }
        l->n++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *input = "{\"orderId\": \"o-bench\", \"total\": 1999}";
    if (argc > 2 && !strcmp(argv[1], "--input")) {
        input = argv[2];
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    int value = (argc == 8 || argc == 9) && !strcmp(argv[7], "value");
    int sync = value || ((argc == 8 || argc == 9) && !strcmp(argv[7], "sync"));
    int threads = argc == 9 ? atoi(argv[8]) : 1;
    if ((argc != 7 && !sync) || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: %s [--input JSON] DEFINITION MOCK MACHINE CASE SECONDS|n=COUNT "
                        "DATA_DIR [sync|value [THREADS]]\n", argv[0]);
        return 2;
    }
    char *def = slurp(argv[1]), *mock = slurp(argv[2]);
    core_err err;
    sfn_model *model;
    sfn_mocks *mocks;
    if (!def || !mock || core_data_dir_prepare(argv[6], 0, &err) != CORE_OK ||
        sfn_model_open(argv[6], &model, &err) != CORE_OK ||
        sfn_mocks_parse(mock, strlen(mock), &mocks, &err) != CORE_OK) {
        fprintf(stderr, "setup failed: %s\n", err.message);
        return 1;
    }
    core_clock *clk = core_clock_new(CORE_CLOCK_VIRTUAL, 0);
    sfn_runtime_opts o = {.model = model, .clock = clk, .workers = 1, .mocks = mocks};
    sfn_runtime *rt = sfn_runtime_new(&o);
    cJSON *d = cJSON_Parse(def);
    cJSON *parsed = value ? cJSON_Parse(input) : NULL; /* once, as the peer's bench does */
    if (value && !parsed) {
        fprintf(stderr, "--input is not JSON\n");
        return 2;
    }
    const char *start = cJSON_GetObjectItemCaseSensitive(d, "StartAt")->valuestring;
    /* StartSyncExecution finds the machine's compiled definition by the machine
     * (the wire's per-machine cache), not by comparing its text: the same here */
    const sfn_definition *compiled = sfn_runtime_definition(rt, def);
    long count = !strncmp(argv[5], "n=", 2) ? atol(argv[5] + 2) : 0;
    double seconds = count > 0 ? 1e9 : atof(argv[5]);
    int64_t t0 = core_clock_monotonic_us(), end = t0 + (int64_t)(seconds * 1e6);
    long n = 0;
    char name[32], arn[256];
    if (sync && threads > 1) {
        pthread_t th[64];
        sync_loop loops[64];
        int failed = 0;
        for (int i = 0; i < threads; i++) {
            loops[i] = (sync_loop){.rt = rt, .compiled = compiled, .def = def, .machine = argv[3], .test_case = argv[4],
                                   .start = start, .input = input, .clk = clk, .end = end,
                                   .count = count, .id = i, .value = parsed};
            if (pthread_create(&th[i], NULL, sync_main, &loops[i]) != 0) {
                fprintf(stderr, "pthread_create failed\n");
                return 1;
            }
        }
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            n += loops[i].n;
            failed |= loops[i].failed;
        }
        if (failed)
            return 1;
        end = 0; /* the loop below has nothing left to do */
    }
    while (count > 0 && end ? n < count : core_clock_monotonic_us() < end) {
        snprintf(name, sizeof name, "e%ld", n);
        sfn_exec_arn("us-east-1", argv[3], name, 0, arn, sizeof arn);
        sfn_exec_row row = {.arn = arn, .machine_arn = "arn:aws:states:us-east-1:000000000000:"
                                                       "stateMachine:bench",
                            .machine_name = argv[3], .name = name,
                            .input = (char *)input, .definition = def,
                            .role_arn = "arn:aws:iam::000000000000:role/r",
                            .type = "STANDARD", .test_case = argv[4],
                            .start_ms = core_clock_now_ms(clk)};
        if (sync) {
            row.type = "EXPRESS";
            if (run_one(rt, compiled, &row, start, parsed, &err) != 0)
                return 1;
        } else if (sfn_model_exec_create(model, &row, start, NULL, &err) != CORE_OK ||
                   sfn_runtime_run(rt, arn, &err) != CORE_OK) {
            fprintf(stderr, "execution failed: %s\n", err.message);
            return 1;
        }
        n++;
    }
    double took = (double)(core_clock_monotonic_us() - t0) / 1e6;
    sfn_exec_row last;
    if (!sync && (sfn_model_exec_get(model, arn, &last, &err) != CORE_OK ||
                  strcmp(last.status, "SUCCEEDED") != 0)) {
        fprintf(stderr, "the saga did not succeed\n");
        return 1;
    }
    if (!sync)
        sfn_exec_row_release(&last);
    printf("{\"executions\": %ld, \"seconds\": %.3f, \"rps\": %.1f}\n", n, took, n / took);
    sfn_runtime_definition_release(rt, compiled);
    sfn_runtime_free(rt);
    cJSON_Delete(d);
    cJSON_Delete(parsed);
    sfn_mocks_free(mocks);
    sfn_model_close(model);
    core_clock_free(clk);
    free(def);
    free(mock);
    return 0;
}
