/*
 * model.h — Amazon SNS's state and rules on SQLite (sns.db): topics, their
 * attributes and tags, subscriptions (pending or confirmed), and the FIFO
 * topics' sequence numbers and 5-minute deduplication window.
 *
 * Each operation takes the request as a JSON tree with the API's own member
 * names (botocore's sns/2010-03-31 shapes: maps as objects, lists as arrays,
 * so the Query protocol's form and the JSON form parse to the same tree) and
 * gives the answer tree, or CORE_ERROR with err filled with the error AWS
 * answers: err->type is the Query protocol's error code ("NotFound",
 * "InvalidParameter", "ParameterValueInvalid", ...), err->message AWS's
 * wording ("Topic does not exist", "Invalid parameter: ..."), err->status its
 * HTTP status (404 for NotFound, 400 otherwise, 500 InternalError).
 *
 * Publish never sends anything itself: it appends what SNS would deliver to
 * the caller's `deliveries` array, one object per message —
 *   {"channel": "topic"|"email"|"email-json"|"sms"|"sqs"|"lambda"|"http"|...,
 *    "to", "from"?, "subject"?, "body", "subscriptionArn"?, "event"?}
 * ("topic" is the publish itself, recorded even with no subscriber; "event"
 * is the Lambda event for a lambda subscription) — and the wire layer puts
 * them in the outbox and invokes the functions once the store lock is
 * released, so a function that publishes again cannot deadlock.
 *
 * Thread safety: sns_model_run holds the store's lock around one operation.
 */
#ifndef SNS_MODEL_H
#define SNS_MODEL_H

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/template.h"

typedef struct sns_model sns_model;

/* Open (creating) <dir>/sns.db; dir NULL or ":memory:" keeps it in memory. */
int sns_model_open(const char *dir, const char *region, core_clock *clock, sns_model **out,
                   core_err *err);
void sns_model_close(sns_model *m);

/* With on, email, email-json, http and https subscriptions are confirmed at
 * Subscribe (the emulator's --auto-confirm); otherwise they wait for
 * ConfirmSubscription with the token of the confirmation message. */
void sns_model_set_auto_confirm(sns_model *m, int on);

/* Create the template's AWS::SNS::Topic resources that do not exist yet, with
 * the template's ARN and name, DisplayName, FifoTopic,
 * ContentBasedDeduplication, KmsMasterKeyId, TracingConfig, Tags, and each
 * Subscription entry (Protocol, Endpoint) subscribed unless it already is.
 * Confirmation messages go to deliveries. */
int sns_model_seed_template(sns_model *m, const core_template *tpl, cJSON *deliveries,
                            core_err *err);

typedef int (*sns_op)(sns_model *m, const cJSON *req, cJSON **out, cJSON *deliveries,
                      core_err *err);

/* Run op under the lock in one savepoint: all of its writes, or (on error)
 * none — and then no deliveries either. */
int sns_model_run(sns_model *m, sns_op op, const cJSON *req, cJSON **out, cJSON *deliveries,
                  core_err *err);

/* The operation for an Action name ("Publish"), or NULL. */
sns_op sns_op_find(const char *action);

/* The API's exception shape for a Query error code ("NotFound" ->
 * "NotFoundException", "ParameterValueInvalid" ->
 * "InvalidParameterValueException"); other codes come back as given.
 * Borrowed. */
const char *sns_error_shape(const char *code);

int sns_op_create_topic(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_delete_topic(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_list_topics(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_get_topic_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                core_err *err);
int sns_op_set_topic_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                core_err *err);
int sns_op_subscribe(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_confirm_subscription(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                core_err *err);
int sns_op_unsubscribe(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_list_subscriptions(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                              core_err *err);
int sns_op_list_subscriptions_by_topic(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                       core_err *err);
int sns_op_get_subscription_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                       core_err *err);
int sns_op_set_subscription_attributes(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                       core_err *err);
int sns_op_publish(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_publish_batch(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_list_tags_for_resource(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                                  core_err *err);
int sns_op_tag_resource(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);
int sns_op_untag_resource(sns_model *m, const cJSON *req, cJSON **out, cJSON *d, core_err *err);

#endif
