/*
 * test_sns.c — Amazon SNS (emulator/sns/): the model on an in-memory database
 * (topics, subscriptions, Publish and its deliveries, FIFO, filter policies,
 * pagination, the template's topics), the Query protocol's form-to-request
 * mapping and XML answers (wire.c), and Step Functions' sns:publish
 * (stepfunctions/task.c) against a stand-in service. Malformed, oversized and
 * hostile requests are refused with AWS's codes and wording (members of the
 * wrong JSON type for every operation, other-region ARNs, keyless or repeated
 * map entries); publishes racing DeleteTopic/Unsubscribe on other threads are
 * all-or-nothing, a failed operation leaves nothing half-written, and FIFO
 * state survives a reopen of sns.db. (The wire with
 * boto3, the AWS CLI and Step Functions: tests/compat/test_sns.py.)
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/form.h"
#include "core/outbox.h"
#include "core/template.h"
#include "sns/model.h"
#include "sns/wire.h"
#include "stepfunctions/sfn_impl.h"

#define T "arn:aws:sns:us-east-1:000000000000:"

static sns_model *model;
static core_clock *clk;
static cJSON *deliveries;

static void setup(void)
{
    clk = core_clock_new(CORE_CLOCK_VIRTUAL, 1700000000000LL);
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(sns_model_open(NULL, "us-east-1", clk, &model, &err), CORE_OK, "%s",
                 err.message);
    deliveries = cJSON_CreateArray();
}

static void teardown(void)
{
    cJSON_Delete(deliveries);
    sns_model_close(model);
    core_clock_free(clk);
}

TestSuite(sns, .init = setup, .fini = teardown);

/* Run action on the request text; CORE_OK with *out (caller deletes), or the
 * error in err. Deliveries accumulate in the suite's array. */
static int run(const char *action, const char *req_text, cJSON **out, core_err *err)
{
    cJSON *req = cJSON_Parse(req_text);
    cr_assert(req, "bad test JSON: %s", req_text);
    sns_op op = sns_op_find(action);
    cr_assert(op, "no op %s", action);
    core_err_clear(err);
    int rc = sns_model_run(model, op, req, out, deliveries, err);
    cJSON_Delete(req);
    return rc;
}

static cJSON *ok(const char *action, const char *req_text)
{
    cJSON *out = NULL;
    core_err err;
    cr_assert_eq(run(action, req_text, &out, &err), CORE_OK, "%s %s: %s %s", action, req_text,
                 err.type, err.message);
    return out;
}

static void fails(const char *action, const char *req_text, int status, const char *type,
                  const char *message)
{
    cJSON *out = NULL;
    core_err err;
    cr_assert_eq(run(action, req_text, &out, &err), CORE_ERROR, "%s %s was accepted", action,
                 req_text);
    cr_assert_null(out);
    cr_assert_eq(err.status, status, "%s %s: status %d", action, req_text, err.status);
    cr_assert_str_eq(err.type, type, "%s %s", action, req_text);
    if (message)
        cr_assert_str_eq(err.message, message, "%s %s", action, req_text);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void create(const char *name)
{
    char req[400];
    snprintf(req, sizeof req, "{\"Name\":\"%s\"}", name);
    cJSON_Delete(ok("CreateTopic", req));
}

static const char *topic_attr(const char *arn, const char *name)
{
    static char value[4096];
    char req[400];
    snprintf(req, sizeof req, "{\"TopicArn\":\"%s\"}", arn);
    cJSON *out = ok("GetTopicAttributes", req);
    const char *v = str(cJSON_GetObjectItemCaseSensitive(out, "Attributes"), name);
    snprintf(value, sizeof value, "%s", v ? v : "(absent)");
    cJSON_Delete(out);
    return value;
}

/* The last delivery on channel (borrowed), or NULL. */
static const cJSON *last_delivery(const char *channel)
{
    const cJSON *found = NULL, *d;
    cJSON_ArrayForEach(d, deliveries) {
        if (!strcmp(str(d, "channel"), channel))
            found = d;
    }
    return found;
}

static size_t count_delivery(const char *channel)
{
    size_t n = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, deliveries) {
        n += !strcmp(str(d, "channel"), channel);
    }
    return n;
}

/* --- topics -------------------------------------------------------------------- */

Test(sns, create_topic_answers_the_arn_and_is_idempotent)
{
    cJSON *out = ok("CreateTopic", "{\"Name\":\"orders\",\"Attributes\":{\"DisplayName\":\"O\"}}");
    cr_assert_str_eq(str(out, "TopicArn"), T "orders");
    cJSON_Delete(out);
    out = ok("CreateTopic", "{\"Name\":\"orders\",\"Attributes\":{\"DisplayName\":\"O\"}}");
    cr_assert_str_eq(str(out, "TopicArn"), T "orders");
    cJSON_Delete(out);
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"orders\"}"));
    fails("CreateTopic", "{\"Name\":\"orders\",\"Attributes\":{\"DisplayName\":\"P\"}}", 400,
          "InvalidParameter",
          "Invalid parameter: Attributes Reason: Topic already exists with different attributes");
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"tagged\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"}]}"));
    fails("CreateTopic", "{\"Name\":\"tagged\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"2\"}]}", 400,
          "InvalidParameter",
          "Invalid parameter: Tags Reason: Topic already exists with different tags");
}

Test(sns, topic_names_and_attributes_are_checked)
{
    static const struct {
        const char *req;
        const char *message;
    } cases[] = {
        {"{}", "Invalid parameter: Topic Name"},
        {"{\"Name\":\"\"}", "Invalid parameter: Topic Name"},
        {"{\"Name\":\"a b\"}", "Invalid parameter: Topic Name"},
        {"{\"Name\":\"a.b\"}", "Invalid parameter: Topic Name"},
        {"{\"Name\":\"x.fifo\"}", "Invalid parameter: Topic Name"},
        {"{\"Name\":\"caf\\u00e9\"}", "Invalid parameter: Topic Name"},
        {"{\"Name\":\"plain\",\"Attributes\":{\"FifoTopic\":\"true\"}}",
         "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only "
         "uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be "
         "between 1 and 256 characters long."},
        {"{\"Name\":\".fifo\",\"Attributes\":{\"FifoTopic\":\"true\"}}", NULL},
        {"{\"Name\":\"f.fifo\",\"Attributes\":{\"FifoTopic\":\"yes\"}}", NULL},
        {"{\"Name\":\"p\",\"Attributes\":{\"ContentBasedDeduplication\":\"true\"}}", NULL},
        {"{\"Name\":\"p\",\"Attributes\":{\"Colour\":\"red\"}}",
         "Invalid parameter: AttributeName"},
        {"{\"Name\":\"p\",\"Attributes\":{\"Policy\":\"{nope\"}}", NULL},
        {"{\"Name\":\"p\",\"Attributes\":{\"TracingConfig\":\"Sometimes\"}}", NULL},
        {"{\"Name\":\"p\",\"Attributes\":[]}", "Invalid parameter: Attributes"},
        {"{\"Name\":\"p\",\"Tags\":[{\"Key\":\"\",\"Value\":\"v\"}]}", "Invalid parameter: Tags"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        fails("CreateTopic", cases[i].req, 400, "InvalidParameter", cases[i].message);
    char name[300];
    memset(name, 'n', 257);
    name[257] = '\0';
    char req[400];
    snprintf(req, sizeof req, "{\"Name\":\"%s\"}", name);
    fails("CreateTopic", req, 400, "InvalidParameter", "Invalid parameter: Topic Name");
    name[256] = '\0';
    create(name);
    create("Az09_-");
}

Test(sns, fifo_topics_keep_their_attributes)
{
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"q.fifo\",\"Attributes\":{\"FifoTopic\":\"true\","
                                   "\"ContentBasedDeduplication\":\"true\"}}"));
    cr_assert_str_eq(topic_attr(T "q.fifo", "FifoTopic"), "true");
    cr_assert_str_eq(topic_attr(T "q.fifo", "ContentBasedDeduplication"), "true");
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"std\",\"Attributes\":{\"FifoTopic\":\"false\"}}"));
    cr_assert_str_eq(topic_attr(T "std", "FifoTopic"), "(absent)");
}

Test(sns, get_topic_attributes_has_aws_defaults_and_counts)
{
    create("orders");
    cr_assert_str_eq(topic_attr(T "orders", "Owner"), "000000000000");
    cr_assert_str_eq(topic_attr(T "orders", "DisplayName"), "");
    cr_assert_str_eq(topic_attr(T "orders", "SubscriptionsConfirmed"), "0");
    cJSON *policy = cJSON_Parse(topic_attr(T "orders", "Policy"));
    cr_assert_str_eq(str(policy, "Id"), "__default_policy_ID");
    cr_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItem(policy, "Statement"), 0),
                         "Resource"), T "orders");
    cJSON_Delete(policy);
    cJSON *dp = cJSON_Parse(topic_attr(T "orders", "EffectiveDeliveryPolicy"));
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(dp, "http")));
    cJSON_Delete(dp);
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\","
                                 "\"Endpoint\":\"arn:aws:sqs:us-east-1:000000000000:q\"}"));
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"email\","
                                 "\"Endpoint\":\"a@example.com\"}"));
    cr_assert_str_eq(topic_attr(T "orders", "SubscriptionsConfirmed"), "1");
    cr_assert_str_eq(topic_attr(T "orders", "SubscriptionsPending"), "1");
    fails("GetTopicAttributes", "{\"TopicArn\":\"" T "gone\"}", 404, "NotFound",
          "Topic does not exist");
    fails("GetTopicAttributes", "{\"TopicArn\":\"arn:aws:sns:us-east-1:12:x\"}", 400,
          "InvalidParameter", "Invalid parameter: TopicArn");
    fails("GetTopicAttributes", "{}", 400, "InvalidParameter", "Invalid parameter: TopicArn");
}

