#!/usr/bin/env python3
"""Amazon SNS compatibility: boto3's sns client, the AWS CLI and raw Query
requests against the emulator — every operation, its errors as AWS shapes them
(code, message, HTTP status), pagination, the template's topics at start-up,
what each publish delivers to the outbox, a lambda subscription invoking a
function in-process, and Step Functions' arn:aws:states:::sns:publish (result
shape, outbox, and a missing topic caught as SNS.NotFoundException)."""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

ACCOUNT = "000000000000"
ORDERS = "arn:aws:sns:us-east-1:%s:shoplocal-order-notifications" % ACCOUNT
NS = "{http://sns.amazonaws.com/doc/2010-03-31/}"
ROLE = "arn:aws:iam::000000000000:role/sfn"
FUNCTIONS = os.path.join(os.path.dirname(harness.BIN), "tests", "functions")


def err(e):
    return (e.response["Error"]["Code"], e.response["Error"]["Message"],
            e.response["ResponseMetadata"]["HTTPStatusCode"])


def outbox(emu, to=None):
    url = emu.aws + "/_shoplocal/outbox" + ("?to=" + urllib.parse.quote(to) if to else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)["messages"]


def query(emu, body, method="POST"):
    """A raw Query-protocol request, signed only by its credential scope (the
    emulator routes on it; it checks no signature)."""
    where = urllib.parse.urlparse(emu.aws)
    auth = ("AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/sns/aws4_request, "
            "SignedHeaders=host, Signature=0")
    headers = [("Authorization", auth)]
    if method == "POST":
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        status, hdrs, data = harness.http_raw(where, "POST", "/", body.encode(), headers)
    else:
        status, hdrs, data = harness.http_raw(where, "GET", "/?" + body, None, headers)
    return status, hdrs, data.decode()


