/*
 * aws_impl.h — the pure parts of the AWS client (aws.c), exposed for its unit
 * tests: endpoint resolution, the JSON protocol's content types, error
 * parsing, and the standard retry mode's decisions. Handlers use aws.h only.
 */
#ifndef AWS_IMPL_H
#define AWS_IMPL_H

#include <stddef.h>

#include "lib/aws.h"

/* The standard retry mode's classes of failure. */
typedef enum aws_retry_kind {
    AWS_RETRY_NONE = 0,  /* not retryable: a client error, or success */
    AWS_RETRY_THROTTLE,  /* a throttling error code */
    AWS_RETRY_TRANSIENT, /* 500/502/503/504, a transient code, a transport failure */
} aws_retry_kind;

#define AWS_MAX_ATTEMPTS 3
#define AWS_BACKOFF_BASE_MS 100
#define AWS_BACKOFF_CAP_MS 20000
/* The standard mode's retry quota (botocore's RetryQuota): a bucket of 500
 * tokens; a retry costs 5 (10 after a timeout), a success gives back what its
 * retries took, or 1 when it needed none. An empty bucket stops retrying. */
#define AWS_QUOTA_MAX 500
#define AWS_QUOTA_RETRY_COST 5
#define AWS_QUOTA_TIMEOUT_COST 10

/* The suffix of AWS_ENDPOINT_URL_<SUFFIX> for a SigV4 signing name, as the
 * SDKs derive it from the service id ("secretsmanager" -> "SECRETS_MANAGER",
 * "states" -> "SFN", "email" -> "SES"), or NULL for a service not known here. */
const char *aws_service_env_suffix(const char *service);

/* The endpoint for service (signing name) in region, as the SDKs pick it:
 * AWS_ENDPOINT_URL_<SUFFIX>, else AWS_ENDPOINT_URL, else
 * https://<service>.<region>.amazonaws.com — the first two skipped when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true". Empty values count as unset;
 * a trailing "/" is dropped. *custom (if not NULL) says whether it came from a
 * variable. Returns 0, or -1 (out empty) when it does not fit or an argument
 * is missing. */
int aws_endpoint_resolve(aws_getenv_fn getenv_fn, void *env_ctx, const char *service,
                         const char *region, char *out, size_t cap, int *custom);

/* The JSON protocol's Content-Type for service: awsJson1_0
 * ("application/x-amz-json-1.0") for DynamoDB and Step Functions, awsJson1_1
 * for the others (Secrets Manager, ...). */
const char *aws_json_content_type(const char *service);

/* Fill err from an error answer: type from the body's "__type" (else the
 * x-amzn-ErrorType header, else the status as text), cut at ':' and with the
 * namespace before the last '#' stripped; message from "message" or "Message".
 * body may be NULL or not JSON. */
void aws_error_parse(int status, const char *body, size_t len, const char *error_type_header,
                     aws_error *err);

/* How the standard retry mode treats an attempt that ended with this HTTP
 * status and error type (type may be NULL), or with a transport failure. */
aws_retry_kind aws_retry_classify(int status, const char *type, int transport_failed);

/* The wait before the next attempt after `attempt` attempts (1-based) have
 * failed: full jitter, r * min(base * 2^(attempt-1), cap) with r in [0, 1). */
long aws_retry_backoff_ms(int attempt, double r);

/* Test hook: replace the client's sleep (default nanosleep) and record waits. */
void aws_client_set_sleep(aws_client *client, void (*sleep_ms)(void *ctx, long ms), void *ctx);

/* Test hook: replace the monotonic clock (ms) the secret cache reads. */
void aws_client_set_clock(aws_client *client, long long (*now_ms)(void *ctx), void *ctx);

/* Test hook: the tokens left in the client's retry quota. */
int aws_client_retry_tokens(const aws_client *client);

#endif