Test(sns, set_topic_attributes_checks_names_and_values)
{
    create("orders");
    cJSON_Delete(ok("SetTopicAttributes", "{\"TopicArn\":\"" T "orders\",\"AttributeName\":"
                                          "\"DisplayName\",\"AttributeValue\":\"Shop\"}"));
    cr_assert_str_eq(topic_attr(T "orders", "DisplayName"), "Shop");
    cJSON_Delete(ok("SetTopicAttributes", "{\"TopicArn\":\"" T "orders\",\"AttributeName\":"
                                          "\"Policy\",\"AttributeValue\":\"{\\\"a\\\":1}\"}"));
    cr_assert_str_eq(topic_attr(T "orders", "Policy"), "{\"a\":1}");
    static const char *const bad[] = {
        "{\"TopicArn\":\"" T "orders\",\"AttributeName\":\"Colour\",\"AttributeValue\":\"r\"}",
        "{\"TopicArn\":\"" T "orders\",\"AttributeName\":\"FifoTopic\",\"AttributeValue\":\"true\"}",
        "{\"TopicArn\":\"" T "orders\",\"AttributeName\":\"Policy\",\"AttributeValue\":\"[1]\"}",
        "{\"TopicArn\":\"" T "orders\",\"AttributeName\":\"ContentBasedDeduplication\","
        "\"AttributeValue\":\"true\"}",
        "{\"TopicArn\":\"" T "orders\"}",
        /* FifoThroughputScope: FIFO topics only, Topic or MessageGroup only. */
        "{\"TopicArn\":\"" T "orders\",\"AttributeName\":\"FifoThroughputScope\","
        "\"AttributeValue\":\"Topic\"}",
        "{\"TopicArn\":\"" T "f.fifo\",\"AttributeName\":\"FifoThroughputScope\","
        "\"AttributeValue\":\"Queue\"}",
        "{\"TopicArn\":\"" T "f.fifo\",\"AttributeName\":\"FifoThroughputScope\","
        "\"AttributeValue\":\"\"}",
    };
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"f.fifo\",\"Attributes\":{\"FifoTopic\":\"true\"}}"));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        fails("SetTopicAttributes", bad[i], 400, "InvalidParameter", NULL);
    cJSON_Delete(ok("SetTopicAttributes", "{\"TopicArn\":\"" T "f.fifo\",\"AttributeName\":"
                                          "\"FifoThroughputScope\",\"AttributeValue\":"
                                          "\"MessageGroup\"}"));
    cr_assert_str_eq(topic_attr(T "f.fifo", "FifoThroughputScope"), "MessageGroup");
    fails("SetTopicAttributes", "{\"TopicArn\":\"" T "gone\",\"AttributeName\":\"DisplayName\","
                                "\"AttributeValue\":\"x\"}", 404, "NotFound", NULL);
}

Test(sns, delete_topic_removes_subscriptions_and_is_idempotent)
{
    create("orders");
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\","
                                 "\"Endpoint\":\"arn:aws:sqs:us-east-1:000000000000:q\"}"));
    cJSON_Delete(ok("DeleteTopic", "{\"TopicArn\":\"" T "orders\"}"));
    cJSON_Delete(ok("DeleteTopic", "{\"TopicArn\":\"" T "orders\"}"));
    cJSON *out = ok("ListSubscriptions", "{}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Subscriptions")), 0);
    cJSON_Delete(out);
    fails("DeleteTopic", "{\"TopicArn\":\"orders\"}", 400, "InvalidParameter",
          "Invalid parameter: TopicArn");
}

Test(sns, list_topics_pages_by_100_and_refuses_forged_tokens)
{
    char name[32];
    for (int i = 0; i < 205; i++) {
        snprintf(name, sizeof name, "t%03d", i);
        create(name);
    }
    int total = 0, pages = 0;
    char token[128] = "";
    for (;;) {
        char req[200];
        snprintf(req, sizeof req, token[0] ? "{\"NextToken\":\"%s\"}" : "{}", token);
        cJSON *out = ok("ListTopics", req);
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(out, "Topics"));
        cr_assert(n <= 100);
        if (pages == 0)
            cr_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "Topics"), 0),
                                 "TopicArn"), T "t000");
        total += n;
        pages++;
        const char *next = str(out, "NextToken");
        snprintf(token, sizeof token, "%s", next ? next : "");
        cJSON_Delete(out);
        if (!token[0])
            break;
    }
    cr_assert_eq(total, 205);
    cr_assert_eq(pages, 3);
    static const char *const forged[] = {"x", "dDox", "czoxMA", "dDotNQ", "dDowMHg", "%%%"};
    for (size_t i = 0; i < sizeof forged / sizeof *forged; i++) {
        char req[100];
        snprintf(req, sizeof req, "{\"NextToken\":\"%s\"}", forged[i]);
        if (i == 1) /* "t:1" is a well-formed token for after the first topic */
            cJSON_Delete(ok("ListTopics", req));
        else
            fails("ListTopics", req, 400, "InvalidParameter", "Invalid parameter: NextToken");
    }
}

/* --- subscriptions --------------------------------------------------------------- */

Test(sns, subscribe_confirms_by_protocol_and_answers_pending_confirmation)
{
    create("orders");
    static const struct {
        const char *protocol, *endpoint;
        int pending;
    } cases[] = {
        {"email", "a@example.com", 1},
        {"email-json", "b@example.com", 1},
        {"http", "http://hook.example/x", 1},
        {"https", "https://hook.example/x", 1},
        {"sqs", "arn:aws:sqs:us-east-1:000000000000:q", 0},
        {"lambda", "arn:aws:lambda:us-east-1:000000000000:function:f", 0},
        {"sms", "+15550100", 0},
        {"SQS", "arn:aws:sqs:us-east-1:000000000000:upper", 0},
        {"firehose", "arn:aws:firehose:us-east-1:000000000000:deliverystream/s", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char req[400];
        snprintf(req, sizeof req, "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"%s\",\"Endpoint\":"
                 "\"%s\"%s}", cases[i].protocol, cases[i].endpoint,
                 cases[i].pending < 0 ? ",\"Attributes\":{\"SubscriptionRoleArn\":\"arn:aws:iam::"
                                        "000000000000:role/r\"}" : "");
        cJSON *out = ok("Subscribe", req);
        const char *arn = str(out, "SubscriptionArn");
        if (cases[i].pending > 0)
            cr_assert_str_eq(arn, "pending confirmation", "case %zu", i);
        else
            cr_assert(!strncmp(arn, T "orders:", strlen(T "orders:")), "case %zu: %s", i, arn);
        cJSON_Delete(out);
    }
    cr_assert_eq(count_delivery("email"), 1);
    cr_assert_eq(count_delivery("email-json"), 1);
    cr_assert_eq(count_delivery("http") + count_delivery("https"), 2);
    cJSON *out = ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"email\",\"Endpoint\":"
                                 "\"a@example.com\",\"ReturnSubscriptionArn\":\"true\"}");
    cr_assert(!strncmp(str(out, "SubscriptionArn"), T "orders:", strlen(T "orders:")));
    cJSON_Delete(out);
    cr_assert_eq(count_delivery("email"), 1, "a repeated subscribe sends no new confirmation");
    sns_model_set_auto_confirm(model, 1);
    out = ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"email\",\"Endpoint\":"
                          "\"auto@example.com\"}");
    cr_assert_neq(strcmp(str(out, "SubscriptionArn"), "pending confirmation"), 0);
    cJSON_Delete(out);
}

Test(sns, subscribe_refuses_bad_protocols_and_endpoints)
{
    create("orders");
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"o.fifo\",\"Attributes\":{\"FifoTopic\":\"true\"}}"));
    static const struct {
        const char *topic, *protocol, *endpoint, *message;
    } cases[] = {
        {"orders", "pigeon", "x", "Invalid parameter: Amazon SNS does not support this protocol "
                                  "string: pigeon"},
        {"orders", "", "x", "Invalid parameter: Protocol"},
        {"orders", "email", "nobody", "Invalid parameter: Email address"},
        {"orders", "email", "a@b", "Invalid parameter: Email address"},
        {"orders", "email", "a b@c.d", "Invalid parameter: Email address"},
        {"orders", "email", "", "Invalid parameter: Endpoint"},
        {"orders", "sms", "phone", "Invalid parameter: SMS endpoint"},
        {"orders", "sqs", "https://sqs/q", "Invalid parameter: SQS endpoint ARN"},
        {"orders", "lambda", "arn:aws:lambda:x", "Invalid parameter: Lambda endpoint ARN"},
        {"orders", "http", "https://x", "Invalid parameter: Endpoint must match the specified "
                                        "protocol"},
        {"orders", "https", "http://x", "Invalid parameter: Endpoint must match the specified "
                                        "protocol"},
        {"orders", "firehose", "arn:aws:firehose:us-east-1:0:s", "Invalid parameter: "
                                                                  "SubscriptionRoleArn"},
        {"o.fifo", "email", "a@example.com", "Invalid parameter: Invalid protocol type: email"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char req[400];
        snprintf(req, sizeof req, "{\"TopicArn\":\"" T "%s\",\"Protocol\":\"%s\",\"Endpoint\":"
                 "\"%s\"}", cases[i].topic, cases[i].protocol, cases[i].endpoint);
        fails("Subscribe", req, 400, "InvalidParameter", cases[i].message);
    }
    fails("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":\"arn:aws:"
                       "sqs:us-east-1:0:q\",\"Attributes\":{\"RawMessageDelivery\":\"maybe\"}}",
          400, "InvalidParameter", "Invalid parameter: Attributes Reason: RawMessageDelivery: "
                                   "Invalid value [maybe]. Must be true or false.");
    fails("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":\"arn:aws:"
                       "sqs:us-east-1:0:q\",\"Attributes\":{\"FilterPolicy\":\"[1]\"}}",
          400, "InvalidParameter", NULL);
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":"
                                 "\"arn:aws:sqs:us-east-1:0:q\",\"Attributes\":{"
                                 "\"RawMessageDelivery\":\"true\"}}"));
    fails("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":\"arn:aws:"
                       "sqs:us-east-1:0:q\",\"Attributes\":{\"RawMessageDelivery\":\"false\"}}",
          400, "InvalidParameter", "Invalid parameter: Attributes Reason: Subscription already "
                                   "exists with different attributes");
    fails("Subscribe", "{\"TopicArn\":\"" T "gone\",\"Protocol\":\"sqs\",\"Endpoint\":\"arn:aws:"
                       "sqs:us-east-1:0:q\"}", 404, "NotFound", "Topic does not exist");
}

Test(sns, confirm_subscription_takes_the_token_sent)
{
    create("orders");
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"email-json\","
                                 "\"Endpoint\":\"a@example.com\"}"));
    cJSON *env = cJSON_Parse(str(last_delivery("email-json"), "body"));
    cr_assert_str_eq(str(env, "Type"), "SubscriptionConfirmation");
    cr_assert(strstr(str(env, "SubscribeURL"), str(env, "Token")));
    char req[400];
    snprintf(req, sizeof req, "{\"TopicArn\":\"" T "orders\",\"Token\":\"%s\"}", str(env, "Token"));
    cJSON_Delete(env);
    cJSON *out = ok("ConfirmSubscription", req);
    cr_assert(!strncmp(str(out, "SubscriptionArn"), T "orders:", strlen(T "orders:")));
    cJSON_Delete(out);
    cr_assert_str_eq(topic_attr(T "orders", "SubscriptionsConfirmed"), "1");
    cr_assert_str_eq(topic_attr(T "orders", "SubscriptionsPending"), "0");
    fails("ConfirmSubscription", "{\"TopicArn\":\"" T "orders\",\"Token\":\"forged\"}", 400,
          "InvalidParameter", "Invalid parameter: Token");
    fails("ConfirmSubscription", "{\"TopicArn\":\"" T "gone\",\"Token\":\"x\"}", 404, "NotFound",
          NULL);
}

