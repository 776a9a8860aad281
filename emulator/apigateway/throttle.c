/*
 * throttle.c — a token bucket per route and stage. See throttle.h.
 *
 * Tokens are kept as a double so that fractional rates (ThrottlingRateLimit
 * 0.5) refill exactly; the bucket never holds more than `burst`.
 */
#include "apigateway/throttle.h"

#include <pthread.h>
#include <stdlib.h>

struct apigw_throttle {
    pthread_mutex_t lock;
    double burst;
    double rate;   /* tokens per millisecond */
    double tokens;
    int64_t last_ms;
};

apigw_throttle *apigw_throttle_new(int burst, double rate, int64_t now_ms)
{
    apigw_throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return NULL;
    }
    t->burst = burst > 0 ? burst : APIGW_ACCOUNT_BURST;
    t->rate = (rate > 0 ? rate : APIGW_ACCOUNT_RATE) / 1000.0;
    t->tokens = t->burst;
    t->last_ms = now_ms;
    return t;
}

void apigw_throttle_free(apigw_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int apigw_throttle_take(apigw_throttle *t, int64_t now_ms)
{
    pthread_mutex_lock(&t->lock);
    if (now_ms > t->last_ms) {
        t->tokens += (double)(now_ms - t->last_ms) * t->rate;
        if (t->tokens > t->burst)
            t->tokens = t->burst;
        t->last_ms = now_ms;
    }
    /* 1e-9 absorbs rounding of fractional refills (0.1 * 10 ms != 1.0). */
    int ok = t->tokens >= 1.0 - 1e-9;
    if (ok)
        t->tokens -= 1.0;
    pthread_mutex_unlock(&t->lock);
    return ok;
}