class SNS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--parameter", "AlertEmail=ops@example.com").start()
        cls.sns = cls.emu.client("sns")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def topic(self, **kw):
        return self.sns.create_topic(Name="t-" + uuid.uuid4().hex[:12], **kw)["TopicArn"]

    def raises(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return err(cm.exception)

    def cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        r = subprocess.run(["aws", "--endpoint-url", self.emu.aws, "sns"] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        return r.returncode, r.stdout, r.stderr

    # --- the template's topics -------------------------------------------------
    def test_template_topics_exist_at_start_up(self):
        arns = [t["TopicArn"] for t in self.sns.list_topics()["Topics"]]
        self.assertIn(ORDERS, arns)
        a = self.sns.get_topic_attributes(TopicArn=ORDERS)["Attributes"]
        self.assertEqual(a["DisplayName"], "Shop orders")
        self.assertEqual(a["TopicArn"], ORDERS)
        self.assertEqual(a["Owner"], ACCOUNT)
        ops = [x for x in arns if ":shoplocal-OpsAlertsTopic-" in x]
        self.assertEqual(len(ops), 1, arns)
        subs = self.sns.list_subscriptions_by_topic(TopicArn=ops[0])["Subscriptions"]
        self.assertEqual([(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in subs],
                         [("email", "ops@example.com", "PendingConfirmation")])
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=ops[0])["Attributes"]
                         ["SubscriptionsPending"], "1")
        mail = outbox(self.emu, "ops@example.com")
        self.assertEqual(mail[0]["subject"], "AWS Notification - Subscription Confirmation")
        self.assertIn(ops[0], mail[0]["body"])
        self.assertEqual(mail[0]["source"], "sns")

    # --- CreateTopic / DeleteTopic ----------------------------------------------
    def test_create_topic_is_idempotent_unless_attributes_differ(self):
        name = "idem-" + uuid.uuid4().hex[:8]
        a = self.sns.create_topic(Name=name, Attributes={"DisplayName": "d"})["TopicArn"]
        self.assertEqual(a, "arn:aws:sns:us-east-1:%s:%s" % (ACCOUNT, name))
        self.assertEqual(self.sns.create_topic(Name=name, Attributes={"DisplayName": "d"})
                         ["TopicArn"], a)
        self.assertEqual(self.sns.create_topic(Name=name)["TopicArn"], a)
        self.assertEqual(self.raises(self.sns.create_topic, Name=name,
                                     Attributes={"DisplayName": "other"}),
                         ("InvalidParameter", "Invalid parameter: Attributes Reason: Topic already "
                          "exists with different attributes", 400))

    def test_topic_names_are_checked(self):
        for name in ("", "has space", "dot.ted", "x" * 257, "plain.fifo", "é"):
            self.assertEqual(self.raises(self.sns.create_topic, Name=name),
                             ("InvalidParameter", "Invalid parameter: Topic Name", 400), name)
        self.assertEqual(self.raises(self.sns.create_topic, Name="nofifo",
                                     Attributes={"FifoTopic": "true"})[0], "InvalidParameter")
        self.sns.create_topic(Name="x" * 256)
        f = self.sns.create_topic(Name="ok-%s.fifo" % uuid.uuid4().hex[:6],
                                  Attributes={"FifoTopic": "true"})["TopicArn"]
        a = self.sns.get_topic_attributes(TopicArn=f)["Attributes"]
        self.assertEqual((a["FifoTopic"], a["ContentBasedDeduplication"]), ("true", "false"))

    def test_delete_topic_then_not_found_and_delete_again_succeeds(self):
        t = self.topic()
        self.sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:%s:q" % ACCOUNT)
        self.sns.delete_topic(TopicArn=t)
        self.assertEqual(self.raises(self.sns.get_topic_attributes, TopicArn=t),
                         ("NotFound", "Topic does not exist", 404))
        self.sns.delete_topic(TopicArn=t)
        for s in self.sns.list_subscriptions()["Subscriptions"]:
            self.assertNotEqual(s["TopicArn"], t)
        self.assertEqual(self.raises(self.sns.delete_topic, TopicArn="not-an-arn"),
                         ("InvalidParameter", "Invalid parameter: TopicArn", 400))

    def test_list_topics_pages_by_100_with_next_token(self):
        made = {self.topic() for _ in range(105)}
        seen, token, pages = [], None, 0
        while True:
            r = self.sns.list_topics(**({"NextToken": token} if token else {}))
            pages += 1
            self.assertLessEqual(len(r["Topics"]), 100)
            seen += [t["TopicArn"] for t in r["Topics"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertGreaterEqual(pages, 2)
        self.assertTrue(made <= set(seen))
        self.assertEqual(len(seen), len(set(seen)))
        paged = [t["TopicArn"] for p in self.sns.get_paginator("list_topics").paginate()
                 for t in p["Topics"]]
        self.assertEqual(paged, seen)
        self.assertEqual(self.raises(self.sns.list_topics, NextToken="forged"),
                         ("InvalidParameter", "Invalid parameter: NextToken", 400))

    # --- topic attributes --------------------------------------------------------
    def test_get_and_set_topic_attributes(self):
        t = self.topic()
        a = self.sns.get_topic_attributes(TopicArn=t)["Attributes"]
        for k in ("Policy", "Owner", "SubscriptionsPending", "TopicArn", "EffectiveDeliveryPolicy",
                  "SubscriptionsConfirmed", "DisplayName", "SubscriptionsDeleted"):
            self.assertIn(k, a)
        self.assertEqual(json.loads(a["Policy"])["Statement"][0]["Resource"], t)
        self.sns.set_topic_attributes(TopicArn=t, AttributeName="DisplayName",
                                      AttributeValue="Shop & <Co> \"q\" 'a'")
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=t)["Attributes"]["DisplayName"],
                         "Shop & <Co> \"q\" 'a'")
        policy = json.dumps({"Version": "2012-10-17", "Statement": []})
        self.sns.set_topic_attributes(TopicArn=t, AttributeName="Policy", AttributeValue=policy)
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=t)["Attributes"]["Policy"], policy)
        self.assertEqual(self.raises(self.sns.set_topic_attributes, TopicArn=t,
                                     AttributeName="Policy", AttributeValue="{no")[0],
                         "InvalidParameter")
        self.assertEqual(self.raises(self.sns.set_topic_attributes, TopicArn=t,
                                     AttributeName="Bogus", AttributeValue="x"),
                         ("InvalidParameter", "Invalid parameter: AttributeName", 400))
        self.assertEqual(self.raises(self.sns.set_topic_attributes, TopicArn=t + "-gone",
                                     AttributeName="DisplayName", AttributeValue="x"),
                         ("NotFound", "Topic does not exist", 404))

    # --- subscriptions -----------------------------------------------------------
    def test_subscribe_each_protocol_and_confirm_email_by_token(self):
        t = self.topic()
        self.assertEqual(self.sns.subscribe(TopicArn=t, Protocol="email", Endpoint="c@example.com")
                         ["SubscriptionArn"], "pending confirmation")
        pending = self.sns.subscribe(TopicArn=t, Protocol="email-json", Endpoint="j@example.com",
                                     ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertTrue(pending.startswith(t + ":"), pending)
        for proto, ep in (("sqs", "arn:aws:sqs:us-east-1:%s:q" % ACCOUNT),
                          ("lambda", "arn:aws:lambda:us-east-1:%s:function:f" % ACCOUNT),
                          ("sms", "+15550100")):
            arn = self.sns.subscribe(TopicArn=t, Protocol=proto, Endpoint=ep)["SubscriptionArn"]
            self.assertTrue(arn.startswith(t + ":"), (proto, arn))
            again = self.sns.subscribe(TopicArn=t, Protocol=proto, Endpoint=ep)["SubscriptionArn"]
            self.assertEqual(again, arn)
        a = self.sns.get_topic_attributes(TopicArn=t)["Attributes"]
        self.assertEqual((a["SubscriptionsConfirmed"], a["SubscriptionsPending"]), ("3", "2"))
        mail = outbox(self.emu, "c@example.com")[-1]
        token = mail["body"].split("Token: ")[1].strip()
        confirmed = self.sns.confirm_subscription(TopicArn=t, Token=token)["SubscriptionArn"]
        g = self.sns.get_subscription_attributes(SubscriptionArn=confirmed)["Attributes"]
        self.assertEqual((g["Protocol"], g["Endpoint"], g["PendingConfirmation"], g["TopicArn"]),
                         ("email", "c@example.com", "false", t))
        self.assertEqual(self.raises(self.sns.confirm_subscription, TopicArn=t, Token="nope"),
                         ("InvalidParameter", "Invalid parameter: Token", 400))
        j = json.loads(outbox(self.emu, "j@example.com")[-1]["body"])
        self.assertEqual(j["Type"], "SubscriptionConfirmation")
        self.assertIn("Token=" + j["Token"], j["SubscribeURL"])

    def test_subscribe_errors(self):
        t = self.topic()
        cases = [
            ({"Protocol": "carrier-pigeon", "Endpoint": "x"},
             "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
            ({"Protocol": "email", "Endpoint": "not-an-address"}, "Invalid parameter: Email address"),
            ({"Protocol": "sms", "Endpoint": "call me"}, "Invalid parameter: SMS endpoint"),
            ({"Protocol": "sqs", "Endpoint": "https://queue"}, "Invalid parameter: SQS endpoint ARN"),
            ({"Protocol": "lambda", "Endpoint": "f"}, "Invalid parameter: Lambda endpoint ARN"),
            ({"Protocol": "http", "Endpoint": "https://x"},
             "Invalid parameter: Endpoint must match the specified protocol"),
            ({"Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:%s:q" % ACCOUNT,
              "Attributes": {"RawMessageDelivery": "maybe"}},
             "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [maybe]. "
             "Must be true or false."),
        ]
        for kw, msg in cases:
            self.assertEqual(self.raises(self.sns.subscribe, TopicArn=t, **kw),
                             ("InvalidParameter", msg, 400), kw)
        self.assertEqual(self.raises(self.sns.subscribe, TopicArn=t + "-gone", Protocol="sqs",
                                     Endpoint="arn:aws:sqs:us-east-1:%s:q" % ACCOUNT),
                         ("NotFound", "Topic does not exist", 404))

    def test_unsubscribe_is_idempotent_and_counted(self):
        t = self.topic()
        arn = self.sns.subscribe(TopicArn=t, Protocol="sqs",
                                 Endpoint="arn:aws:sqs:us-east-1:%s:q" % ACCOUNT)["SubscriptionArn"]
        self.sns.unsubscribe(SubscriptionArn=arn)
        self.sns.unsubscribe(SubscriptionArn=arn)
        self.assertEqual(self.sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"], [])
        a = self.sns.get_topic_attributes(TopicArn=t)["Attributes"]
        self.assertEqual((a["SubscriptionsConfirmed"], a["SubscriptionsDeleted"]), ("0", "1"))
        self.assertEqual(self.raises(self.sns.get_subscription_attributes, SubscriptionArn=arn),
                         ("NotFound", "Subscription does not exist", 404))
        self.assertEqual(self.raises(self.sns.unsubscribe, SubscriptionArn="PendingConfirmation"),
                         ("InvalidParameter", "Invalid parameter: SubscriptionArn", 400))

    def test_subscription_lists_page_by_100(self):
        t = self.topic()
        made = [self.sns.subscribe(TopicArn=t, Protocol="sqs",
                                   Endpoint="arn:aws:sqs:us-east-1:%s:q%d" % (ACCOUNT, i))
                ["SubscriptionArn"] for i in range(103)]
        r = self.sns.list_subscriptions_by_topic(TopicArn=t)
        self.assertEqual(len(r["Subscriptions"]), 100)
        r2 = self.sns.list_subscriptions_by_topic(TopicArn=t, NextToken=r["NextToken"])
        self.assertNotIn("NextToken", r2)
        self.assertEqual([s["SubscriptionArn"] for s in r["Subscriptions"] + r2["Subscriptions"]],
                         made)
        allsubs = [s["SubscriptionArn"] for p in self.sns.get_paginator("list_subscriptions")
                   .paginate() for s in p["Subscriptions"]]
        self.assertTrue(set(made) <= set(allsubs))
        s0 = r["Subscriptions"][0]
        self.assertEqual((s0["Owner"], s0["Protocol"], s0["TopicArn"]), (ACCOUNT, "sqs", t))
        self.assertEqual(self.raises(self.sns.list_subscriptions_by_topic, TopicArn=t + "-gone"),
                         ("NotFound", "Topic does not exist", 404))

    # --- Publish ----------------------------------------------------------------
    def test_publish_delivers_to_every_confirmed_subscription(self):
        t = self.topic(Attributes={"DisplayName": "Shop"})
        q = "arn:aws:sqs:us-east-1:%s:deliver-%s" % (ACCOUNT, uuid.uuid4().hex[:6])
        sq = self.sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q)["SubscriptionArn"]
        raw_q = q + "-raw"
        self.sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=raw_q,
                           Attributes={"RawMessageDelivery": "true"})
        phone = "+1555%07d" % (uuid.uuid4().int % 10 ** 7)
        self.sns.subscribe(TopicArn=t, Protocol="sms", Endpoint=phone)
        waiting = "w-%s@example.com" % uuid.uuid4().hex[:6]
        self.sns.subscribe(TopicArn=t, Protocol="email", Endpoint=waiting)
        r = self.sns.publish(TopicArn=t, Message="hello", Subject="Order 42",
                             MessageAttributes={"kind": {"DataType": "String", "StringValue": "o"},
                                                "n": {"DataType": "Number", "StringValue": "7"}})
        mid = r["MessageId"]
        self.assertEqual(len(mid), 36)
        self.assertNotIn("SequenceNumber", r)
        env = json.loads(outbox(self.emu, q)[-1]["body"])
        self.assertEqual({k: env[k] for k in ("Type", "MessageId", "TopicArn", "Subject", "Message",
                                               "SignatureVersion")},
                         {"Type": "Notification", "MessageId": mid, "TopicArn": t,
                          "Subject": "Order 42", "Message": "hello", "SignatureVersion": "1"})
        self.assertEqual(env["MessageAttributes"], {"kind": {"Type": "String", "Value": "o"},
                                                    "n": {"Type": "Number", "Value": "7"}})
        self.assertRegex(env["Timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertIn("SubscriptionArn=" + sq, env["UnsubscribeURL"])
        for k in ("Signature", "SigningCertURL"):
            self.assertTrue(env[k])
        self.assertEqual(outbox(self.emu, raw_q)[-1]["body"], "hello")
        sms = outbox(self.emu, phone)[-1]
        self.assertEqual((sms["channel"], sms["body"]), ("sms", "hello"))
        self.assertEqual(len(outbox(self.emu, waiting)), 1)  # the confirmation only
        top = [m for m in outbox(self.emu, t) if m["channel"] == "topic"]
        self.assertEqual((top[-1]["body"], top[-1]["subject"]), ("hello", "Order 42"))

    def test_publish_to_a_topic_without_subscribers_is_recorded(self):
        t = self.topic()
        self.sns.publish(TopicArn=t, Message="nobody listens")
        self.assertEqual([m["body"] for m in outbox(self.emu, t)], ["nobody listens"])

    def test_message_structure_json_per_protocol_and_email_body(self):
        t = self.topic()
        mail = "s-%s@example.com" % uuid.uuid4().hex[:6]
        q = "arn:aws:sqs:us-east-1:%s:s-%s" % (ACCOUNT, uuid.uuid4().hex[:6])
        self.sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q)
        token = None
        self.sns.subscribe(TopicArn=t, Protocol="email", Endpoint=mail)
        token = outbox(self.emu, mail)[-1]["body"].split("Token: ")[1].strip()
        self.sns.confirm_subscription(TopicArn=t, Token=token)
        self.sns.publish(TopicArn=t, MessageStructure="json",
                         Message=json.dumps({"default": "d", "email": "for email"}))
        self.assertEqual(json.loads(outbox(self.emu, q)[-1]["body"])["Message"], "d")
        m = outbox(self.emu, mail)[-1]
        self.assertTrue(m["body"].startswith("for email\n"), m["body"])
        self.assertEqual(m["subject"], "AWS Notification Message")

    def test_filter_policy_selects_deliveries(self):
        t = self.topic()
        q = "arn:aws:sqs:us-east-1:%s:f-%s" % (ACCOUNT, uuid.uuid4().hex[:6])
        self.sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q, Attributes={
            "FilterPolicy": json.dumps({"kind": ["order", {"prefix": "ref"}],
                                        "n": [{"numeric": [">", 5]}]})})
        def pub(kind, n):
            self.sns.publish(TopicArn=t, Message="%s-%s" % (kind, n), MessageAttributes={
                "kind": {"DataType": "String", "StringValue": kind},
                "n": {"DataType": "Number", "StringValue": str(n)}})
        pub("order", 9)
        pub("refund", 6)
        pub("order", 1)
        pub("other", 9)
        self.assertEqual([json.loads(m["body"])["Message"] for m in outbox(self.emu, q)],
                         ["order-9", "refund-6"])

    def test_publish_errors(self):
        t = self.topic()
        cases = [
            ({"TopicArn": t, "Message": ""}, "InvalidParameter", "Invalid parameter: Empty message"),
            ({"Message": "m"}, "InvalidParameter",
             "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"),
            ({"TopicArn": t, "Message": "m", "Subject": "two\nlines"}, "InvalidParameter",
             "Invalid parameter: Subject"),
            ({"TopicArn": t, "Message": "m", "Subject": "s" * 100}, "InvalidParameter",
             "Invalid parameter: Subject"),
            ({"TopicArn": t, "Message": "x" * 262145}, "InvalidParameter",
             "Invalid parameter: Message too long"),
            ({"TopicArn": t, "Message": "{no", "MessageStructure": "json"}, "InvalidParameter",
             "Invalid parameter: Message Structure - JSON message body failed to parse"),
            ({"TopicArn": t, "Message": '{"email": "e"}', "MessageStructure": "json"},
             "InvalidParameter",
             "Invalid parameter: Message Structure - No default entry in JSON message body"),
            ({"TopicArn": t, "Message": "m",
              "MessageAttributes": {"a": {"DataType": "Text", "StringValue": "v"}}},
             "ParameterValueInvalid",
             "The message attribute 'a' has an invalid message attribute type, the set of "
             "supported type prefixes is Binary, Number, and String."),
            ({"TopicArn": t, "Message": "m",
              "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "seven"}}},
             "ParameterValueInvalid", "Could not cast message attribute 'a' value to number."),
            ({"TopicArn": t, "Message": "m", "MessageDeduplicationId": "d"}, "InvalidParameter",
             "Invalid parameter: MessageDeduplicationId Reason: The request includes "
             "MessageDeduplicationId parameter that is not valid for this topic type"),
            ({"TopicArn": "arn:aws:sns:us-east-1:%s:gone-%s" % (ACCOUNT, uuid.uuid4().hex[:6]),
              "Message": "m"}, "NotFound", "Topic does not exist"),
            ({"TopicArn": "arn:nope", "Message": "m"}, "InvalidParameter",
             "Invalid parameter: TopicArn"),
            ({"PhoneNumber": "12", "Message": "m"}, "InvalidParameter",
             "Invalid parameter: PhoneNumber Reason: 12 is not valid to publish to"),
        ]
        for kw, code, msg in cases:
            got = self.raises(self.sns.publish, **kw)
            self.assertEqual(got[:2], (code, msg), {k: v[:40] if isinstance(v, str) else v
                                                    for k, v in kw.items()})
            self.assertEqual(got[2], 404 if code == "NotFound" else 400)
        self.assertEqual(len(self.sns.publish(TopicArn=t, Message="x" * 262144)["MessageId"]), 36)
        self.assertEqual(len(self.sns.publish(TopicArn=t, Message="m", MessageGroupId="g",
                                              Subject="Ça marche")["MessageId"]), 36)

    def test_publish_by_target_arn_and_to_a_phone_number(self):
        t = self.topic()
        self.assertEqual(len(self.sns.publish(TargetArn=t, Message="m")["MessageId"]), 36)
        phone = "+1555%07d" % (uuid.uuid4().int % 10 ** 7)
        self.sns.publish(PhoneNumber=phone, Message="your code is 1234")
        self.assertEqual([(m["channel"], m["body"]) for m in outbox(self.emu, phone)],
                         [("sms", "your code is 1234")])

    def test_fifo_topic_sequence_numbers_and_deduplication(self):
        f = self.sns.create_topic(Name="f-%s.fifo" % uuid.uuid4().hex[:6],
                                  Attributes={"FifoTopic": "true"})["TopicArn"]
        q = "arn:aws:sqs:us-east-1:%s:fq.fifo" % ACCOUNT
        self.sns.subscribe(TopicArn=f, Protocol="sqs", Endpoint=q)
        self.assertEqual(self.raises(self.sns.publish, TopicArn=f, Message="m"),
                         ("InvalidParameter", "Invalid parameter: The MessageGroupId parameter is "
                          "required for FIFO topics", 400))
        self.assertEqual(self.raises(self.sns.publish, TopicArn=f, Message="m",
                                     MessageGroupId="g")[1],
                         "Invalid parameter: The topic should either have ContentBasedDeduplication "
                         "enabled or MessageDeduplicationId provided explicitly")
        a = self.sns.publish(TopicArn=f, Message="m", MessageGroupId="g", MessageDeduplicationId="1")
        b = self.sns.publish(TopicArn=f, Message="n", MessageGroupId="g", MessageDeduplicationId="2")
        self.assertEqual(len(a["SequenceNumber"]), 20)
        self.assertGreater(int(b["SequenceNumber"]), int(a["SequenceNumber"]))
        dup = self.sns.publish(TopicArn=f, Message="m", MessageGroupId="g", MessageDeduplicationId="1")
        self.assertEqual(dup["MessageId"], a["MessageId"])
        got = [json.loads(m["body"]) for m in outbox(self.emu, q) if f in m["body"]]
        self.assertEqual([(g["Message"], g["SequenceNumber"]) for g in got],
                         [("m", a["SequenceNumber"]), ("n", b["SequenceNumber"])])
        self.assertEqual(self.raises(self.sns.subscribe, TopicArn=f, Protocol="email",
                                     Endpoint="a@example.com")[0], "InvalidParameter")

    def test_publish_batch(self):
        t = self.topic()
        r = self.sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "one", "MessageAttributes": {
                "k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "b", "Message": ""},
            {"Id": "c", "Message": "three", "Subject": "S"}])
        self.assertEqual([s["Id"] for s in r["Successful"]], ["a", "c"])
        self.assertEqual(r["Failed"], [{"Id": "b", "Code": "InvalidParameter",
                                        "Message": "Invalid parameter: Empty message",
                                        "SenderFault": True}])
        self.assertEqual([m["body"] for m in outbox(self.emu, t)], ["one", "three"])
        e = self.raises(self.sns.publish_batch, TopicArn=t, PublishBatchRequestEntries=[
            {"Id": "x", "Message": "1"}, {"Id": "x", "Message": "2"}])
        self.assertEqual(e[0], "BatchEntryIdsNotDistinct")
        e = self.raises(self.sns.publish_batch, TopicArn=t, PublishBatchRequestEntries=[
            {"Id": str(i), "Message": "m"} for i in range(11)])
        self.assertEqual(e[0], "TooManyEntriesInBatchRequest")
        e = self.raises(self.sns.publish_batch, TopicArn=t, PublishBatchRequestEntries=[
            {"Id": "bad id!", "Message": "m"}])
        self.assertEqual(e[0], "InvalidBatchEntryId")

    def test_tags(self):
        t = self.topic(Tags=[{"Key": "team", "Value": "shop"}])
        self.sns.tag_resource(ResourceArn=t, Tags=[{"Key": "env", "Value": "local"}])
        got = {x["Key"]: x["Value"] for x in self.sns.list_tags_for_resource(ResourceArn=t)["Tags"]}
        self.assertEqual(got, {"team": "shop", "env": "local"})
        self.sns.untag_resource(ResourceArn=t, TagKeys=["team"])
        self.assertEqual(self.sns.list_tags_for_resource(ResourceArn=t)["Tags"],
                         [{"Key": "env", "Value": "local"}])

    # --- the wire ------------------------------------------------------------
    def test_raw_query_answers_aws_xml_and_escapes(self):
        name = "raw-" + uuid.uuid4().hex[:6]
        status, hdrs, body = query(self.emu, "Action=CreateTopic&Version=2010-03-31&Name=" + name)
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["content-type"], "text/xml")
        root = ET.fromstring(body)
        self.assertEqual(root.tag, NS + "CreateTopicResponse")
        arn = root.find(NS + "CreateTopicResult/" + NS + "TopicArn").text
        rid = root.find(NS + "ResponseMetadata/" + NS + "RequestId").text
        self.assertEqual(rid, hdrs["x-amzn-requestid"])
        tricky = "a&b<c>\"d\"'e'\ttab\r\nline"
        status, _, body = query(self.emu, urllib.parse.urlencode({
            "Action": "SetTopicAttributes", "Version": "2010-03-31", "TopicArn": arn,
            "AttributeName": "DisplayName", "AttributeValue": tricky}))
        self.assertEqual(status, 200, body)
        status, _, body = query(self.emu, urllib.parse.urlencode({
            "Action": "GetTopicAttributes", "TopicArn": arn}), method="GET")
        self.assertEqual(status, 200)
        entries = ET.fromstring(body).findall(".//" + NS + "entry")
        values = {e.find(NS + "key").text: e.find(NS + "value").text for e in entries}
        self.assertEqual(values["DisplayName"], tricky)

    def test_raw_query_errors(self):
        cases = [
            ("Version=2010-03-31", 400, "MissingAction"),
            ("Action=Fly", 400, "InvalidAction"),
            ("Action=ListTopics&bad=%zz", 400, "MalformedQueryString"),
            ("Action=ListTopics&novalue", 400, "MalformedQueryString"),
            ("Action=ListTopics&=x", 400, "MalformedQueryString"),
            ("Action=ListTopics&Action=ListTopics", 400, "MalformedQueryString"),
            ("Action=Publish&Message=a%00b&TopicArn=" + ORDERS, 400, "MalformedQueryString"),
            ("Action=CreateTopic&Name=t&Attributes.entry.99999999999.key=k", 400,
             "InvalidParameterValue"),
            ("Action=GetTopicAttributes&TopicArn=" + ORDERS + "-gone", 404, "NotFound"),
            ("Action=Publish&Message=%FF&TopicArn=" + ORDERS, 400, "MalformedQueryString"),
            ("Action=Publish&Message=m%&TopicArn=" + ORDERS, 400, "MalformedQueryString"),
            ("Action=Publish&Message=m&TopicArn=" + ORDERS + "&Subject=%E2%82", 400,
             "MalformedQueryString"),
            ("Action=Publish&Message=m&TopicArn=" + ORDERS.replace("us-east-1", "eu-west-1"),
             400, "InvalidParameter"),
            ("Action=CreateTopic&Name=t&Attributes.entry.1.value=v", 400, "InvalidParameter"),
            ("Action=Publish&Message=m&TopicArn=" + ORDERS
             + "&MessageAttributes.entry.1.Value.DataType=String", 400, "ParameterValueInvalid"),
        ]
        for body, status, code in cases:
            got_status, hdrs, text = query(self.emu, body)
            self.assertEqual(got_status, status, (body, text))
            root = ET.fromstring(text)
            self.assertEqual(root.tag, NS + "ErrorResponse", body)
            self.assertEqual(root.find(NS + "Error/" + NS + "Code").text, code, body)
            self.assertEqual(root.find(NS + "Error/" + NS + "Type").text, "Sender")
            self.assertEqual(root.find(NS + "RequestId").text, hdrs["x-amzn-requestid"])
        big = "Action=Publish&TopicArn=%s&Message=%s" % (ORDERS, "x" * (5 << 20))
        status, _, text = query(self.emu, big)
        self.assertEqual(status, 413)
        self.assertEqual(ET.fromstring(text).find(NS + "Error/" + NS + "Code").text,
                         "RequestEntityTooLarge")

    def test_query_content_type_with_charset_and_get_query_string(self):
        where = urllib.parse.urlparse(self.emu.aws)
        auth = ("AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/sns/aws4_request, "
                "SignedHeaders=host, Signature=0")
        for ctype in ("application/x-www-form-urlencoded; charset=utf-8",
                      "application/x-www-form-urlencoded;charset=UTF-8"):
            status, _, data = harness.http_raw(
                where, "POST", "/", ("Action=Publish&TopicArn=%s&Message=%%C3%%A9" % ORDERS).encode(),
                [("Authorization", auth), ("Content-Type", ctype)])
            self.assertEqual(status, 200, (ctype, data))
            self.assertIsNotNone(ET.fromstring(data.decode()).find(
                NS + "PublishResult/" + NS + "MessageId"))
        last = [m for m in outbox(self.emu, ORDERS) if m["channel"] == "topic"][-1]
        self.assertEqual(last["body"], "\u00e9")
        status, _, text = query(self.emu, "Action=ListTopics&Version=2010-03-31", method="GET")
        self.assertEqual(status, 200, text)
        self.assertEqual(ET.fromstring(text).tag, NS + "ListTopicsResponse")

    def test_json_form_for_in_process_callers(self):
        where = urllib.parse.urlparse(self.emu.aws)
        hdrs = [("X-Amz-Target", "AmazonSimpleNotificationService.Publish"),
                ("Content-Type", "application/x-amz-json-1.0")]
        body = json.dumps({"TopicArn": ORDERS, "Message": "json form"}).encode()
        status, h, data = harness.http_raw(where, "POST", "/", body, hdrs)
        self.assertEqual(status, 200, data)
        self.assertEqual(len(json.loads(data)["MessageId"]), 36)
        body = json.dumps({"TopicArn": ORDERS + "-gone", "Message": "m"}).encode()
        status, h, data = harness.http_raw(where, "POST", "/", body, hdrs)
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(data), {"__type": "NotFoundException",
                                            "message": "Topic does not exist"})
        self.assertEqual(h["x-amzn-query-error"], "NotFound;Sender")
        status, h, data = harness.http_raw(where, "POST", "/", b"[1]", hdrs)
        self.assertEqual((status, json.loads(data)["__type"]), (400, "SerializationException"))
        # An error quoting 64 bytes of the caller's text cut inside a UTF-8
        # character: the answer is still UTF-8 JSON.
        name = "a" * 63 + "\u00e9"
        body = json.dumps({"TopicArn": ORDERS, "Message": "m", "MessageAttributes": {
            name: {"DataType": "String", "StringValue": "v"}}}).encode()
        status, h, data = harness.http_raw(where, "POST", "/", body, hdrs)
        self.assertEqual(status, 400)
        doc = json.loads(data.decode("utf-8"))
        self.assertIn("'" + "a" * 63 + "?'", doc["message"])
        # Not UTF-8 inside a JSON string: refused, not stored or echoed.
        status, h, data = harness.http_raw(
            where, "POST", "/", b'{"TopicArn": "' + ORDERS.encode() + b'", "Message": "\xff"}', hdrs)
        self.assertEqual((status, json.loads(data)["__type"]), (400, "SerializationException"))
        status, h, data = harness.http_raw(
            where, "POST", "/", b"{}", [("X-Amz-Target", "AmazonSimpleNotificationService.Fly")])
        self.assertEqual((status, json.loads(data)["__type"]), (400, "InvalidAction"))

    def test_aws_cli(self):
        name = "cli-" + uuid.uuid4().hex[:6]
        rc, out, e = self.cli("create-topic", "--name", name)
        self.assertEqual(rc, 0, e)
        arn = json.loads(out)["TopicArn"]
        rc, out, e = self.cli("publish", "--topic-arn", arn, "--message", "from the cli",
                              "--subject", "CLI", "--message-attributes",
                              '{"k":{"DataType":"String","StringValue":"v"}}')
        self.assertEqual(rc, 0, e)
        self.assertEqual(len(json.loads(out)["MessageId"]), 36)
        self.assertEqual(outbox(self.emu, arn)[-1]["body"], "from the cli")
        rc, out, e = self.cli("list-topics")
        self.assertEqual(rc, 0, e)
        self.assertIn(arn, [t["TopicArn"] for t in json.loads(out)["Topics"]])
        rc, out, e = self.cli("subscribe", "--topic-arn", arn, "--protocol", "sqs",
                              "--notification-endpoint", "arn:aws:sqs:us-east-1:%s:c" % ACCOUNT)
        self.assertEqual(rc, 0, e)
        rc, out, e = self.cli("list-subscriptions-by-topic", "--topic-arn", arn)
        self.assertEqual(len(json.loads(out)["Subscriptions"]), 1)
        rc, out, e = self.cli("publish", "--topic-arn", arn + "-gone", "--message", "m")
        self.assertNotEqual(rc, 0)
        self.assertIn("(NotFound)", e)
        self.assertIn("Topic does not exist", e)
        rc, out, e = self.cli("delete-topic", "--topic-arn", arn)
        self.assertEqual(rc, 0, e)

    def test_fault_rules_answer_before_any_work(self):
        t = self.topic()
        rule = {"service": "sns", "operation": "Publish", "resource": t, "error": "Throttled",
                "message": "Rate exceeded", "status": 429, "count": 1}
        req = urllib.request.Request(self.emu.aws + "/_shoplocal/faults",
                                     data=json.dumps(rule).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
        self.assertEqual(self.raises(self.sns.publish, TopicArn=t, Message="m"),
                         ("Throttled", "Rate exceeded", 429))
        self.assertEqual(outbox(self.emu, t), [])
        self.sns.publish(TopicArn=t, Message="m")
        self.assertEqual(len(outbox(self.emu, t)), 1)

    # --- Step Functions ------------------------------------------------------
    def run_machine(self, definition, input_doc):
        sfn = self.emu.client("stepfunctions")
        name = "sns-" + uuid.uuid4().hex[:8]
        sm = sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                      roleArn=ROLE)["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=sm, input=json.dumps(input_doc))["executionArn"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            d = sfn.describe_execution(executionArn=arn)
            if d["status"] != "RUNNING":
                return d
        self.fail("execution did not finish")

    def test_step_functions_sns_publish_to_the_template_topic(self):
        d = self.run_machine({"StartAt": "Notify", "States": {"Notify": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": ORDERS, "Subject": "Order confirmed",
                           "Message": {"orderId.$": "$.orderId", "status": "CONFIRMED"},
                           "MessageAttributes": {"kind": {"DataType": "String",
                                                          "StringValue.$": "$.kind"}}},
            "End": True}}}, {"orderId": "o-1", "kind": "order"})
        self.assertEqual(d["status"], "SUCCEEDED", d)
        out = json.loads(d["output"])
        self.assertEqual(sorted(out), ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"])
        meta = out["SdkHttpMetadata"]
        self.assertEqual(meta["HttpStatusCode"], 200)
        self.assertEqual(meta["HttpHeaders"]["Content-Type"], "text/xml")
        self.assertEqual(meta["HttpHeaders"]["Content-Length"], "294")
        self.assertEqual(meta["AllHttpHeaders"]["Content-Type"], ["text/xml"])
        self.assertEqual(out["SdkResponseMetadata"]["RequestId"],
                         meta["HttpHeaders"]["x-amzn-RequestId"])
        rec = [m for m in outbox(self.emu, ORDERS) if m["channel"] == "topic"][-1]
        self.assertEqual(json.loads(rec["body"]), {"orderId": "o-1", "status": "CONFIRMED"})
        self.assertEqual(rec["subject"], "Order confirmed")
        sfn = self.emu.client("stepfunctions")
        events = sfn.get_execution_history(executionArn=d["executionArn"])["events"]
        sched = [e for e in events if e["type"] == "TaskScheduled"][0]["taskScheduledEventDetails"]
        self.assertEqual((sched["resourceType"], sched["resource"]), ("sns", "publish"))
        self.assertIn("TaskSucceeded", [e["type"] for e in events])

    def test_step_functions_missing_topic_is_caught_as_sns_not_found(self):
        gone = "arn:aws:sns:us-east-1:%s:gone-%s" % (ACCOUNT, uuid.uuid4().hex[:6])
        d = self.run_machine({"StartAt": "Notify", "States": {
            "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                       "Parameters": {"TopicArn": gone, "Message": "m"},
                       "Catch": [{"ErrorEquals": ["SNS.NotFoundException"],
                                  "ResultPath": "$.error", "Next": "Caught"}],
                       "End": True},
            "Caught": {"Type": "Pass", "End": True}}}, {})
        self.assertEqual(d["status"], "SUCCEEDED", d)
        e = json.loads(d["output"])["error"]
        self.assertEqual(e["Error"], "SNS.NotFoundException")
        self.assertTrue(e["Cause"].startswith("Topic does not exist (Service: AmazonSNS; Status "
                                              "Code: 404; Error Code: NotFound; Request ID: "),
                        e["Cause"])
        d = self.run_machine({"StartAt": "Notify", "States": {
            "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                       "Parameters": {"TopicArn": ORDERS}, "End": True}}}, {})
        self.assertEqual((d["status"], d.get("error")), ("FAILED", "SNS.InvalidParameterException"))


class SNSRestart(unittest.TestCase):
    """Topics, subscriptions and FIFO state live in sns.db: a restart keeps them, and
    the template's topics are not created (nor their confirmations sent) twice."""

    def test_state_survives_a_restart(self):
        emu = harness.Emulator("--parameter", "AlertEmail=ops@example.com").start()
        try:
            sns = emu.client("sns")
            t = sns.create_topic(Name="kept")["TopicArn"]
            sub = sns.subscribe(TopicArn=t, Protocol="sqs",
                                Endpoint="arn:aws:sqs:us-east-1:%s:q" % ACCOUNT)["SubscriptionArn"]
            emu.stop()
            emu.start(fresh=False)
            sns = emu.client("sns")
            self.assertIn(t, [x["TopicArn"] for x in sns.list_topics()["Topics"]])
            self.assertEqual([s["SubscriptionArn"] for s in
                              sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"]], [sub])
            self.assertEqual(len(outbox(emu, "ops@example.com")), 1)
            self.assertEqual(len([x for x in sns.list_topics()["Topics"]
                                  if "OpsAlertsTopic" in x["TopicArn"]]), 1)
        finally:
            emu.cleanup()


class SNSLambda(unittest.TestCase):
    """A lambda subscription invokes the function in-process with the SNS event."""

    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", "tests/lambda/template.yaml",
                                   "--functions", FUNCTIONS).start()
        cls.sns = cls.emu.client("sns")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def test_lambda_subscription_receives_the_sns_event(self):
        t = self.sns.create_topic(Name="to-lambda")["TopicArn"]
        fn = "arn:aws:lambda:us-east-1:%s:function:shoplocal-echo" % ACCOUNT
        sub = self.sns.subscribe(TopicArn=t, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
        log = os.path.join(self.emu.data, "logs", "lambda", "shoplocal-echo.log")
        before = open(log).read().count("START RequestId") if os.path.exists(log) else 0
        mid = self.sns.publish(TopicArn=t, Message="to the function")["MessageId"]
        with open(log) as f:
            self.assertEqual(f.read().count("START RequestId"), before + 1)
        rec = [m for m in outbox(self.emu, fn) if m["channel"] == "lambda"][-1]
        ev = json.loads(rec["body"])["Records"][0]
        self.assertEqual((ev["EventSource"], ev["EventVersion"], ev["EventSubscriptionArn"]),
                         ("aws:sns", "1.0", sub))
        self.assertEqual({k: ev["Sns"][k] for k in ("Type", "MessageId", "TopicArn", "Subject",
                                                     "Message", "MessageAttributes")},
                         {"Type": "Notification", "MessageId": mid, "TopicArn": t,
                          "Subject": None, "Message": "to the function", "MessageAttributes": {}})


class SNSLambdaPublishesAgain(unittest.TestCase):
    """A function that publishes (through a Step Functions Express machine's
    sns:publish: backend/lib's client speaks JSON protocols only) to a topic
    whose lambda subscription is that same function: the inner publish invokes
    the function again while the outer invocation still runs. The store lock is
    released before functions are invoked, so nothing deadlocks."""

    PROBE = "shoplocal-aws-client-probe"

    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator("--template", "tests/lambda/template-awsclient.yaml",
                                   "--functions", FUNCTIONS, "--threads", "4").start()
        cls.sns = cls.emu.client("sns")
        cls.lam = cls.emu.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    def test_a_subscribed_function_publishing_again_does_not_deadlock(self):
        t = self.sns.create_topic(Name="loop")["TopicArn"]
        fn = "arn:aws:lambda:us-east-1:%s:function:%s" % (ACCOUNT, self.PROBE)
        sub = self.sns.subscribe(TopicArn=t, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
        sfn = self.emu.client("stepfunctions")
        sm = sfn.create_state_machine(name="republish", type="EXPRESS", roleArn=ROLE,
                                      definition=json.dumps({"StartAt": "P", "States": {"P": {
                                          "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                                          "Parameters": {"TopicArn": t, "Message": "from inside"},
                                          "End": True}}}))["stateMachineArn"]
        call = {"service": "states", "target": "AWSStepFunctions.StartSyncExecution",
                "body": {"stateMachineArn": sm, "input": "{}"}}
        started = time.monotonic()
        r = self.lam.invoke(FunctionName=self.PROBE,
                            Payload=json.dumps({"action": "calls", "calls": [call]}).encode())
        self.assertLess(time.monotonic() - started, 30, "the nested publish took too long")
        self.assertNotIn("FunctionError", r)
        results = json.loads(r["Payload"].read())
        self.assertTrue(results[0]["ok"], results)
        self.assertEqual(results[0]["out"]["status"], "SUCCEEDED", results)
        mid = json.loads(results[0]["out"]["output"])["MessageId"]
        # The function was invoked with the SNS event of the inner publish (it
        # answers that event with an error, which never fails the Publish).
        recs = [m for m in outbox(self.emu, fn) if m["channel"] == "lambda"]
        self.assertEqual(len(recs), 1)
        ev = json.loads(recs[0]["body"])["Records"][0]
        self.assertEqual((ev["EventSubscriptionArn"], ev["Sns"]["MessageId"],
                          ev["Sns"]["Message"]), (sub, mid, "from inside"))
        log = os.path.join(self.emu.data, "logs", "lambda", self.PROBE + ".log")
        with open(log) as f:
            self.assertEqual(f.read().count("START RequestId"), 2)
        # And the service still answers afterwards.
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=t)["Attributes"]["TopicArn"], t)

if __name__ == "__main__":
    sys.exit(harness.run(__name__))
