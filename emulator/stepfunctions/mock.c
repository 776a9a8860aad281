/*
 * mock.c — mocked service integrations in AWS Step Functions Local's format
 * ("Using mocked service integrations for testing in Step Functions Local"),
 * and the seeded chaos mode.
 *
 *   {"StateMachines": {"<machine name>": {"TestCases": {"<case>": {"<state>":
 *        "<mocked response name>"}}}},
 *    "MockedResponses": {"<name>": {"0": {"Return": <result>},
 *        "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}
 *
 * A test case is chosen by starting an execution on "<machine ARN>#<case>".
 * Each invocation of a mocked state within one execution (a retry, or the
 * state entered again) takes the next attempt number, 0-based; the key "N" or
 * the inclusive range "N-M" that holds it answers. Past the last key the last
 * response answers again (Step Functions Local's documents leave it open; the
 * last answer repeating keeps a retried mock stable). A state of the test
 * case that is not mocked runs its real integration, as Step Functions Local
 * does. A Return is the task's result as the integration would give it (for
 * lambda:invoke: {"StatusCode": 200, "Payload": ...}); a Throw is the state's
 * error and cause.
 *
 * Chaos: a spec {"seed": N, "rules": [{"state": "<name>" | "function":
 * "<name or ARN>", "error": p, "timeout": p, "throttle": p}]} makes matching
 * invocations fail with probability p: error -> States.TaskFailed-matching
 * "Chaos.InjectedError", timeout -> States.Timeout, throttle ->
 * Lambda.TooManyRequestsException. Each decision draws from a PRNG keyed by
 * (seed, execution name, state, attempt), so the same execution name fails the
 * same way every time, whatever else runs beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stepfunctions/sfn_impl.h"

/* The config compiled once at load, so that an execution finds its test case
 * once and a state's answer with a few string comparisons: the ranges parsed,
 * each response's fallback (the key with the largest upper bound, the first of
 * equals, which answers past the last key) chosen. Pointers into root. */
typedef struct mock_attempt {
    long lo, hi;
    const cJSON *ret, *thr;
} mock_attempt;

typedef struct mock_response {
    mock_attempt *attempts;
    size_t n, fallback;
} mock_response;

struct sfn_mock_state {
    const char *state;
    const mock_response *response;
};

struct sfn_mock_case {
    const char *machine, *name;
    sfn_mock_state *states;
    size_t n;
};

struct sfn_mocks {
    cJSON *root;
    mock_response *responses; /* in MockedResponses order */
    size_t n_responses;
    sfn_mock_case *cases;
    size_t n_cases;
};

static int shape_error(core_err *err, const char *what)
{
    return core_err_set(err, 400, "InvalidMockConfig", "mock config: %s", what);
}

/* Parse "N" or "N-M" (decimal, N <= M). 0 on success. */
static int parse_range(const char *key, long *lo, long *hi)
{
    char *end;
    long a = strtol(key, &end, 10);
    if (end == key || a < 0)
        return -1;
    long b = a;
    if (*end == '-') {
        const char *p = end + 1;
        b = strtol(p, &end, 10);
        if (end == p || b < a)
            return -1;
    }
    if (*end)
        return -1;
    *lo = a;
    *hi = b;
    return 0;
}

static const mock_response *response_named(const sfn_mocks *mk, const char *name)
{
    const cJSON *r;
    size_t i = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(mk->root, "MockedResponses"))
    {
        if (r->string && !strcmp(r->string, name))
            return &mk->responses[i];
        i++;
    }
    return NULL;
}

/* Build mk's index of root (validated: every key a range, every state's name a
 * response), taking root. 0, or -1 out of memory. */
