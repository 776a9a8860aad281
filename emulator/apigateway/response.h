/*
 * response.h — from a function's result to the HTTP answer, by the rules of
 * payload format 2.0, and API Gateway's own answers.
 *
 * Source: API Gateway developer guide, "Create AWS Lambda proxy integrations
 * for HTTP APIs", section "Lambda function response for format 2.0":
 *
 *   - A result that is valid JSON without "statusCode" is answered 200 with
 *     content-type application/json and the result as the body. A bare JSON
 *     string becomes its text, unquoted: the guide's example turns the result
 *     "Hello from Lambda!" into body "Hello from Lambda!" (the same example as
 *     George Mao's gist 80c21ca1318cfa477abdcc9bd9031f4b; AWS re:Post
 *     "api-gateway-status-codes-http-api": "IsBase64Encoded is false,
 *     statusCode is 200, content-type is application/json, body is the
 *     response from a Lambda function"). Objects, arrays, numbers, booleans
 *     and null are sent as the JSON text the function returned.
 *   - With "statusCode": {statusCode, headers, cookies, body, isBase64Encoded}.
 *     Header values are stringified (numbers, booleans); each cookie becomes
 *     one set-cookie header; with isBase64Encoded true the body is decoded
 *     (HTTP APIs honour it unconditionally — no binaryMediaTypes,
 *     ministackorg/ministack#766). multiValueHeaders belongs to format 1.0 and
 *     is ignored. No content-type is invented when the function gives none:
 *     the guide names no default for this case.
 *   - Anything else — not JSON, statusCode not an integer in 100..599, headers
 *     not an object of scalars, cookies not an array of strings, body not a
 *     string, isBase64Encoded not a boolean or a body that is not base64 — is
 *     the integration's failure: 500 {"message":"Internal Server Error"}.
 *
 * Every answer carries apigw-requestid (WIRE.md, "API Gateway's own answers").
 */
#ifndef APIGW_RESPONSE_H
#define APIGW_RESPONSE_H

#include <stddef.h>

#include "core/http.h"

/* Map the function result payload[0..len) onto resp (whatever resp held is
 * released first). request_id goes into apigw-requestid. Returns 0 when the
 * result was a valid 2.0 response, -1 when it was not and resp now holds the
 * 500 answer. */
int apigw_response_map(const char *payload, size_t len, const char *request_id,
                       core_http_response *resp);

/* API Gateway's own answer for status: {"message":"Not Found"} (404),
 * "Unauthorized" (401), "Forbidden" (403), "Request Entity Too Large" (413),
 * "Too Many Requests" (429), "Internal Server Error" (500), "Service
 * Unavailable" (503); other statuses get "Internal Server Error" as 500.
 * content-type application/json and apigw-requestid; whatever resp held is
 * released first. */
void apigw_answer(core_http_response *resp, int status, const char *request_id);

/* The message API Gateway uses for status (see apigw_answer), or NULL. */
const char *apigw_answer_message(int status);

#endif
