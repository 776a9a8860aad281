/*
 * fault.c — the fault injection rules. See fault.h.
 *
 * Few rules, checked by every request of the services that honour them: a linear
 * scan under one mutex. Probabilities draw from a splitmix64 generator seeded at
 * start-up, so a chaos run replays exactly from its seed.
 */
#include "core/fault.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_MAX 64

typedef struct fault_rule {
    int id;
    char service[32], operation[64], resource[256], error[96], message[256];
    int status;
    long long count;     /* remaining; -1 = unlimited (probability rule) */
    double probability;  /* 0..1 when count == -1 */
    long long fired;
} fault_rule;

struct core_faults {
    pthread_mutex_t lock;
    fault_rule rules[FAULT_MAX];
    size_t n;
    int next_id;
    uint64_t rng;
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

core_faults *core_faults_new(unsigned long long seed)
{
    core_faults *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    pthread_mutex_init(&f->lock, NULL);
    f->next_id = 1;
    f->rng = seed;
    return f;
}

void core_faults_free(core_faults *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static int copy_field(const cJSON *rule, const char *name, char *out, size_t len, int required,
                      core_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rule, name);
    if (!v) {
        out[0] = '\0';
        return required ? core_err_set(err, 400, "ValidationException",
                                       "fault rule: \"%s\" is required", name)
                        : CORE_OK;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
        return core_err_set(err, 400, "ValidationException",
                            "fault rule: \"%s\" must be a string shorter than %zu", name, len);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return CORE_OK;
}

int core_faults_add(core_faults *f, const cJSON *rule, core_err *err)
{
    if (!cJSON_IsObject(rule))
        return core_err_set(err, 400, "ValidationException", "fault rule: must be an object");
    fault_rule r;
    memset(&r, 0, sizeof r);
    if (copy_field(rule, "service", r.service, sizeof r.service, 1, err) != CORE_OK ||
        copy_field(rule, "operation", r.operation, sizeof r.operation, 0, err) != CORE_OK ||
        copy_field(rule, "resource", r.resource, sizeof r.resource, 0, err) != CORE_OK ||
        copy_field(rule, "error", r.error, sizeof r.error, 1, err) != CORE_OK ||
        copy_field(rule, "message", r.message, sizeof r.message, 0, err) != CORE_OK)
        return CORE_ERROR;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(rule, "status");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(rule, "count");
    const cJSON *prob = cJSON_GetObjectItemCaseSensitive(rule, "probability");
    r.status = cJSON_IsNumber(status) ? status->valueint : 400;
    if (r.status < 400 || r.status > 599)
        return core_err_set(err, 400, "ValidationException", "fault rule: status must be 4xx/5xx");
    if (count && prob)
        return core_err_set(err, 400, "ValidationException",
                            "fault rule: give \"count\" or \"probability\", not both");
    if (prob) {
        if (!cJSON_IsNumber(prob) || prob->valuedouble < 0 || prob->valuedouble > 1)
            return core_err_set(err, 400, "ValidationException",
                                "fault rule: probability must be a number in 0..1");
        r.count = -1;
        r.probability = prob->valuedouble;
    } else if (count) {
        if (!cJSON_IsNumber(count) || count->valuedouble < 1 || count->valuedouble > 1e9)
            return core_err_set(err, 400, "ValidationException",
                                "fault rule: count must be a number in 1..1e9");
        r.count = (long long)count->valuedouble;
    } else {
        r.count = 1;
    }
    pthread_mutex_lock(&f->lock);
    if (f->n >= FAULT_MAX) {
        pthread_mutex_unlock(&f->lock);
        return core_err_set(err, 400, "LimitExceededException", "at most %d fault rules",
                            FAULT_MAX);
    }
    r.id = f->next_id++;
    f->rules[f->n++] = r;
    pthread_mutex_unlock(&f->lock);
    return r.id;
}

void core_faults_clear(core_faults *f)
{
    pthread_mutex_lock(&f->lock);
    f->n = 0;
    pthread_mutex_unlock(&f->lock);
}

cJSON *core_faults_list(core_faults *f)
{
    cJSON *list = cJSON_CreateArray();
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        const fault_rule *r = &f->rules[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", r->id);
        cJSON_AddStringToObject(o, "service", r->service);
        if (r->operation[0])
            cJSON_AddStringToObject(o, "operation", r->operation);
        if (r->resource[0])
            cJSON_AddStringToObject(o, "resource", r->resource);
        cJSON_AddStringToObject(o, "error", r->error);
        cJSON_AddNumberToObject(o, "status", r->status);
        if (r->count >= 0)
            cJSON_AddNumberToObject(o, "remaining", (double)r->count);
        else
            cJSON_AddNumberToObject(o, "probability", r->probability);
        cJSON_AddNumberToObject(o, "fired", (double)r->fired);
        cJSON_AddItemToArray(list, o);
    }
    pthread_mutex_unlock(&f->lock);
    return list;
}

int core_fault_check(core_faults *f, const char *service, const char *operation,
                     const char *resource, core_err *err)
{
    if (!f)
        return 0;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        fault_rule *r = &f->rules[i];
        if (strcmp(r->service, service) != 0 ||
            (r->operation[0] && (!operation || strcmp(r->operation, operation) != 0)) ||
            (r->resource[0] && (!resource || strcmp(r->resource, resource) != 0)))
            continue;
        int fire;
        if (r->count >= 0) {
            fire = r->count > 0;
            if (fire)
                r->count--;
        } else {
            double draw = (double)(splitmix64(&f->rng) >> 11) / 9007199254740992.0;
            fire = draw < r->probability;
        }
        if (!fire)
            continue;
        r->fired++;
        core_err_set(err, r->status, r->error, "%s",
                     r->message[0] ? r->message : "Injected fault (shoplocal fault rule)");
        pthread_mutex_unlock(&f->lock);
        return 1;
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}