Test(sns, unsubscribe_is_idempotent_and_counted)
{
    create("orders");
    cJSON *out = ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":"
                                 "\"arn:aws:sqs:us-east-1:000000000000:q\"}");
    char req[400];
    snprintf(req, sizeof req, "{\"SubscriptionArn\":\"%s\"}", str(out, "SubscriptionArn"));
    cJSON_Delete(out);
    cJSON_Delete(ok("GetSubscriptionAttributes", req));
    cJSON_Delete(ok("Unsubscribe", req));
    cJSON_Delete(ok("Unsubscribe", req));
    cr_assert_str_eq(topic_attr(T "orders", "SubscriptionsDeleted"), "1");
    fails("GetSubscriptionAttributes", req, 404, "NotFound", "Subscription does not exist");
    static const char *const bad[] = {"{}", "{\"SubscriptionArn\":\"PendingConfirmation\"}",
                                      "{\"SubscriptionArn\":\"" T "orders:\"}",
                                      "{\"SubscriptionArn\":\"arn:aws:sns:x\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        fails("Unsubscribe", bad[i], 400, "InvalidParameter", "Invalid parameter: SubscriptionArn");
}

Test(sns, subscription_attributes_read_and_write)
{
    create("orders");
    cJSON *out = ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":"
                                 "\"arn:aws:sqs:us-east-1:000000000000:q\"}");
    char arn[300], req[800];
    snprintf(arn, sizeof arn, "%s", str(out, "SubscriptionArn"));
    cJSON_Delete(out);
    snprintf(req, sizeof req, "{\"SubscriptionArn\":\"%s\",\"AttributeName\":\"RawMessageDelivery\","
             "\"AttributeValue\":\"true\"}", arn);
    cJSON_Delete(ok("SetSubscriptionAttributes", req));
    snprintf(req, sizeof req, "{\"SubscriptionArn\":\"%s\",\"AttributeName\":\"FilterPolicy\","
             "\"AttributeValue\":\"{\\\"k\\\":[\\\"v\\\"]}\"}", arn);
    cJSON_Delete(ok("SetSubscriptionAttributes", req));
    snprintf(req, sizeof req, "{\"SubscriptionArn\":\"%s\"}", arn);
    out = ok("GetSubscriptionAttributes", req);
    const cJSON *a = cJSON_GetObjectItem(out, "Attributes");
    cr_assert_str_eq(str(a, "RawMessageDelivery"), "true");
    cr_assert_str_eq(str(a, "FilterPolicyScope"), "MessageAttributes");
    cr_assert_str_eq(str(a, "Protocol"), "sqs");
    cr_assert_str_eq(str(a, "PendingConfirmation"), "false");
    cr_assert_str_eq(str(a, "SubscriptionArn"), arn);
    cJSON_Delete(out);
    snprintf(req, sizeof req, "{\"SubscriptionArn\":\"%s\",\"AttributeName\":\"Colour\","
             "\"AttributeValue\":\"r\"}", arn);
    fails("SetSubscriptionAttributes", req, 400, "InvalidParameter",
          "Invalid parameter: AttributeName");
}

Test(sns, subscription_lists_page_and_show_pending_ones)
{
    create("orders");
    create("other");
    char req[400];
    for (int i = 0; i < 101; i++) {
        snprintf(req, sizeof req, "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":"
                 "\"arn:aws:sqs:us-east-1:000000000000:q%d\"}", i);
        cJSON_Delete(ok("Subscribe", req));
    }
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "other\",\"Protocol\":\"email\",\"Endpoint\":"
                                 "\"a@example.com\"}"));
    cJSON *out = ok("ListSubscriptionsByTopic", "{\"TopicArn\":\"" T "orders\"}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Subscriptions")), 100);
    snprintf(req, sizeof req, "{\"TopicArn\":\"" T "orders\",\"NextToken\":\"%s\"}",
             str(out, "NextToken"));
    cJSON_Delete(out);
    out = ok("ListSubscriptionsByTopic", req);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Subscriptions")), 1);
    cr_assert_null(str(out, "NextToken"));
    cJSON_Delete(out);
    out = ok("ListSubscriptionsByTopic", "{\"TopicArn\":\"" T "other\"}");
    const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "Subscriptions"), 0);
    cr_assert_str_eq(str(s, "SubscriptionArn"), "PendingConfirmation");
    cr_assert_str_eq(str(s, "Owner"), "000000000000");
    cJSON_Delete(out);
    /* A token of one list is not a token of the other. */
    out = ok("ListSubscriptions", "{}");
    snprintf(req, sizeof req, "{\"TopicArn\":\"" T "orders\",\"NextToken\":\"%s\"}",
             str(out, "NextToken"));
    cJSON_Delete(out);
    fails("ListSubscriptionsByTopic", req, 400, "InvalidParameter", "Invalid parameter: NextToken");
}

/* --- Publish ------------------------------------------------------------------- */

Test(sns, publish_refuses_what_aws_refuses)
{
    create("orders");
    char *big = malloc(262200);
    memset(big, 'x', 262145);
    big[262145] = '\0';
    char *big_req = malloc(262300);
    snprintf(big_req, 262300, "{\"TopicArn\":\"" T "orders\",\"Message\":\"%s\"}", big);
    const struct {
        const char *req, *type, *message;
    } cases[] = {
        {"{\"TopicArn\":\"" T "orders\"}", "InvalidParameter", "Invalid parameter: Empty message"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"\"}", "InvalidParameter",
         "Invalid parameter: Empty message"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":7}", "InvalidParameter",
         "Invalid parameter: Empty message"},
        {"{\"Message\":\"m\"}", "InvalidParameter",
         "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"},
        {"{\"TopicArn\":\"" T "orders\",\"TargetArn\":\"" T "orders\",\"Message\":\"m\"}",
         "InvalidParameter", NULL},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\"\"}", "InvalidParameter",
         "Invalid parameter: Subject"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\"a\\nb\"}",
         "InvalidParameter", "Invalid parameter: Subject"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\"tab\\there\"}",
         "InvalidParameter", "Invalid parameter: Subject"},
        /* Subjects must be UTF-8: a stray byte, a cut sequence, an overlong form. */
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\"a\xff\"}",
         "InvalidParameter", "Invalid parameter: Subject"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\"a\xc3\"}",
         "InvalidParameter", "Invalid parameter: Subject"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\"\xc0\xaf\"}",
         "InvalidParameter", "Invalid parameter: Subject"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\"\xed\xa0\x80\"}",
         "InvalidParameter", "Invalid parameter: Subject"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageStructure\":\"xml\"}",
         "InvalidParameter", "Invalid parameter: MessageStructure"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"[1]\",\"MessageStructure\":\"json\"}",
         "InvalidParameter",
         "Invalid parameter: Message Structure - JSON message body failed to parse"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"{\\\"default\\\":1}\",\"MessageStructure\":"
         "\"json\"}", "InvalidParameter",
         "Invalid parameter: Message Structure - No default entry in JSON message body"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"DataType\":\"Date\",\"StringValue\":\"x\"}}}", "ParameterValueInvalid",
         "The message attribute 'a' has an invalid message attribute type, the set of supported "
         "type prefixes is Binary, Number, and String."},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"DataType\":\"String\"}}}", "ParameterValueInvalid",
         "The message attribute 'a' must contain non-empty message attribute value for message "
         "attribute type 'String'."},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"DataType\":\"Binary\",\"StringValue\":\"x\"}}}", "ParameterValueInvalid", NULL},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"DataType\":\"Binary\",\"BinaryValue\":\"not base64!\"}}}", "ParameterValueInvalid",
         "The message attribute 'a' has an invalid binary value: it is not base64."},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"DataType\":\"Binary\",\"BinaryValue\":\"AAE\"}}}", "ParameterValueInvalid", NULL},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{"
         "\"a0\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a1\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a2\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a3\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a4\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a5\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a6\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a7\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a8\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"a9\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
         "\"aa\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}}", "InvalidParameter",
         "Invalid parameter: MessageAttributes Reason: Number of message attributes [11] exceeds "
         "the allowed maximum [10]."},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"StringValue\":\"x\"}}}", "ParameterValueInvalid",
         "The message attribute 'a' must contain non-empty message attribute type."},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"Subject\":\""
         "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
         "890123456789\"}", "InvalidParameter", "Invalid parameter: Subject"},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"DataType\":\"Number\",\"StringValue\":\"1e999\"}}}", "ParameterValueInvalid",
         "Could not cast message attribute 'a' value to number."},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a\":{"
         "\"DataType\":\"String.Array\",\"StringValue\":\"[{}]\"}}}", "ParameterValueInvalid",
         NULL},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"AWS.x\":{"
         "\"DataType\":\"String\",\"StringValue\":\"v\"}}}", "InvalidParameter", NULL},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageAttributes\":{\"a..b\":{"
         "\"DataType\":\"String\",\"StringValue\":\"v\"}}}", "InvalidParameter", NULL},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageDeduplicationId\":\"d\"}",
         "InvalidParameter", NULL},
        {"{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageGroupId\":\"a b\"}",
         "InvalidParameter", "Invalid parameter: MessageGroupId"},
        {"{\"PhoneNumber\":\"5550100\",\"Message\":\"m\"}", "InvalidParameter",
         "Invalid parameter: PhoneNumber Reason: 5550100 is not valid to publish to"},
        {big_req, "InvalidParameter", "Invalid parameter: Message too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        fails("Publish", cases[i].req, 400, cases[i].type, cases[i].message);
    fails("Publish", "{\"TopicArn\":\"" T "gone\",\"Message\":\"m\"}", 404, "NotFound",
          "Topic does not exist");
    fails("Publish", "{\"TargetArn\":\"arn:aws:sns:us-east-1:000000000000:endpoint/GCM/a/b\","
                     "\"Message\":\"m\"}", 404, "NotFound", "Endpoint does not exist");
    cr_assert_eq(cJSON_GetArraySize(deliveries), 0, "a refused publish delivers nothing");
    /* UTF-8 subjects up to 99 characters (not bytes), and a MessageGroupId on a
     * standard topic (forwarded to SQS fair queues), are accepted. */
    char subj[400] = "{\"TopicArn\":\"" T "orders\",\"Message\":\"m\",\"MessageGroupId\":"
                     "\"g-1\",\"Subject\":\"";
    for (int i = 0; i < 99; i++)
        strcat(subj, "\xC3\xA9");
    strcat(subj, "\"}");
    cJSON_Delete(ok("Publish", subj));
    /* At the limit exactly it is accepted. */
    big[262144] = '\0';
    snprintf(big_req, 262300, "{\"TopicArn\":\"" T "orders\",\"Message\":\"%s\"}", big);
    cJSON_Delete(ok("Publish", big_req));
    /* Attributes count toward the limit as name + type + value bytes, a
     * Binary value by the bytes its base64 stands for ("AAECAw==" is 4):
     * 262144 - (1 + 6 + 4) bytes of message is exactly at the limit. */
    for (int extra = 0; extra <= 1; extra++) {
        big[262144 - 11 + extra] = '\0';
        snprintf(big_req, 262300, "{\"TopicArn\":\"" T "orders\",\"Message\":\"%s\","
                 "\"MessageAttributes\":{\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":"
                 "\"AAECAw==\"}}}", big);
        if (extra)
            fails("Publish", big_req, 400, "InvalidParameter", "Invalid parameter: Message too long");
        else
            cJSON_Delete(ok("Publish", big_req));
        memset(big, 'x', 262145);
    }
    /* The limit is on UTF-8 bytes, not characters: 131072 two-byte characters
     * fit, one more byte does not. */
    char *wide = malloc(262300);
    strcpy(wide, "{\"TopicArn\":\"" T "orders\",\"Message\":\"");
    char *w = wide + strlen(wide);
    for (int i = 0; i < 131072; i++) {
        *w++ = '\xC3';
        *w++ = '\xA9';
    }
    strcpy(w, "\"}");
    cJSON_Delete(ok("Publish", wide));
    strcpy(w, "x\"}");
    fails("Publish", wide, 400, "InvalidParameter", "Invalid parameter: Message too long");
    free(wide);
    free(big);
    free(big_req);
}