static int compile(sfn_mocks *mk, cJSON *root)
{
    mk->root = root;
    const cJSON *responses = cJSON_GetObjectItemCaseSensitive(root, "MockedResponses");
    size_t nr = (size_t)cJSON_GetArraySize(responses);
    mk->responses = calloc(nr + 1, sizeof *mk->responses);
    if (!mk->responses)
        return -1;
    mk->n_responses = nr;
    const cJSON *r;
    size_t i = 0;
    cJSON_ArrayForEach(r, responses)
    {
        mock_response *mr = &mk->responses[i++];
        size_t na = (size_t)cJSON_GetArraySize(r);
        if (!(mr->attempts = calloc(na + 1, sizeof *mr->attempts)))
            return -1;
        const cJSON *a;
        long last_hi = -1;
        cJSON_ArrayForEach(a, r)
        {
            mock_attempt *at = &mr->attempts[mr->n];
            if (parse_range(a->string, &at->lo, &at->hi) != 0)
                continue;
            at->ret = cJSON_GetObjectItemCaseSensitive(a, "Return");
            at->thr = cJSON_GetObjectItemCaseSensitive(a, "Throw");
            if (at->hi > last_hi) {
                last_hi = at->hi;
                mr->fallback = mr->n;
            }
            mr->n++;
        }
    }
    const cJSON *m, *tc, *st;
    size_t nc = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "StateMachines"))
    {
        nc += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "TestCases"));
    }
    if (!(mk->cases = calloc(nc + 1, sizeof *mk->cases)))
        return -1;
    const cJSON *machines = cJSON_GetObjectItemCaseSensitive(root, "StateMachines");
    cJSON_ArrayForEach(m, machines)
    {
        /* a repeated machine name: the first one answers (as a key search finds it) */
        if (!m->string || cJSON_GetObjectItemCaseSensitive(machines, m->string) != m)
            continue;
        cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(m, "TestCases"))
        {
            sfn_mock_case *c = &mk->cases[mk->n_cases++];
            c->machine = m->string ? m->string : "";
            c->name = tc->string ? tc->string : "";
            if (!(c->states = calloc((size_t)cJSON_GetArraySize(tc) + 1, sizeof *c->states)))
                return -1;
            cJSON_ArrayForEach(st, tc)
            {
                if (!st->string || !cJSON_IsString(st))
                    continue;
                c->states[c->n].state = st->string;
                c->states[c->n].response = response_named(mk, st->valuestring);
                c->n++;
            }
        }
    }
    return 0;
}

int sfn_mocks_parse(const char *text, size_t len, sfn_mocks **out, core_err *err)
{
    *out = NULL;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return shape_error(err, "not a JSON object");
    }
    const cJSON *machines = cJSON_GetObjectItemCaseSensitive(root, "StateMachines");
    const cJSON *responses = cJSON_GetObjectItemCaseSensitive(root, "MockedResponses");
    if ((machines && !cJSON_IsObject(machines)) || (responses && !cJSON_IsObject(responses))) {
        cJSON_Delete(root);
        return shape_error(err, "StateMachines and MockedResponses must be objects");
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, machines)
    {
        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(m, "TestCases");
        if (!cJSON_IsObject(cases)) {
            core_err_set(err, 400, "InvalidMockConfig",
                         "mock config: StateMachines.%.100s.TestCases must be an object",
                         m->string);
            cJSON_Delete(root);
            return CORE_ERROR;
        }
        const cJSON *tc;
        cJSON_ArrayForEach(tc, cases)
        {
            const cJSON *st;
            cJSON_ArrayForEach(st, tc)
            {
                if (!cJSON_IsString(st) ||
                    !cJSON_GetObjectItemCaseSensitive(responses, st->valuestring)) {
                    core_err_set(err, 400, "InvalidMockConfig",
                                 "mock config: test case %.100s, state %.100s: no such mocked "
                                 "response", tc->string, st->string);
                    cJSON_Delete(root);
                    return CORE_ERROR;
                }
            }
        }
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, responses)
    {
        const cJSON *attempt;
        if (!cJSON_IsObject(r) || !r->child) {
            core_err_set(err, 400, "InvalidMockConfig",
                         "mock config: MockedResponses.%.100s must be a non-empty object",
                         r->string);
            cJSON_Delete(root);
            return CORE_ERROR;
        }
        cJSON_ArrayForEach(attempt, r)
        {
            long lo, hi;
            const cJSON *ret = cJSON_GetObjectItemCaseSensitive(attempt, "Return");
            const cJSON *thr = cJSON_GetObjectItemCaseSensitive(attempt, "Throw");
            int ok = parse_range(attempt->string, &lo, &hi) == 0 && (!ret != !thr) &&
                     (!thr || cJSON_IsString(cJSON_GetObjectItemCaseSensitive(thr, "Error")));
            if (!ok) {
                core_err_set(err, 400, "InvalidMockConfig",
                             "mock config: MockedResponses.%.100s.%.40s: expected a key \"N\" or "
                             "\"N-M\" holding {\"Return\": ...} or {\"Throw\": {\"Error\", "
                             "\"Cause\"}}", r->string, attempt->string);
                cJSON_Delete(root);
                return CORE_ERROR;
            }
        }
    }
    sfn_mocks *mk = calloc(1, sizeof *mk);
    if (!mk || compile(mk, root) != 0) {
        sfn_mocks_free(mk);
        if (!mk)
            cJSON_Delete(root);
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    }
    *out = mk;
    return CORE_OK;
}

