/*
 * aws.h — the handlers' AWS client: SigV4-signed calls over libcurl to the
 * endpoint the standard SDK variables name. No code path knows whether it talks
 * to AWS or to the emulator.
 *
 * Configuration comes from a getenv-like callback (in a handler: the
 * lambda_context's getenv), read once at aws_client_new:
 *   AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *   AWS_SESSION_TOKEN, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE> (DYNAMODB,
 *   SFN, SECRETS_MANAGER, S3, SES, SNS), else https://<service>.<region>.amazonaws.com.
 *
 * Retries: the SDKs' "standard" mode: throttling errors and 5xx/transport
 * failures retried up to 3 attempts in all, exponential backoff with full
 * jitter (base 100 ms, cap 20 s).
 *
 * Thread safety: one aws_client per thread or guarded by the caller; a client
 * reuses its curl connection between calls.
 */
#ifndef AWS_H
#define AWS_H

#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct aws_client aws_client;

typedef struct aws_error {
    int status;        /* HTTP status, or 0 for a transport failure */
    char type[128];    /* AWS error type without namespace: "ConditionalCheckFailedException" */
    char message[1024];
} aws_error;

typedef const char *(*aws_getenv_fn)(void *env_ctx, const char *name);

/* A client configured from the variables; NULL only on allocation failure. */
aws_client *aws_client_new(aws_getenv_fn getenv_fn, void *env_ctx);
void aws_client_free(aws_client *client);

/* One call of an AWS JSON protocol (awsJson1_0/1_1): DynamoDB
 * ("dynamodb", "DynamoDB_20120810.GetItem"), Step Functions ("states",
 * "AWSStepFunctions.StartExecution"), Secrets Manager ("secretsmanager",
 * "secretsmanager.GetSecretValue"). service is the SigV4 signing name; body is
 * borrowed. Returns 0 with *out the parsed answer (caller owns), or -1 with err
 * filled; on an AWS error *out is the parsed error document (caller owns; e.g.
 * a TransactionCanceledException's CancellationReasons), else NULL. */
int aws_json_call(aws_client *client, const char *service, const char *target,
                  const cJSON *body, cJSON **out, aws_error *err);

/* Secrets Manager GetSecretValue's SecretString, cached per client for ttl_ms
 * (0: no cache). Returns a new string (caller frees) or NULL with err. */
char *aws_secret_string(aws_client *client, const char *secret_id, long long ttl_ms,
                        aws_error *err);

/* A SigV4 query-presigned S3 URL (path-style on a custom endpoint,
 * virtual-hosted on AWS) for method "PUT" or "GET" of bucket/key, valid for
 * expires_s seconds (1..604800). Returns a new string (caller frees) or NULL. */
char *aws_s3_presign(aws_client *client, const char *method, const char *bucket,
                     const char *key, int expires_s, const char *content_type, aws_error *err);

/* Connect and whole-request timeouts of every attempt, in ms (defaults 3000
 * and 10000; a value <= 0 keeps the current one). */
void aws_client_set_timeouts(aws_client *client, long connect_ms, long total_ms);

/* The region the client signs for (AWS_REGION, else AWS_DEFAULT_REGION, else
 * us-east-1). Borrowed. */
const char *aws_client_region(const aws_client *client);

#endif