Test(sns, publish_delivers_the_envelope_to_each_confirmed_subscription)
{
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"orders\",\"Attributes\":{\"DisplayName\":"
                                   "\"Shop\"}}"));
    cJSON *sub = ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\","
                                 "\"Endpoint\":\"arn:aws:sqs:us-east-1:000000000000:q\"}");
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sms\","
                                 "\"Endpoint\":\"+15550100\"}"));
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"email\","
                                 "\"Endpoint\":\"pending@example.com\"}"));
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"lambda\","
                                 "\"Endpoint\":\"arn:aws:lambda:us-east-1:000000000000:function:f\"}"));
    cJSON_DeleteItemFromArray(deliveries, 0); /* the confirmation */
    cJSON *out = ok("Publish", "{\"TopicArn\":\"" T "orders\",\"Message\":\"hi & bye\",\"Subject\":"
                               "\"Order\",\"MessageAttributes\":{\"k\":{\"DataType\":\"String\","
                               "\"StringValue\":\"v\"}}}");
    const char *mid = str(out, "MessageId");
    cr_assert_eq(strlen(mid), 36);
    cr_assert_null(str(out, "SequenceNumber"));
    cr_assert_eq(cJSON_GetArraySize(deliveries), 4, "topic + sqs + sms + lambda, not the pending");
    const cJSON *top = last_delivery("topic");
    cr_assert_str_eq(str(top, "to"), T "orders");
    cr_assert_str_eq(str(top, "body"), "hi & bye");
    cr_assert_str_eq(str(top, "subject"), "Order");
    const cJSON *sq = last_delivery("sqs");
    cr_assert_str_eq(str(sq, "subscriptionArn"), str(sub, "SubscriptionArn"));
    cJSON *env = cJSON_Parse(str(sq, "body"));
    cr_assert_str_eq(str(env, "Type"), "Notification");
    cr_assert_str_eq(str(env, "MessageId"), mid);
    cr_assert_str_eq(str(env, "TopicArn"), T "orders");
    cr_assert_str_eq(str(env, "Subject"), "Order");
    cr_assert_str_eq(str(env, "Message"), "hi & bye");
    cr_assert_str_eq(str(env, "Timestamp"), "2023-11-14T22:13:20.000Z");
    cr_assert_str_eq(str(env, "SignatureVersion"), "1");
    cr_assert(strstr(str(env, "UnsubscribeURL"), str(sub, "SubscriptionArn")));
    cr_assert_str_eq(str(cJSON_GetObjectItem(cJSON_GetObjectItem(env, "MessageAttributes"), "k"),
                         "Value"), "v");
    cJSON_Delete(env);
    cr_assert_str_eq(str(last_delivery("sms"), "body"), "hi & bye");
    cr_assert_str_eq(str(last_delivery("sms"), "from"), "Shop");
    const cJSON *ev = cJSON_GetObjectItem(last_delivery("lambda"), "event");
    const cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItem(ev, "Records"), 0);
    cr_assert_str_eq(str(rec, "EventSource"), "aws:sns");
    const cJSON *s = cJSON_GetObjectItem(rec, "Sns");
    cr_assert_str_eq(str(s, "Message"), "hi & bye");
    cr_assert_str_eq(str(s, "MessageId"), mid);
    cr_assert(str(s, "SigningCertUrl") && str(s, "UnsubscribeUrl"));
    cJSON_Delete(out);
    cJSON_Delete(sub);
}

Test(sns, message_structure_and_raw_delivery_choose_the_body)
{
    create("orders");
    sns_model_set_auto_confirm(model, 1);
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"email\","
                                 "\"Endpoint\":\"a@example.com\"}"));
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\",\"Endpoint\":"
                                 "\"arn:aws:sqs:us-east-1:0:q\",\"Attributes\":{"
                                 "\"RawMessageDelivery\":\"true\"}}"));
    cJSON_Delete(ok("Publish", "{\"TopicArn\":\"" T "orders\",\"MessageStructure\":\"json\","
                               "\"Message\":\"{\\\"default\\\":\\\"d\\\",\\\"email\\\":\\\"e\\\"}\"}"));
    cr_assert_str_eq(str(last_delivery("topic"), "body"), "d");
    cr_assert_str_eq(str(last_delivery("sqs"), "body"), "d");
    const cJSON *mail = last_delivery("email");
    const char *footer = "e\n\n--\nIf you wish to stop receiving";
    cr_assert(!strncmp(str(mail, "body"), footer, strlen(footer)), "%s", str(mail, "body"));
    cr_assert_str_eq(str(mail, "subject"), "AWS Notification Message");
    cr_assert_str_eq(str(mail, "from"), "AWS Notifications <no-reply@sns.amazonaws.com>");
}

Test(sns, filter_policies_select_subscriptions)
{
    static const struct {
        const char *policy, *attrs;
        int delivered;
    } cases[] = {
        {"{\"k\":[\"a\",\"b\"]}", "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"b\"}}", 1},
        {"{\"k\":[\"a\"]}", "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"b\"}}", 0},
        {"{\"k\":[\"a\"]}", "{}", 0},
        {"{\"k\":[{\"exists\":false}]}", "{}", 1},
        {"{\"k\":[{\"exists\":true}]}", "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"x\"}}", 1},
        {"{\"k\":[{\"prefix\":\"ord\"}]}", "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"order\"}}", 1},
        {"{\"k\":[{\"anything-but\":[\"x\",\"y\"]}]}", "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"y\"}}", 0},
        {"{\"k\":[{\"anything-but\":\"x\"}]}", "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"z\"}}", 1},
        {"{\"n\":[{\"numeric\":[\">\",1,\"<=\",5]}]}", "{\"n\":{\"DataType\":\"Number\",\"StringValue\":\"5\"}}", 1},
        {"{\"n\":[{\"numeric\":[\">\",1,\"<=\",5]}]}", "{\"n\":{\"DataType\":\"Number\",\"StringValue\":\"6\"}}", 0},
        {"{\"n\":[7]}", "{\"n\":{\"DataType\":\"Number\",\"StringValue\":\"7.0\"}}", 1},
        {"{\"n\":[7]}", "{\"n\":{\"DataType\":\"String\",\"StringValue\":\"7\"}}", 0},
        {"{\"a\":[\"x\"]}", "{\"a\":{\"DataType\":\"String.Array\",\"StringValue\":\"[\\\"w\\\",\\\"x\\\"]\"}}", 1},
        {"{\"a\":[\"x\"],\"b\":[\"y\"]}", "{\"a\":{\"DataType\":\"String\",\"StringValue\":\"x\"}}", 0},
        {"{\"k\":[\"b\"]}", "{\"k\":{\"DataType\":\"Binary\",\"BinaryValue\":\"Yg==\"}}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32], req[1200];
        snprintf(name, sizeof name, "f%zu", i);
        create(name);
        cJSON *attrs = cJSON_CreateObject();
        cJSON_AddStringToObject(attrs, "FilterPolicy", cases[i].policy);
        char *attrs_text = cJSON_PrintUnformatted(attrs);
        cJSON_Delete(attrs);
        snprintf(req, sizeof req, "{\"TopicArn\":\"" T "%s\",\"Protocol\":\"sqs\",\"Endpoint\":"
                 "\"arn:aws:sqs:us-east-1:0:%s\",\"Attributes\":%s}", name, name, attrs_text);
        free(attrs_text);
        cJSON_Delete(ok("Subscribe", req));
        size_t before = count_delivery("sqs");
        snprintf(req, sizeof req, "{\"TopicArn\":\"" T "%s\",\"Message\":\"m\","
                 "\"MessageAttributes\":%s}", name, cases[i].attrs);
        cJSON_Delete(ok("Publish", req));
        cr_assert_eq(count_delivery("sqs") - before, (size_t)cases[i].delivered, "case %zu", i);
    }
    /* MessageBody scope reads the message's JSON. */
    create("body");
    cJSON_Delete(ok("Subscribe", "{\"TopicArn\":\"" T "body\",\"Protocol\":\"sqs\",\"Endpoint\":"
                                 "\"arn:aws:sqs:us-east-1:0:b\",\"Attributes\":{\"FilterPolicyScope\":"
                                 "\"MessageBody\",\"FilterPolicy\":\"{\\\"order\\\":{\\\"total\\\":"
                                 "[{\\\"numeric\\\":[\\\">\\\",100]}]}}\"}}"));
    size_t before = count_delivery("sqs");
    cJSON_Delete(ok("Publish", "{\"TopicArn\":\"" T "body\",\"Message\":\"{\\\"order\\\":{\\\"total\\\":150}}\"}"));
    cJSON_Delete(ok("Publish", "{\"TopicArn\":\"" T "body\",\"Message\":\"{\\\"order\\\":{\\\"total\\\":50}}\"}"));
    cJSON_Delete(ok("Publish", "{\"TopicArn\":\"" T "body\",\"Message\":\"not json\"}"));
    cr_assert_eq(count_delivery("sqs") - before, 1);
}

Test(sns, fifo_publish_needs_a_group_numbers_messages_and_drops_duplicates)
{
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"o.fifo\",\"Attributes\":{\"FifoTopic\":\"true\"}}"));
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"c.fifo\",\"Attributes\":{\"FifoTopic\":\"true\","
                                   "\"ContentBasedDeduplication\":\"true\"}}"));
    fails("Publish", "{\"TopicArn\":\"" T "o.fifo\",\"Message\":\"m\"}", 400, "InvalidParameter",
          "Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
    fails("Publish", "{\"TopicArn\":\"" T "o.fifo\",\"Message\":\"m\",\"MessageGroupId\":\"g\"}",
          400, "InvalidParameter", "Invalid parameter: The topic should either have "
          "ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
    cJSON *a = ok("Publish", "{\"TopicArn\":\"" T "o.fifo\",\"Message\":\"m\",\"MessageGroupId\":"
                             "\"g\",\"MessageDeduplicationId\":\"1\"}");
    cJSON *b = ok("Publish", "{\"TopicArn\":\"" T "o.fifo\",\"Message\":\"m\",\"MessageGroupId\":"
                             "\"g\",\"MessageDeduplicationId\":\"2\"}");
    cr_assert_str_eq(str(a, "SequenceNumber"), "10000000000000000001");
    cr_assert_str_eq(str(b, "SequenceNumber"), "10000000000000000002");
    size_t topics = count_delivery("topic");
    cJSON *dup = ok("Publish", "{\"TopicArn\":\"" T "o.fifo\",\"Message\":\"other\","
                               "\"MessageGroupId\":\"g\",\"MessageDeduplicationId\":\"1\"}");
    cr_assert_str_eq(str(dup, "MessageId"), str(a, "MessageId"));
    cr_assert_eq(count_delivery("topic"), topics, "a duplicate is not delivered");
    core_clock_advance_ms(clk, 5 * 60 * 1000 + 1);
    cJSON *later = ok("Publish", "{\"TopicArn\":\"" T "o.fifo\",\"Message\":\"m\","
                                 "\"MessageGroupId\":\"g\",\"MessageDeduplicationId\":\"1\"}");
    cr_assert_str_neq(str(later, "MessageId"), str(a, "MessageId"));
    cr_assert_eq(count_delivery("topic"), topics + 1);
    cJSON *c1 = ok("Publish", "{\"TopicArn\":\"" T "c.fifo\",\"Message\":\"same\",\"MessageGroupId\":\"g\"}");
    cJSON *c2 = ok("Publish", "{\"TopicArn\":\"" T "c.fifo\",\"Message\":\"same\",\"MessageGroupId\":\"h\"}");
    cr_assert_str_eq(str(c1, "MessageId"), str(c2, "MessageId"), "content-based deduplication");
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(dup);
    cJSON_Delete(later);
    cJSON_Delete(c1);
    cJSON_Delete(c2);
}

Test(sns, publish_to_a_phone_number_and_by_target_arn)
{
    create("orders");
    cJSON_Delete(ok("Publish", "{\"PhoneNumber\":\"+15550199\",\"Message\":\"code 1\"}"));
    cr_assert_str_eq(str(last_delivery("sms"), "to"), "+15550199");
    cr_assert_str_eq(str(last_delivery("sms"), "body"), "code 1");
    cJSON_Delete(ok("Publish", "{\"TargetArn\":\"" T "orders\",\"Message\":\"t\"}"));
    cr_assert_str_eq(str(last_delivery("topic"), "body"), "t");
}

Test(sns, publish_batch_reports_each_entry)
{
    create("orders");
    cJSON *out = ok("PublishBatch", "{\"TopicArn\":\"" T "orders\",\"PublishBatchRequestEntries\":["
                                    "{\"Id\":\"a\",\"Message\":\"1\"},{\"Id\":\"b\",\"Message\":\"\"},"
                                    "{\"Id\":\"c\",\"Message\":\"3\",\"Subject\":\"x\\ny\"}]}");
    const cJSON *okl = cJSON_GetObjectItem(out, "Successful");
    const cJSON *bad = cJSON_GetObjectItem(out, "Failed");
    cr_assert_eq(cJSON_GetArraySize(okl), 1);
    cr_assert_str_eq(str(cJSON_GetArrayItem(okl, 0), "Id"), "a");
    cr_assert_eq(cJSON_GetArraySize(bad), 2);
    cr_assert_str_eq(str(cJSON_GetArrayItem(bad, 0), "Code"), "InvalidParameter");
    cr_assert_str_eq(str(cJSON_GetArrayItem(bad, 1), "Message"), "Invalid parameter: Subject");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(bad, 0), "SenderFault")));
    cJSON_Delete(out);
    static const struct {
        const char *entries, *type;
    } cases[] = {
        {"[]", "EmptyBatchRequest"},
        {"[{\"Id\":\"a\",\"Message\":\"1\"},{\"Id\":\"a\",\"Message\":\"2\"}]",
         "BatchEntryIdsNotDistinct"},
        {"[{\"Id\":\"a b\",\"Message\":\"1\"}]", "InvalidBatchEntryId"},
        {"[{\"Message\":\"1\"}]", "InvalidBatchEntryId"},
        {"[{\"Id\":\"1\",\"Message\":\"m\"},{\"Id\":\"2\",\"Message\":\"m\"},{\"Id\":\"3\","
         "\"Message\":\"m\"},{\"Id\":\"4\",\"Message\":\"m\"},{\"Id\":\"5\",\"Message\":\"m\"},"
         "{\"Id\":\"6\",\"Message\":\"m\"},{\"Id\":\"7\",\"Message\":\"m\"},{\"Id\":\"8\","
         "\"Message\":\"m\"},{\"Id\":\"9\",\"Message\":\"m\"},{\"Id\":\"10\",\"Message\":\"m\"},"
         "{\"Id\":\"11\",\"Message\":\"m\"}]", "TooManyEntriesInBatchRequest"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char req[2000];
        snprintf(req, sizeof req, "{\"TopicArn\":\"" T "orders\",\"PublishBatchRequestEntries\":%s}",
                 cases[i].entries);
        fails("PublishBatch", req, 400, cases[i].type, NULL);
    }
}