int sfn_mocks_load_file(const char *path, sfn_mocks **out, core_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return core_err_set(err, 2, "InvalidArgument", "--mock-config: cannot open %s", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= (16u << 20)) {
                free(buf);
                fclose(f);
                return core_err_set(err, 2, "InvalidArgument", "--mock-config: %s is over 16 MiB",
                                    path);
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    int rc = sfn_mocks_parse(buf, len, out, err);
    free(buf);
    if (rc != CORE_OK) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s", err->message);
        core_err_set(err, 2, "InvalidArgument", "--mock-config %s: %s", path, msg);
    }
    return rc;
}

void sfn_mocks_free(sfn_mocks *mocks)
{
    if (!mocks)
        return;
    for (size_t i = 0; mocks->responses && i < mocks->n_responses; i++)
        free(mocks->responses[i].attempts);
    free(mocks->responses);
    for (size_t i = 0; mocks->cases && i < mocks->n_cases; i++)
        free(mocks->cases[i].states);
    free(mocks->cases);
    cJSON_Delete(mocks->root);
    free(mocks);
}

const sfn_mock_case *sfn_mocks_case(const sfn_mocks *mocks, const char *machine,
                                    const char *name)
{
    if (!mocks || !machine || !name)
        return NULL;
    /* the first case of that name of the machine (compile kept only the first
     * machine of a name), as a key search would find it */
    for (size_t i = 0; i < mocks->n_cases; i++) {
        const sfn_mock_case *c = &mocks->cases[i];
        if (!strcmp(c->machine, machine) && !strcmp(c->name, name))
            return c;
    }
    return NULL;
}

const sfn_mock_state *sfn_mock_case_state(const sfn_mock_case *c, const char *state)
{
    for (size_t i = 0; c && state && i < c->n; i++)
        if (!strcmp(c->states[i].state, state))
            /* parse refused a state naming no response and responses without keys:
             * a state found here always answers (1 or 2) */
            return c->states[i].response && c->states[i].response->n ? &c->states[i] : NULL;
    return NULL;
}

int sfn_mock_state_answer(const sfn_mock_state *st, int attempt, int share, cJSON **result,
                          core_err *err)
{
    *result = NULL;
    const mock_response *mr = st ? st->response : NULL;
    if (!mr || !mr->n)
        return 0;
    const mock_attempt *pick = &mr->attempts[mr->fallback];
    for (size_t i = 0; i < mr->n; i++)
        if (attempt >= mr->attempts[i].lo && attempt <= mr->attempts[i].hi) {
            pick = &mr->attempts[i];
            break;
        }
    if (pick->thr) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(pick->thr, "Error");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(pick->thr, "Cause");
        core_err_set(err, 400, cJSON_IsString(e) ? e->valuestring : "States.TaskFailed", "%s",
                     cJSON_IsString(c) ? c->valuestring : "");
        return 2;
    }
    const cJSON *ret = pick->ret;
    if (share && cJSON_IsObject(ret))
        *result = cJSON_CreateObjectReference(ret->child);
    else if (share && cJSON_IsArray(ret))
        *result = cJSON_CreateArrayReference(ret->child);
    else
        *result = cJSON_Duplicate(ret, 1);
    if (!*result)
        *result = cJSON_CreateNull();
    return 1;
}

int sfn_mocks_has_case(const sfn_mocks *mocks, const char *machine, const char *name)
{
    return sfn_mocks_case(mocks, machine, name) != NULL;
}

int sfn_mocks_is_mocked(const sfn_mocks *mocks, const char *machine, const char *name,
                        const char *state)
{
    return sfn_mock_case_state(sfn_mocks_case(mocks, machine, name), state) != NULL;
}

int sfn_mocks_answer(const sfn_mocks *mocks, const char *machine, const char *name,
                     const char *state, int attempt, cJSON **result, core_err *err)
{
    return sfn_mock_state_answer(sfn_mock_case_state(sfn_mocks_case(mocks, machine, name), state),
                                 attempt, 0, result, err);
}

int sfn_mocks_answer_shared(const sfn_mocks *mocks, const char *machine, const char *name,
                            const char *state, int attempt, cJSON **result, core_err *err)
{
    return sfn_mock_state_answer(sfn_mock_case_state(sfn_mocks_case(mocks, machine, name), state),
                                 attempt, 1, result, err);
}

