/*
 * aws.c — the handlers' AWS client (aws.h). First cut: the interface compiles
 * and links everywhere; every call answers "not implemented" until the SigV4
 * and libcurl parts land.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/aws.h"

struct aws_client {
    int unused;
};

static void not_implemented(aws_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    snprintf(err->type, sizeof err->type, "NotImplemented");
    snprintf(err->message, sizeof err->message, "the AWS client is not implemented yet");
}

aws_client *aws_client_new(aws_getenv_fn getenv_fn, void *env_ctx)
{
    (void)getenv_fn;
    (void)env_ctx;
    return calloc(1, sizeof(aws_client));
}

void aws_client_free(aws_client *client)
{
    free(client);
}

int aws_json_call(aws_client *client, const char *service, const char *target,
                  const cJSON *body, cJSON **out, aws_error *err)
{
    (void)client;
    (void)service;
    (void)target;
    (void)body;
    if (out)
        *out = NULL;
    not_implemented(err);
    return -1;
}

char *aws_secret_string(aws_client *client, const char *secret_id, long long ttl_ms,
                        aws_error *err)
{
    (void)client;
    (void)secret_id;
    (void)ttl_ms;
    not_implemented(err);
    return NULL;
}

char *aws_s3_presign(aws_client *client, const char *method, const char *bucket,
                     const char *key, int expires_s, const char *content_type, aws_error *err)
{
    (void)client;
    (void)method;
    (void)bucket;
    (void)key;
    (void)expires_s;
    (void)content_type;
    not_implemented(err);
    return NULL;
}
