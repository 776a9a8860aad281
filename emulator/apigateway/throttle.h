/*
 * throttle.h — API Gateway's throttling of an HTTP API route: a token bucket
 * of ThrottlingBurstLimit tokens refilled at ThrottlingRateLimit per second.
 *
 * Source: API Gateway developer guide, "Throttle requests to your HTTP APIs":
 * the token bucket algorithm, burst = bucket size, rate = steady requests per
 * second; a request over the limit is answered 429 {"message":"Too Many
 * Requests"} (apigw_answer). Route (DefaultRouteSettings) limits cannot go
 * beyond the account's: 10,000 requests per second with a burst of 5,000,
 * which is also what an unset limit means. The template model uses 0 for
 * "not set" (core_tpl_http_api.throttle_burst / throttle_rate), so 0 takes
 * those account values here.
 *
 * Time is passed in (epoch ms from a core_clock), never read, so tests drive
 * the bucket with virtual time and no sleeps. A bucket starts full. Time that
 * goes backwards refills nothing. Thread-safe: one bucket per route and
 * stage, shared by the listener's workers.
 */
#ifndef APIGW_THROTTLE_H
#define APIGW_THROTTLE_H

#include <stdint.h>

#define APIGW_ACCOUNT_BURST 5000
#define APIGW_ACCOUNT_RATE 10000.0

typedef struct apigw_throttle apigw_throttle;

/* A full bucket of `burst` tokens refilled at `rate` per second, as of now_ms.
 * burst <= 0 or rate <= 0 mean "not set" (the account values above). NULL on
 * allocation failure. */
apigw_throttle *apigw_throttle_new(int burst, double rate, int64_t now_ms);

/* Free; NULL is a no-op. */
void apigw_throttle_free(apigw_throttle *t);

/* Take one token at now_ms: 1 when the request may go on, 0 when it must be
 * answered 429. */
int apigw_throttle_take(apigw_throttle *t, int64_t now_ms);

#endif
