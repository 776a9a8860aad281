/*
 * event.h — the payload format 2.0 event API Gateway hands a Lambda function.
 *
 * Source: API Gateway developer guide, "Create AWS Lambda proxy integrations
 * for HTTP APIs" (the 2.0 event and "Payload format differences"), and
 * WIRE.md. What this file decides, and why:
 *
 *   - Keys come in the guide's example order: version, routeKey, rawPath,
 *     rawQueryString, cookies, headers, queryStringParameters, requestContext,
 *     body, pathParameters, isBase64Encoded. Absent parts (cookies, query
 *     parameters, path parameters, body, authorizer) are left out, never
 *     null; stageVariables are not modelled and always left out.
 *   - rawPath and requestContext.http.path are the path as received, stage
 *     prefix included (a live event quoted in floci-io/floci#2172 shows
 *     rawPath "/dev/testApi" with stage "dev"). rawQueryString is as sent.
 *   - headers: names lower-cased; repeats joined with "," ("Duplicate headers
 *     are combined with commas", guide); every Cookie header goes to
 *     `cookies`, split on "; ", and not to headers.
 *   - queryStringParameters: percent-decoded and '+' read as a space (as the
 *     REST API event of aws/aws-cdk#19827 shows: "?sort=-+createdAt" arrives
 *     as "- createdAt"); repeats joined with ","; a malformed escape is kept
 *     as sent.
 *   - body: text unless binary. HTTP APIs send the body as text only for
 *     Content-Type text/(anything), application/json, application/xml and
 *     application/javascript; anything else — no Content-Type included, and
 *     even application/x-www-form-urlencoded — is base64 with
 *     isBase64Encoded true (verified against AWS in
 *     ministackorg/ministack#766; denoland/deno_registry2#33 saw the same for
 *     form posts). A "text" body that is not valid UTF-8 is base64 too: a
 *     JSON string cannot carry it. An empty body is no body.
 *   - requestContext.authorizer.jwt: only when an authorizer ran. Claims are
 *     strings: numbers stringified ("1700000000"), booleans "true"/"false",
 *     arrays as "[a b]" (WIRE.md: "[Admins Staff]"), objects as their JSON
 *     text; null claims are dropped.
 *   - time is "dd/Mon/yyyy:HH:MM:SS +0000" (UTC, English months), timeEpoch
 *     the same instant in ms; accountId is "000000000000"; domainPrefix is
 *     the first label of domainName.
 */
#ifndef APIGW_EVENT_H
#define APIGW_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "apigateway/route.h"
#include "core/http.h"

typedef struct apigw_header_pair {
    const char *name;  /* as sent */
    const char *value;
} apigw_header_pair;

typedef struct apigw_event_input {
    const char *method;         /* "GET" */
    const char *raw_path;       /* as received, stage prefix included */
    const char *raw_query;      /* after '?', as sent; "" or NULL for none */
    const apigw_header_pair *headers; /* in arrival order */
    size_t n_headers;
    const unsigned char *body;  /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *source_ip;
    const char *request_id;
    int64_t epoch_ms;           /* request time */
    const char *api_id;
    const char *stage;          /* "$default" or the StageName */
    const char *route_key;      /* of the matched route */
    const apigw_params *path_params; /* NULL or empty: pathParameters omitted */
    const char *domain_name;    /* NULL: the Host header without port, else "localhost" */
    const cJSON *jwt_claims;    /* NULL unless a JWT authorizer ran */
    const cJSON *jwt_scopes;    /* array of strings, or NULL */
} apigw_event_input;

/* The event for in. Caller owns the result; NULL only on allocation failure. */
cJSON *apigw_event_build(const apigw_event_input *in);

/* A claim value as the function sees it (see above). Caller frees; NULL for
 * a JSON null (the claim is dropped) or on allocation failure. */
char *apigw_claim_string(const cJSON *value);

/* Request headers copied out of a core_http_request, in arrival order, so
 * that apigw_event_input can point at them after the connection is gone. */
typedef struct apigw_header_list {
    apigw_header_pair *items; /* strings owned by the list */
    size_t n, cap;
} apigw_header_list;

/* Append every header of req (through core_http_header_each). 0, or -1 on
 * allocation failure (the list keeps what it had). */
int apigw_header_list_from_request(apigw_header_list *list, const core_http_request *req);

/* Append one pair (copied). 0, or -1 on allocation failure. */
int apigw_header_list_add(apigw_header_list *list, const char *name, const char *value);

/* Free the strings and the array; the list is empty after. */
void apigw_header_list_release(apigw_header_list *list);

#endif
