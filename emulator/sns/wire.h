/*
 * wire.h — Amazon SNS on the aws listener, and the service's life.
 *
 * Two forms of one API, over one model (model.h):
 *   - the Query protocol every SDK and the AWS CLI speak (botocore declares
 *     only "query" for sns/2010-03-31): POST / with an
 *     application/x-www-form-urlencoded body (or GET with the same query
 *     string) `Action=Publish&Version=2010-03-31&TopicArn=...`, routed by the
 *     SigV4 credential scope's service name "sns"; XML answers in AWS's
 *     layout, errors as <ErrorResponse><Error><Type>Sender</Type>
 *     <Code>NotFound</Code><Message>...</Message></Error><RequestId>...;
 *   - a JSON form for the emulator's own in-process callers (Step Functions'
 *     sns:publish through core/inproc): X-Amz-Target
 *     AmazonSimpleNotificationService.<Action>, the request as JSON with the
 *     same member names, answers as JSON, errors {"__type": "<the API's
 *     exception shape, e.g. NotFoundException>", "message"} with the Query
 *     code in an x-amzn-query-error header ("NotFound;Sender"), as AWS's
 *     query-compatible JSON services do.
 * Every answer carries x-amzn-RequestId.
 */
#ifndef SNS_WIRE_H
#define SNS_WIRE_H

#include <cjson/cJSON.h>

#include "core/emulator.h"
#include "core/err.h"
#include "core/form.h"

/* Open sns.db in the data folder, create the template's topics (and their
 * subscriptions) that do not exist yet, and register the service on the
 * router (X-Amz-Target prefix "AmazonSimpleNotificationService", signing
 * name "sns"). */
int sns_service_start(core_emulator *emu, void **state, core_err *err);
void sns_service_stop(void *state);

/* The Query protocol's form as the JSON request the model takes: scalar
 * members as strings, Attributes.entry.N.key/value as an object,
 * MessageAttributes.entry.N.Name/Value.DataType/.StringValue/.BinaryValue as
 * {Name: {DataType, StringValue, BinaryValue}}, Tags.member.N.Key/Value as
 * [{Key, Value}], TagKeys.member.N as [string], and
 * PublishBatchRequestEntries.member.N.* as a list of such objects. Action
 * and Version are left out. NULL with err filled on a malformed member
 * index. Caller owns the result. */
cJSON *sns_form_request(const core_form *form, core_err *err);

/* The XML answer of action for the model's answer `out` (borrowed), laid out
 * as SNS lays it out (two-space indentation, a final newline, no XML
 * declaration). Caller frees; NULL on allocation failure. */
char *sns_xml_answer(const char *action, const cJSON *out, const char *request_id,
                     size_t *len);

/* The XML error answer: Type Sender (Receiver for status >= 500). */
char *sns_xml_error(const core_err *err, const char *request_id, size_t *len);

#endif