/* ---- chaos ------------------------------------------------------------------------- */

typedef struct chaos_rule {
    char *state, *function;
    double error, timeout, throttle;
} chaos_rule;

struct sfn_chaos {
    unsigned long long seed;
    chaos_rule *rules;
    size_t n;
};

/* FNV-1a over the key, then splitmix64 to spread it. */
static unsigned long long mix(unsigned long long h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
    return h;
}

double sfn_chaos_draw(unsigned long long seed, const char *exec_name, const char *state,
                      int attempt)
{
    char num[24];
    snprintf(num, sizeof num, "%d", attempt);
    unsigned long long h = 14695981039346656037ULL ^ seed;
    h = mix(mix(mix(h, exec_name), state), num);
    h += 0x9e3779b97f4a7c15ULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return (double)(h >> 11) / 9007199254740992.0;
}

static double prob(const cJSON *r, const char *name)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, name);
    return cJSON_IsNumber(p) ? p->valuedouble : 0;
}

int sfn_chaos_parse(const cJSON *spec, sfn_chaos **out, core_err *err)
{
    *out = NULL;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(spec, "seed");
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(spec, "rules");
    if (!cJSON_IsObject(spec) || !cJSON_IsNumber(seed) || !cJSON_IsArray(rules))
        return core_err_set(err, 400, "InvalidChaosSpec",
                            "chaos: expected {\"seed\": N, \"rules\": [...]}");
    sfn_chaos *c = calloc(1, sizeof *c);
    if (!c)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    c->seed = (unsigned long long)seed->valuedouble;
    c->rules = calloc((size_t)cJSON_GetArraySize(rules) + 1, sizeof *c->rules);
    const cJSON *r;
    cJSON_ArrayForEach(r, rules)
    {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "state");
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(r, "function");
        double e = prob(r, "error"), t = prob(r, "timeout"), th = prob(r, "throttle");
        if ((!cJSON_IsString(st) && !cJSON_IsString(fn)) || e < 0 || t < 0 || th < 0 ||
            e + t + th > 1) {
            sfn_chaos_free(c);
            return core_err_set(err, 400, "InvalidChaosSpec",
                                "chaos: each rule names a \"state\" or \"function\" and "
                                "probabilities error/timeout/throttle in [0,1] summing to <= 1");
        }
        chaos_rule *cr = &c->rules[c->n++];
        cr->state = cJSON_IsString(st) ? strdup(st->valuestring) : NULL;
        cr->function = cJSON_IsString(fn) ? strdup(fn->valuestring) : NULL;
        cr->error = e;
        cr->timeout = t;
        cr->throttle = th;
    }
    *out = c;
    return CORE_OK;
}

void sfn_chaos_free(sfn_chaos *chaos)
{
    if (!chaos)
        return;
    for (size_t i = 0; i < chaos->n; i++) {
        free(chaos->rules[i].state);
        free(chaos->rules[i].function);
    }
    free(chaos->rules);
    free(chaos);
}

static int function_matches(const char *rule, const char *fn)
{
    if (!fn)
        return 0;
    if (!strcmp(rule, fn))
        return 1;
    const char *colon = strrchr(fn, ':'); /* an ARN's last field is the name */
    return colon && !strcmp(rule, colon + 1);
}

int sfn_chaos_decide(const sfn_chaos *chaos, const char *exec_name, const char *state,
                     const char *function, int attempt, core_err *err)
{
    if (!chaos)
        return 0;
    for (size_t i = 0; i < chaos->n; i++) {
        const chaos_rule *r = &chaos->rules[i];
        if (r->state ? strcmp(r->state, state) != 0 : !function_matches(r->function, function))
            continue;
        double x = sfn_chaos_draw(chaos->seed, exec_name, state, attempt);
        if (x < r->error) {
            core_err_set(err, 400, "Chaos.InjectedError",
                         "{\"errorMessage\":\"chaos: injected error\",\"errorType\":"
                         "\"Chaos.InjectedError\",\"stackTrace\":[]}");
            return 1;
        }
        if (x < r->error + r->timeout) {
            core_err_set(err, 400, "States.Timeout", "chaos: injected timeout");
            return 1;
        }
        if (x < r->error + r->timeout + r->throttle) {
            core_err_set(err, 400, "Lambda.TooManyRequestsException",
                         "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: "
                         "TooManyRequestsException; Request ID: chaos; Proxy: null)");
            return 1;
        }
        return 0;
    }
    return 0;
}