Test(sns, tags_are_added_listed_and_removed)
{
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"orders\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"}]}"));
    cJSON_Delete(ok("TagResource", "{\"ResourceArn\":\"" T "orders\",\"Tags\":[{\"Key\":\"b\","
                                   "\"Value\":\"2\"},{\"Key\":\"a\",\"Value\":\"3\"}]}"));
    cJSON_Delete(ok("UntagResource", "{\"ResourceArn\":\"" T "orders\",\"TagKeys\":[\"b\"]}"));
    cJSON *out = ok("ListTagsForResource", "{\"ResourceArn\":\"" T "orders\"}");
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(out, "Tags"));
    cr_assert_str_eq(text, "[{\"Key\":\"a\",\"Value\":\"3\"}]");
    free(text);
    cJSON_Delete(out);
    fails("ListTagsForResource", "{\"ResourceArn\":\"" T "gone\"}", 404, "ResourceNotFound", NULL);
    /* One key twice in one request is refused (and changes nothing). */
    fails("TagResource", "{\"ResourceArn\":\"" T "orders\",\"Tags\":[{\"Key\":\"c\",\"Value\":"
                         "\"1\"},{\"Key\":\"c\",\"Value\":\"2\"}]}", 400, "InvalidParameter",
          "Invalid parameter: Duplicated keys are not allowed.");
    fails("CreateTopic", "{\"Name\":\"dup\",\"Tags\":[{\"Key\":\"c\",\"Value\":\"1\"},"
                         "{\"Key\":\"c\",\"Value\":\"1\"}]}", 400, "InvalidParameter",
          "Invalid parameter: Duplicated keys are not allowed.");
    out = ok("ListTagsForResource", "{\"ResourceArn\":\"" T "orders\"}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Tags")), 1);
    cJSON_Delete(out);
    fails("GetTopicAttributes", "{\"TopicArn\":\"" T "dup\"}", 404, "NotFound", NULL);
}

/* --- the template and storage --------------------------------------------------- */

Test(sns, template_topics_are_created_once_with_their_subscriptions)
{
    const char *yaml =
        "Parameters:\n  Mail:\n    Type: String\n    Default: ops@example.com\n"
        "Resources:\n"
        "  Orders:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: !Sub ${AWS::StackName}-orders\n      DisplayName: Shop orders\n"
        "      Tags:\n        - Key: team\n          Value: shop\n"
        "      Subscription:\n        - Protocol: email\n          Endpoint: !Ref Mail\n"
        "        - Protocol: sqs\n          Endpoint: arn:aws:sqs:us-east-1:000000000000:q\n"
        "  Fifo:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: events.fifo\n      FifoTopic: true\n"
        "      ContentBasedDeduplication: true\n"
        "  Unnamed:\n    Type: AWS::SNS::Topic\n";
    core_template *tpl = NULL;
    core_err err;
    core_template_opts opts = {0};
    cr_assert_eq(core_template_load_string(yaml, strlen(yaml), ".", &opts, &tpl, &err), CORE_OK,
                 "%s", err.message);
    cr_assert_eq(sns_model_seed_template(model, tpl, deliveries, &err), CORE_OK, "%s", err.message);
    cr_assert_eq(sns_model_seed_template(model, tpl, deliveries, &err), CORE_OK, "%s", err.message);
    cr_assert_str_eq(topic_attr(T "shoplocal-orders", "DisplayName"), "Shop orders");
    cr_assert_str_eq(topic_attr(T "shoplocal-orders", "SubscriptionsPending"), "1");
    cr_assert_str_eq(topic_attr(T "shoplocal-orders", "SubscriptionsConfirmed"), "1");
    cr_assert_str_eq(topic_attr(T "events.fifo", "ContentBasedDeduplication"), "true");
    cr_assert_eq(count_delivery("email"), 1, "one confirmation, not one per start");
    cr_assert_str_eq(str(last_delivery("email"), "to"), "ops@example.com");
    const core_tpl_resource *r = core_template_resource(tpl, "Unnamed");
    cr_assert_str_eq(topic_attr(r->arn, "TopicArn"), r->arn);
    cJSON *out = ok("ListTopics", "{}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Topics")), 3);
    cJSON_Delete(out);
    core_template_free(tpl);
}

Test(sns, a_functions_environment_gets_the_topic_arn_from_ref)
{
    const char *yaml =
        "Resources:\n"
        "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: !Sub ${AWS::StackName}-order-notifications\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: bootstrap\n      Runtime: provided.al2023\n      CodeUri: .\n"
        "      Environment:\n        Variables:\n          SNS_TOPIC_ARN: !Ref Topic\n"
        "          TOPIC_NAME: !GetAtt Topic.TopicName\n";
    core_template *tpl = NULL;
    core_err err;
    core_template_opts opts = {.region = "eu-west-1"};
    cr_assert_eq(core_template_load_string(yaml, strlen(yaml), ".", &opts, &tpl, &err), CORE_OK,
                 "%s", err.message);
    const core_tpl_function *fn = core_template_function(tpl, "Fn");
    cr_assert_not_null(fn);
    cr_assert_str_eq(str(fn->environment, "SNS_TOPIC_ARN"),
                     "arn:aws:sns:eu-west-1:000000000000:shoplocal-order-notifications");
    cr_assert_str_eq(str(fn->environment, "TOPIC_NAME"), "shoplocal-order-notifications");
    core_template_free(tpl);
}

Test(sns, state_survives_a_reopen)
{
    char dir[] = "/tmp/sns-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    sns_model *m = NULL;
    core_err err;
    cr_assert_eq(sns_model_open(dir, "eu-west-1", clk, &m, &err), CORE_OK, "%s", err.message);
    cJSON *req = cJSON_Parse("{\"Name\":\"kept\"}"), *out = NULL;
    cr_assert_eq(sns_model_run(m, sns_op_create_topic, req, &out, deliveries, &err), CORE_OK);
    cr_assert_str_eq(str(out, "TopicArn"), "arn:aws:sns:eu-west-1:000000000000:kept");
    cJSON_Delete(out);
    cJSON_Delete(req);
    sns_model_close(m);
    cr_assert_eq(sns_model_open(dir, "eu-west-1", clk, &m, &err), CORE_OK);
    req = cJSON_Parse("{}");
    cr_assert_eq(sns_model_run(m, sns_op_list_topics, req, &out, deliveries, &err), CORE_OK);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "Topics")), 1);
    cJSON_Delete(out);
    cJSON_Delete(req);
    sns_model_close(m);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static int dedup_rows(const char *dir)
{
    char path[300];
    snprintf(path, sizeof path, "%s/sns.db", dir);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM dedup", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A FIFO topic's sequence numbers and deduplication window survive a reopen
 * of sns.db; ids past the 5-minute window are purged, so a stream of unique
 * ids does not grow the database for ever. */
Test(sns, fifo_state_survives_a_reopen_and_expired_dedup_ids_are_purged)
{
    char dir[] = "/tmp/sns-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    sns_model *m = NULL;
    core_err err;
    cr_assert_eq(sns_model_open(dir, "us-east-1", clk, &m, &err), CORE_OK, "%s", err.message);
    cJSON *req = cJSON_Parse("{\"Name\":\"f.fifo\",\"Attributes\":{\"FifoTopic\":\"true\"}}");
    cJSON *out = NULL;
    cr_assert_eq(sns_model_run(m, sns_op_create_topic, req, &out, deliveries, &err), CORE_OK);
    cJSON_Delete(out);
    cJSON_Delete(req);
    char text[300], first_id[64] = "";
    for (int i = 0; i < 50; i++) {
        snprintf(text, sizeof text, "{\"TopicArn\":\"" T "f.fifo\",\"Message\":\"m\","
                 "\"MessageGroupId\":\"g\",\"MessageDeduplicationId\":\"d%d\"}", i);
        req = cJSON_Parse(text);
        cr_assert_eq(sns_model_run(m, sns_op_publish, req, &out, deliveries, &err), CORE_OK,
                     "%s", err.message);
        if (!i)
            snprintf(first_id, sizeof first_id, "%s", str(out, "MessageId"));
        cJSON_Delete(out);
        cJSON_Delete(req);
    }
    sns_model_close(m);
    cr_assert_eq(dedup_rows(dir), 50);
    cr_assert_eq(sns_model_open(dir, "us-east-1", clk, &m, &err), CORE_OK, "%s", err.message);
    /* After the reopen: d0 is still a duplicate (its first id answers), and
     * the next message continues the sequence. */
    req = cJSON_Parse("{\"TopicArn\":\"" T "f.fifo\",\"Message\":\"m\",\"MessageGroupId\":\"g\","
                      "\"MessageDeduplicationId\":\"d0\"}");
    cr_assert_eq(sns_model_run(m, sns_op_publish, req, &out, deliveries, &err), CORE_OK);
    cr_assert_str_eq(str(out, "MessageId"), first_id);
    cJSON_Delete(out);
    cJSON_Delete(req);
    req = cJSON_Parse("{\"TopicArn\":\"" T "f.fifo\",\"Message\":\"m\",\"MessageGroupId\":\"g\","
                      "\"MessageDeduplicationId\":\"new\"}");
    cr_assert_eq(sns_model_run(m, sns_op_publish, req, &out, deliveries, &err), CORE_OK);
    cr_assert_str_eq(str(out, "SequenceNumber"), "10000000000000000051");
    cJSON_Delete(out);
    cJSON_Delete(req);
    /* Past the window, the next publish purges the 50 old ids. */
    core_clock_advance_ms(clk, 5 * 60 * 1000 + 1);
    req = cJSON_Parse("{\"TopicArn\":\"" T "f.fifo\",\"Message\":\"m\",\"MessageGroupId\":\"g\","
                      "\"MessageDeduplicationId\":\"d0\"}");
    cr_assert_eq(sns_model_run(m, sns_op_publish, req, &out, deliveries, &err), CORE_OK);
    cr_assert_str_neq(str(out, "MessageId"), first_id, "d0 is new again past the window");
    cJSON_Delete(out);
    cJSON_Delete(req);
    sns_model_close(m);
    cr_assert_eq(dedup_rows(dir), 1);
    snprintf(text, sizeof text, "rm -rf %s", dir);
    cr_assert_eq(system(text), 0);
}

/* The JSON form (Step Functions, in-process callers) carries types the Query
 * form cannot: every operation, with each member it reads replaced in turn
 * by a number, a boolean, null, an array, an object and an over-long string,
 * answers OK or a 4xx error — never a crash, a 500 or a stored half. */
Test(sns, every_operation_survives_members_of_the_wrong_type)
{
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"base\"}"));
    cJSON_Delete(ok("CreateTopic", "{\"Name\":\"base.fifo\",\"Attributes\":{\"FifoTopic\":\"true\"}}"));
    static const char *const actions[] = {
        "CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
        "Subscribe", "ConfirmSubscription", "Unsubscribe", "ListSubscriptions",
        "ListSubscriptionsByTopic", "GetSubscriptionAttributes", "SetSubscriptionAttributes",
        "Publish", "PublishBatch", "ListTagsForResource", "TagResource", "UntagResource",
    };
    static const char *const members[] = {
        "Name", "TopicArn", "TargetArn", "PhoneNumber", "SubscriptionArn", "ResourceArn",
        "AttributeName", "AttributeValue", "Attributes", "Tags", "TagKeys", "Protocol",
        "Endpoint", "Token", "NextToken", "Message", "Subject", "MessageStructure",
        "MessageAttributes", "MessageGroupId", "MessageDeduplicationId",
        "PublishBatchRequestEntries", "ReturnSubscriptionArn",
    };
    char *longtext = malloc(70000);
    memset(longtext, 'a', 69999);
    longtext[69999] = '\0';
    const char *base = "{\"Name\":\"t\",\"TopicArn\":\"" T "base\",\"ResourceArn\":\"" T "base\","
                       "\"AttributeName\":\"DisplayName\",\"AttributeValue\":\"v\","
                       "\"Protocol\":\"sqs\",\"Endpoint\":\"arn:aws:sqs:us-east-1:000000000000:q\","
                       "\"Message\":\"m\",\"Token\":\"x\",\"TagKeys\":[\"k\"],"
                       "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],"
                       "\"PublishBatchRequestEntries\":[{\"Id\":\"a\",\"Message\":\"m\"}]}";
    size_t runs = 0;
    for (size_t a = 0; a < sizeof actions / sizeof *actions; a++) {
        for (size_t k = 0; k < sizeof members / sizeof *members; k++) {
            for (int v = 0; v < 6; v++) {
                cJSON *req = cJSON_Parse(base);
                cJSON *bad = v == 0   ? cJSON_CreateNumber(-1e300)
                             : v == 1 ? cJSON_CreateTrue()
                             : v == 2 ? cJSON_CreateNull()
                             : v == 3 ? cJSON_Parse("[1,{},[null]]")
                             : v == 4 ? cJSON_Parse("{\"\":{\"DataType\":5},\"x\":[]}")
                                      : cJSON_CreateString(longtext);
                cJSON_DeleteItemFromObjectCaseSensitive(req, members[k]);
                cJSON_AddItemToObject(req, members[k], bad);
                cJSON *out = NULL;
                core_err err;
                core_err_clear(&err);
                int rc = sns_model_run(model, sns_op_find(actions[a]), req, &out, deliveries, &err);
                cr_assert(rc == CORE_OK || (err.status >= 400 && err.status < 500),
                          "%s with %s of kind %d: %d %s %s", actions[a], members[k], v, err.status,
                          err.type, err.message);
                cr_assert(rc == CORE_OK || !out, "%s: an error with an answer", actions[a]);
                cJSON_Delete(out);
                cJSON_Delete(req);
                runs++;
            }
        }
    }
    free(longtext);
    cr_assert_eq(runs, 17 * 23 * 6);
}

/* An email delivery keeps the whole unsubscribe footer however long the
 * address (it was cut at a fixed 1,600 bytes of room). */
Test(sns, an_email_to_a_long_address_keeps_its_whole_footer)
{
    sns_model_set_auto_confirm(model, 1);
    create("orders");
    char local[3001];
    memset(local, 'a', 3000);
    local[3000] = '\0';
    char *req = malloc(4000);
    snprintf(req, 4000, "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"email\",\"Endpoint\":"
             "\"%s@example.com\"}", local);
    cJSON_Delete(ok("Subscribe", req));
    free(req);
    cJSON_Delete(ok("Publish", "{\"TopicArn\":\"" T "orders\",\"Message\":\"hello\"}"));
    const char *body = str(last_delivery("email"), "body");
    cr_assert(!strncmp(body, "hello\n\n--\n", 10), "%.40s", body);
    cr_assert(strstr(body, local), "the address is in the footer");
    const char *tail = "please contact us at https://aws.amazon.com/support";
    cr_assert_str_eq(body + strlen(body) - strlen(tail), tail, "the footer is whole");
}

/* --- concurrency and atomicity ------------------------------------------------- */

typedef struct race {
    int publishes, ok, not_found, other;
    char other_type[96];
} race;

static void *race_publisher(void *arg)
{
    race *r = arg;
    cJSON *req = cJSON_Parse("{\"TopicArn\":\"" T "race\",\"Message\":\"m\"}");
    cJSON *mine = cJSON_CreateArray();
    for (int i = 0; i < r->publishes; i++) {
        cJSON *out = NULL;
        core_err err;
        core_err_clear(&err);
        int before = cJSON_GetArraySize(mine);
        if (sns_model_run(model, sns_op_publish, req, &out, mine, &err) == CORE_OK) {
            r->ok++;
            /* A publish that succeeded recorded itself, whatever it raced. */
            if (cJSON_GetArraySize(mine) <= before)
                r->other++;
        } else if (err.status == 404 && !strcmp(err.type, "NotFound")) {
            r->not_found++;
            if (cJSON_GetArraySize(mine) != before)
                r->other++; /* a refused publish delivered something */
        } else {
            r->other++;
            snprintf(r->other_type, sizeof r->other_type, "%s", err.type);
        }
        cJSON_Delete(out);
    }
    cJSON_Delete(mine);
    cJSON_Delete(req);
    return NULL;
}

/* Publishes racing DeleteTopic, CreateTopic, Subscribe and Unsubscribe on other
 * threads: each publish either succeeds (and is recorded) or is 404 NotFound;
 * nothing else, nothing torn, and the model answers normally afterwards. */
Test(sns, publish_racing_delete_topic_and_unsubscribe_is_all_or_nothing)
{
    race a = {.publishes = 400}, b = {.publishes = 400};
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, race_publisher, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, race_publisher, &b), 0);
    cJSON *mine = cJSON_CreateArray();
    cJSON *create_req = cJSON_Parse("{\"Name\":\"race\"}");
    cJSON *delete_req = cJSON_Parse("{\"TopicArn\":\"" T "race\"}");
    cJSON *sub_req = cJSON_Parse("{\"TopicArn\":\"" T "race\",\"Protocol\":\"sqs\","
                                 "\"Endpoint\":\"arn:aws:sqs:us-east-1:000000000000:q\"}");
    int creates = 0;
    for (int i = 0; i < 150; i++) {
        cJSON *out = NULL;
        core_err err;
        core_err_clear(&err);
        cr_assert_eq(sns_model_run(model, sns_op_create_topic, create_req, &out, mine, &err),
                     CORE_OK, "%s", err.message);
        cJSON_Delete(out);
        creates++;
        out = NULL;
        cr_assert_eq(sns_model_run(model, sns_op_subscribe, sub_req, &out, mine, &err), CORE_OK,
                     "%s", err.message);
        char unsub[600];
        snprintf(unsub, sizeof unsub, "{\"SubscriptionArn\":\"%s\"}", str(out, "SubscriptionArn"));
        cJSON_Delete(out);
        out = NULL;
        if (i % 2) {
            cJSON *u = cJSON_Parse(unsub);
            cr_assert_eq(sns_model_run(model, sns_op_unsubscribe, u, &out, mine, &err), CORE_OK,
                         "%s", err.message);
            cJSON_Delete(u);
            cJSON_Delete(out);
            out = NULL;
        }
        cr_assert_eq(sns_model_run(model, sns_op_delete_topic, delete_req, &out, mine, &err),
                     CORE_OK, "%s", err.message);
        cJSON_Delete(out);
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.other + b.other, 0, "a racing publish answered %s or was torn",
                 a.other_type[0] ? a.other_type : b.other_type);
    cr_assert_eq(a.ok + a.not_found, 400);
    cr_assert_eq(b.ok + b.not_found, 400);
    cr_assert_eq(creates, 150);
    /* Deleted last: no topic, and no subscription left behind for it. */
    fails("Publish", "{\"TopicArn\":\"" T "race\",\"Message\":\"m\"}", 404, "NotFound", NULL);
    cJSON *list = ok("ListSubscriptions", "{}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "Subscriptions")), 0);
    cJSON_Delete(list);
    cJSON_Delete(mine);
    cJSON_Delete(create_req);
    cJSON_Delete(delete_req);
    cJSON_Delete(sub_req);
}

/* An operation that wrote and then failed: sns_model_run's savepoint takes
 * back every write and every delivery it had queued. */
static int create_then_fail(sns_model *m, const cJSON *req, cJSON **out, cJSON *d,
                            core_err *err)
{
    if (sns_op_create_topic(m, req, out, d, err) != CORE_OK)
        return CORE_ERROR;
    cJSON *sub = cJSON_Parse("{\"TopicArn\":\"" T "half\",\"Protocol\":\"email\","
                             "\"Endpoint\":\"a@example.com\"}");
    cJSON *sub_out = NULL;
    int rc = sns_op_subscribe(m, sub, &sub_out, d, err);
    cJSON_Delete(sub);
    cJSON_Delete(sub_out);
    cr_assert_eq(rc, CORE_OK, "%s", err->message);
    cr_assert_gt(cJSON_GetArraySize(d), 0, "the confirmation was queued");
    return core_err_set(err, 500, "InternalError", "failed after writing");
}

Test(sns, a_failed_operation_leaves_no_half_written_topic_or_subscription)
{
    cJSON *req = cJSON_Parse("{\"Name\":\"half\"}");
    cJSON *out = NULL;
    core_err err;
    core_err_clear(&err);
    cr_assert_eq(sns_model_run(model, create_then_fail, req, &out, deliveries, &err), CORE_ERROR);
    cJSON_Delete(req);
    cr_assert_null(out);
    cr_assert_eq(err.status, 500);
    cr_assert_eq(cJSON_GetArraySize(deliveries), 0, "the queued confirmation was taken back");
    fails("GetTopicAttributes", "{\"TopicArn\":\"" T "half\"}", 404, "NotFound", NULL);
    cJSON *list = ok("ListSubscriptions", "{}");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "Subscriptions")), 0);
    cJSON_Delete(list);
    /* And the model goes on: the same topic can be created for real. */
    create("half");
}

Test(sns, the_outbox_takes_every_sns_delivery_channel)
{
    core_outbox *box = NULL;
    core_err err;
    cr_assert_eq(core_outbox_open(NULL, &box, &err), CORE_OK, "%s", err.message);
    static const char *const channels[] = {"topic", "email", "email-json", "sms", "sqs",
                                           "lambda", "http", "https", "firehose", "application"};
    for (size_t i = 0; i < sizeof channels / sizeof *channels; i++) {
        core_outbox_message msg = {.channel = channels[i], .to = "x", .body = "b",
                                   .source = "sns"};
        cr_assert_eq(core_outbox_append(box, 1, &msg, NULL, &err), CORE_OK, "%s: %s",
                     channels[i], err.message);
    }
    core_outbox_message fax = {.channel = "fax", .to = "x", .body = "b", .source = "sns"};
    cr_assert_eq(core_outbox_append(box, 1, &fax, NULL, &err), CORE_ERROR);
    cr_assert_str_eq(err.type, "ValidationException");
    cJSON *list = core_outbox_list(box, "x");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(list, "messages")), 10);
    cJSON_Delete(list);
    core_outbox_close(box);
}

/* --- the wire ----------------------------------------------------------------- */

static cJSON *form_request(const char *body)
{
    core_form *f = NULL;
    core_err err;
    cr_assert_eq(core_form_parse(body, strlen(body), NULL, &f, &err), CORE_OK, "%s", err.message);
    cJSON *req = sns_form_request(f, &err);
    core_form_free(f);
    cr_assert_not_null(req, "%s", err.message);
    return req;
}

Test(sns, query_forms_map_to_the_api_shapes)
{
    cJSON *req = form_request(
        "Action=Publish&Version=2010-03-31&TopicArn=arn&Message=m"
        "&MessageAttributes.entry.2.Name=n&MessageAttributes.entry.2.Value.DataType=Number"
        "&MessageAttributes.entry.2.Value.StringValue=7"
        "&MessageAttributes.entry.1.Name=b&MessageAttributes.entry.1.Value.DataType=Binary"
        "&MessageAttributes.entry.1.Value.BinaryValue=AAE%3D"
        "&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=D"
        "&Tags.member.1.Key=k&Tags.member.1.Value=v&TagKeys.member.1=x"
        "&PublishBatchRequestEntries.member.1.Id=e1&PublishBatchRequestEntries.member.1.Message=one"
        "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name=a"
        "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType=String"
        "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue=s");
    char *text = cJSON_PrintUnformatted(req);
    cr_assert_str_eq(text,
                     "{\"TopicArn\":\"arn\",\"Message\":\"m\",\"Attributes\":{\"DisplayName\":\"D\"},"
                     "\"MessageAttributes\":{\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAE=\"},"
                     "\"n\":{\"DataType\":\"Number\",\"StringValue\":\"7\"}},"
                     "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"TagKeys\":[\"x\"],"
                     "\"PublishBatchRequestEntries\":[{\"Id\":\"e1\",\"Message\":\"one\","
                     "\"MessageAttributes\":{\"a\":{\"DataType\":\"String\",\"StringValue\":\"s\"}}}]}");
    free(text);
    cJSON_Delete(req);
    core_form *f = NULL;
    core_err err;
    const char *bad = "Action=Publish&MessageAttributes.entry.0.Name=x";
    cr_assert_eq(core_form_parse(bad, strlen(bad), NULL, &f, &err), CORE_OK);
    cr_assert_null(sns_form_request(f, &err));
    cr_assert_str_eq(err.type, "InvalidParameterValue");
    core_form_free(f);
}

/* A map entry or message attribute without its key, or with a key given
 * twice, is refused: it is neither dropped nor overwritten in silence. */
Test(sns, query_form_maps_refuse_missing_and_repeated_keys)
{
    static const struct {
        const char *body, *type, *says;
    } cases[] = {
        {"Action=CreateTopic&Name=t&Attributes.entry.1.value=D", "InvalidParameter",
         "Invalid parameter: Attributes Reason: entry 1 has no key"},
        {"Action=CreateTopic&Name=t&Attributes.entry.1.key=&Attributes.entry.1.value=D",
         "InvalidParameter", "Invalid parameter: Attributes Reason: entry 1 has no key"},
        {"Action=CreateTopic&Name=t&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=A"
         "&Attributes.entry.2.key=DisplayName&Attributes.entry.2.value=B", "InvalidParameter",
         "Invalid parameter: Attributes Reason: entry 2 repeats a key given before"},
        {"Action=Publish&MessageAttributes.entry.1.Value.DataType=String"
         "&MessageAttributes.entry.1.Value.StringValue=s", "ParameterValueInvalid",
         "The request must contain non-empty message attribute name."},
        {"Action=Publish&MessageAttributes.entry.1.Name=&MessageAttributes.entry.1.Value.DataType=S",
         "ParameterValueInvalid", "The request must contain non-empty message attribute name."},
        {"Action=Publish&MessageAttributes.entry.1.Name=a%01&MessageAttributes.entry.2.Name=a%01",
         "ParameterValueInvalid", "The message attribute 'a?' is given more than once."},
        {"Action=PublishBatch&PublishBatchRequestEntries.member.1.Id=e"
         "&PublishBatchRequestEntries.member.1.MessageAttributes.entry.3.Value.DataType=String",
         "ParameterValueInvalid", "The request must contain non-empty message attribute name."},
        /* Gaps and out-of-order indexes are fine; 0, a sign or a huge index are not. */
        {"Action=Publish&MessageAttributes.entry.-1.Name=x", "InvalidParameterValue", NULL},
        {"Action=Publish&MessageAttributes.entry.99999999999.Name=x", "InvalidParameterValue",
         NULL},
        {"Action=Publish&MessageAttributes.entry.1001.Name=x", "InvalidParameterValue", NULL},
        {"Action=Publish&Tags.member.01.Key=x", "InvalidParameterValue", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        core_form *f = NULL;
        core_err err;
        core_err_clear(&err);
        cr_assert_eq(core_form_parse(cases[i].body, strlen(cases[i].body), NULL, &f, &err),
                     CORE_OK, "case %zu: %s", i, err.message);
        cr_assert_null(sns_form_request(f, &err), "case %zu (%s) was accepted", i, cases[i].body);
        cr_assert_eq(err.status, 400, "case %zu", i);
        cr_assert_str_eq(err.type, cases[i].type, "case %zu: %s", i, err.message);
        if (cases[i].says)
            cr_assert_str_eq(err.message, cases[i].says, "case %zu", i);
        core_form_free(f);
    }
    /* Gaps and indexes out of order keep every entry, ordered by index. */
    cJSON *req = form_request("Action=Publish&MessageAttributes.entry.7.Name=b"
                              "&MessageAttributes.entry.7.Value.DataType=String"
                              "&MessageAttributes.entry.3.Name=a"
                              "&MessageAttributes.entry.3.Value.DataType=String");
    const cJSON *ma = cJSON_GetObjectItemCaseSensitive(req, "MessageAttributes");
    cr_assert_eq(cJSON_GetArraySize(ma), 2);
    cr_assert_str_eq(ma->child->string, "a");
    cJSON_Delete(req);
}

/* An ARN of another region is what a client set for the wrong region sends:
 * SNS answers 400 "Invalid parameter: TopicArn" (not 404), and changes nothing. */
Test(sns, arns_of_another_region_are_invalid_parameters)
{
    create("orders");
    cJSON *sub = ok("Subscribe", "{\"TopicArn\":\"" T "orders\",\"Protocol\":\"sqs\","
                                 "\"Endpoint\":\"arn:aws:sqs:us-east-1:000000000000:q\"}");
    char other_sub[400], req[600];
    snprintf(other_sub, sizeof other_sub, "%s", str(sub, "SubscriptionArn"));
    memcpy(other_sub + strlen("arn:aws:sns:"), "eu-west-1", 9); /* same length as us-east-1 */
    cJSON_Delete(sub);
#define W "arn:aws:sns:eu-west-1:000000000000:orders"
    static const struct {
        const char *action, *req, *message;
    } cases[] = {
        {"Publish", "{\"TopicArn\":\"" W "\",\"Message\":\"m\"}", "Invalid parameter: TopicArn"},
        {"Publish", "{\"TargetArn\":\"" W "\",\"Message\":\"m\"}", "Invalid parameter: TargetArn"},
        {"Publish", "{\"TopicArn\":\"arn:aws:sns:us-east-10:000000000000:orders\","
                    "\"Message\":\"m\"}", "Invalid parameter: TopicArn"},
        {"Publish", "{\"TopicArn\":\"arn:aws:sns:us-east:000000000000:orders\","
                    "\"Message\":\"m\"}", "Invalid parameter: TopicArn"},
        {"Subscribe", "{\"TopicArn\":\"" W "\",\"Protocol\":\"sqs\","
                      "\"Endpoint\":\"arn:aws:sqs:us-east-1:000000000000:q\"}",
         "Invalid parameter: TopicArn"},
        {"GetTopicAttributes", "{\"TopicArn\":\"" W "\"}", "Invalid parameter: TopicArn"},
        {"DeleteTopic", "{\"TopicArn\":\"" W "\"}", "Invalid parameter: TopicArn"},
        {"PublishBatch", "{\"TopicArn\":\"" W "\",\"PublishBatchRequestEntries\":[{\"Id\":\"a\","
                         "\"Message\":\"m\"}]}", "Invalid parameter: TopicArn"},
        {"ListTagsForResource", "{\"ResourceArn\":\"" W "\"}", NULL},
    };
#undef W
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        fails(cases[i].action, cases[i].req, 400, "InvalidParameter", cases[i].message);
    snprintf(req, sizeof req, "{\"SubscriptionArn\":\"%s\"}", other_sub);
    fails("Unsubscribe", req, 400, "InvalidParameter", "Invalid parameter: SubscriptionArn");
    fails("GetSubscriptionAttributes", req, 400, "InvalidParameter", NULL);
    cr_assert_eq(cJSON_GetArraySize(deliveries), 0);
    cr_assert_str_eq(topic_attr(T "orders", "SubscriptionsConfirmed"), "1");
}

Test(sns, xml_answers_have_aws_layout_and_length)
{
    cJSON *out = cJSON_Parse("{\"MessageId\":\"567910cd-659e-55d4-8ccb-5aaf14679dc0\"}");
    size_t len = 0;
    char *xml = sns_xml_answer("Publish", out, "d74b8436-ae13-5ab4-a9ff-ce54dfea72a0", &len);
    cr_assert_str_eq(xml,
                     "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n"
                     "  <PublishResult>\n"
                     "    <MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId>\n"
                     "  </PublishResult>\n"
                     "  <ResponseMetadata>\n"
                     "    <RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId>\n"
                     "  </ResponseMetadata>\n"
                     "</PublishResponse>\n");
    cr_assert_eq(len, 294, "AWS's Content-Length for a Publish answer");
    free(xml);
    cJSON_Delete(out);
    out = cJSON_Parse("{\"Attributes\":{\"DisplayName\":\"a<b\"},\"Topics\":[{\"TopicArn\":\"t\"}],"
                      "\"Empty\":[]}");
    xml = sns_xml_answer("X", out, "r", &len);
    cr_assert(strstr(xml, "    <Attributes>\n      <entry>\n        <key>DisplayName</key>\n"
                          "        <value>a&lt;b</value>\n      </entry>\n    </Attributes>\n"),
              "%s", xml);
    cr_assert(strstr(xml, "    <Topics>\n      <member>\n        <TopicArn>t</TopicArn>\n"
                          "      </member>\n    </Topics>\n"), "%s", xml);
    cr_assert(strstr(xml, "    <Empty/>\n"), "%s", xml);
    free(xml);
    cJSON_Delete(out);
    out = cJSON_CreateObject();
    xml = sns_xml_answer("DeleteTopic", out, "r", &len);
    cr_assert_str_eq(xml, "<DeleteTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n"
                          "  <ResponseMetadata>\n    <RequestId>r</RequestId>\n"
                          "  </ResponseMetadata>\n</DeleteTopicResponse>\n");
    free(xml);
    xml = sns_xml_answer("ListTopics", out, "r", &len);
    cr_assert(strstr(xml, "  <ListTopicsResult/>\n"), "%s", xml);
    free(xml);
    cJSON_Delete(out);
    core_err err;
    core_err_set(&err, 404, "NotFound", "Topic <does> not exist");
    xml = sns_xml_error(&err, "r", &len);
    cr_assert_str_eq(xml, "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n"
                          "  <Error>\n    <Type>Sender</Type>\n    <Code>NotFound</Code>\n"
                          "    <Message>Topic &lt;does&gt; not exist</Message>\n  </Error>\n"
                          "  <RequestId>r</RequestId>\n</ErrorResponse>\n");
    free(xml);
    core_err_set(&err, 500, "InternalError", "x");
    xml = sns_xml_error(&err, "r", &len);
    cr_assert(strstr(xml, "<Type>Receiver</Type>"));
    free(xml);
}

Test(sns, error_codes_map_to_the_api_exception_shapes)
{
    static const char *const pairs[][2] = {
        {"NotFound", "NotFoundException"},
        {"InvalidParameter", "InvalidParameterException"},
        {"ParameterValueInvalid", "InvalidParameterValueException"},
        {"AuthorizationError", "AuthorizationErrorException"},
        {"EmptyBatchRequest", "EmptyBatchRequestException"},
        {"MalformedQueryString", "MalformedQueryString"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        cr_assert_str_eq(sns_error_shape(pairs[i][0]), pairs[i][1], "case %zu", i);
    cr_assert_null(sns_op_find("Fly"));
    cr_assert_null(sns_op_find(NULL));
}

/* --- Step Functions' sns:publish ------------------------------------------------ */

typedef struct stand_in {
    char target[128];
    cJSON *seen;
    int fail_status;
    const char *fail_type;
} stand_in;

static int stand_in_service(void *ctx, const char *target, const cJSON *body, cJSON **result,
                            core_err *err)
{
    stand_in *s = ctx;
    snprintf(s->target, sizeof s->target, "%s", target);
    cJSON_Delete(s->seen);
    s->seen = cJSON_Duplicate(body, 1);
    if (s->fail_type)
        return core_err_set(err, s->fail_status, s->fail_type, "Topic does not exist");
    *result = cJSON_Parse("{\"MessageId\":\"567910cd-659e-55d4-8ccb-5aaf14679dc0\"}");
    return CORE_OK;
}

Test(sns, step_functions_publish_serialises_the_message_and_shapes_the_result)
{
    stand_in s = {0};
    sfn_hooks hooks = {.ctx = &s, .call_service = stand_in_service};
    cJSON *params = cJSON_Parse("{\"TopicArn\":\"" T "o\",\"Message\":{\"id\":1,\"ok\":true}}");
    sfn_task_call call = {.resource = "arn:aws:states:::sns:publish", .params = params,
                          .region = "us-east-1"};
    cJSON *result = NULL;
    core_err err;
    cr_assert_eq(sfn_task_invoke(&hooks, &call, &result, &err), CORE_OK, "%s", err.message);
    cr_assert_str_eq(s.target, "AmazonSimpleNotificationService.Publish");
    cr_assert_str_eq(str(s.seen, "Message"), "{\"id\":1,\"ok\":true}");
    cr_assert_str_eq(str(result, "MessageId"), "567910cd-659e-55d4-8ccb-5aaf14679dc0");
    const cJSON *meta = cJSON_GetObjectItem(result, "SdkHttpMetadata");
    const cJSON *hdr = cJSON_GetObjectItem(meta, "HttpHeaders");
    cr_assert_str_eq(str(hdr, "Content-Length"), "294");
    cr_assert_str_eq(str(hdr, "Content-Type"), "text/xml");
    cr_assert_eq(cJSON_GetObjectItem(meta, "HttpStatusCode")->valueint, 200);
    cr_assert_str_eq(str(cJSON_GetObjectItem(result, "SdkResponseMetadata"), "RequestId"),
                     str(hdr, "x-amzn-RequestId"));
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "AllHttpHeaders"),
                                                "Date")));
    cr_assert_null(cJSON_GetObjectItem(result, "SequenceNumber"));
    cJSON_Delete(result);
    cJSON_Delete(params);
    cJSON_Delete(s.seen);
}

Test(sns, step_functions_publish_errors_are_sns_exceptions_with_the_sdk_cause)
{
    static const struct {
        int status;
        const char *type, *error, *code;
    } cases[] = {
        {404, "NotFoundException", "SNS.NotFoundException", "Error Code: NotFound;"},
        {400, "InvalidParameterException", "SNS.InvalidParameterException",
         "Error Code: InvalidParameter;"},
        {400, "InvalidParameterValueException", "SNS.InvalidParameterValueException",
         "Error Code: ParameterValueInvalid;"},
        {500, "InternalErrorException", "SNS.InternalErrorException", "Error Code: InternalError;"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        stand_in s = {.fail_status = cases[i].status, .fail_type = cases[i].type};
        sfn_hooks hooks = {.ctx = &s, .call_service = stand_in_service};
        cJSON *params = cJSON_Parse("{\"TopicArn\":\"" T "gone\",\"Message\":\"m\"}");
        sfn_task_call call = {.resource = "arn:aws:states:::sns:publish", .params = params};
        cJSON *result = NULL;
        core_err err;
        cr_assert_eq(sfn_task_invoke(&hooks, &call, &result, &err), CORE_ERROR, "case %zu", i);
        cr_assert_str_eq(err.type, cases[i].error, "case %zu", i);
        char want[64];
        snprintf(want, sizeof want, "(Service: AmazonSNS; Status Code: %d; ", cases[i].status);
        cr_assert(!strncmp(err.message, "Topic does not exist ", 21), "case %zu: %s", i,
                  err.message);
        cr_assert(strstr(err.message, want), "case %zu: %s", i, err.message);
        cr_assert(strstr(err.message, cases[i].code), "case %zu: %s", i, err.message);
        cJSON_Delete(params);
        cJSON_Delete(s.seen);
    }
}
