#!/usr/bin/env python3
"""DynamoDB compatibility: boto3 and the AWS CLI, unchanged, against shoplocal.

Each test class starts one emulator; tests talk to it only through real clients
(and raw HTTP for malformed requests) and check the answers AWS would give.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import unittest
import urllib.request
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from boto3.dynamodb.conditions import Attr, Key  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def code_of(exc):
    return exc.response["Error"]["Code"]


def create_shop_table(ddb, name="shop"):
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "GSI1PK", "AttributeType": "S"},
            {"AttributeName": "GSI1SK", "AttributeType": "N"},
            {"AttributeName": "LSK", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"},
                   {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "GSI1",
            "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                          {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        LocalSecondaryIndexes=[{
            "IndexName": "LSI1",
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"},
                          {"AttributeName": "LSK", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
    )


class DynamoDBCompat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = harness.Emulator().start()
        cls.ddb = cls.emu.client("dynamodb")
        create_shop_table(cls.ddb)
        cls.table = cls.emu.resource("dynamodb").Table("shop")

    @classmethod
    def tearDownClass(cls):
        cls.emu.cleanup()

    # ---- tables ----------------------------------------------------------
    def test_describe_table_shows_keys_indexes_and_active_status(self):
        d = self.ddb.describe_table(TableName="shop")["Table"]
        self.assertEqual(d["TableStatus"], "ACTIVE")
        self.assertEqual(d["TableArn"], "arn:aws:dynamodb:us-east-1:000000000000:table/shop")
        self.assertEqual(d["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual([g["IndexName"] for g in d["GlobalSecondaryIndexes"]], ["GSI1"])
        self.assertEqual(d["GlobalSecondaryIndexes"][0]["IndexStatus"], "ACTIVE")
        self.assertEqual([i["IndexName"] for i in d["LocalSecondaryIndexes"]], ["LSI1"])
        self.ddb.get_waiter("table_exists").wait(TableName="shop")

    def test_template_table_exists_at_start_up(self):
        d = self.ddb.describe_table(TableName="shoplocal-shop")["Table"]
        self.assertEqual([k["AttributeName"] for k in d["KeySchema"]], ["PK", "SK"])
        ttl = self.ddb.describe_time_to_live(TableName="shoplocal-shop")
        self.assertEqual(ttl["TimeToLiveDescription"]["TimeToLiveStatus"], "ENABLED")

    def test_create_existing_table_is_resource_in_use(self):
        with self.assertRaises(ClientError) as e:
            create_shop_table(self.ddb)
        self.assertEqual(code_of(e.exception), "ResourceInUseException")

    def test_list_tables_paginates(self):
        for n in ("lt-a", "lt-b", "lt-c"):
            self.ddb.create_table(TableName=n, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
        first = self.ddb.list_tables(Limit=2)
        self.assertEqual(len(first["TableNames"]), 2)
        self.assertIn("LastEvaluatedTableName", first)
        names = []
        for page in self.ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2}):
            names += page["TableNames"]
        self.assertEqual(names, sorted(names))
        for n in ("lt-a", "lt-b", "lt-c", "shop"):
            self.assertIn(n, names)
        for n in ("lt-a", "lt-b", "lt-c"):
            self.ddb.delete_table(TableName=n)
        with self.assertRaises(ClientError) as e:
            self.ddb.describe_table(TableName="lt-a")
        self.assertEqual(code_of(e.exception), "ResourceNotFoundException")

    def test_update_table_adds_and_removes_a_gsi_with_backfill(self):
        self.ddb.create_table(TableName="ut1", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
        self.ddb.put_item(TableName="ut1", Item={"k": {"S": "1"}, "color": {"S": "red"}})
        self.ddb.update_table(
            TableName="ut1",
            AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "ByColor",
                "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}}])
        r = self.ddb.query(TableName="ut1", IndexName="ByColor",
                           KeyConditionExpression="color = :c",
                           ExpressionAttributeValues={":c": {"S": "red"}})
        self.assertEqual(r["Count"], 1)
        self.ddb.update_table(TableName="ut1",
                              GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "ByColor"}}])
        self.assertNotIn("GlobalSecondaryIndexes", self.ddb.describe_table(TableName="ut1")["Table"])
        self.ddb.delete_table(TableName="ut1")

    # ---- items -------------------------------------------------------------
    def test_every_attribute_type_round_trips(self):
        item = {
            "PK": "TYPES", "SK": "1", "s": "héllo", "n": Decimal("5.10"), "b": b"\x00\xffbin",
            "t": True, "z": None, "m": {"a": [1, "x", {"deep": False}]}, "l": [Decimal("1e3")],
            "ss": {"a", "b"}, "ns": {Decimal("1"), Decimal("2.5")}, "bs": {b"x", b"y"},
            "big": Decimal("12345678901234567890123456789012345678"),
        }
        self.table.put_item(Item=item)
        got = self.table.get_item(Key={"PK": "TYPES", "SK": "1"}, ConsistentRead=True)["Item"]
        self.assertEqual(got["n"], Decimal("5.1"))
        self.assertEqual(got["l"], [Decimal("1000")])
        self.assertEqual(got["big"], Decimal("12345678901234567890123456789012345678"))
        self.assertEqual(got["b"].value, b"\x00\xffbin")
        self.assertEqual(got["ss"], {"a", "b"})
        self.assertEqual(got["ns"], {Decimal("1"), Decimal("2.5")})
        self.assertEqual({x.value for x in got["bs"]}, {b"x", b"y"})
        self.assertIs(got["t"], True)
        self.assertIsNone(got["z"])
        self.assertEqual(got["m"], {"a": [Decimal(1), "x", {"deep": False}]})
        self.assertEqual(got["s"], "héllo")

    def test_conditional_put_refuses_the_second_writer(self):
        self.table.put_item(Item={"PK": "COND", "SK": "1", "v": 1},
                            ConditionExpression="attribute_not_exists(PK)")
        with self.assertRaises(ClientError) as e:
            self.table.put_item(Item={"PK": "COND", "SK": "1", "v": 2},
                                ConditionExpression="attribute_not_exists(PK)",
                                ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(code_of(e.exception), "ConditionalCheckFailedException")
        self.assertEqual(e.exception.response["Error"]["Message"], "The conditional request failed")
        self.assertEqual(e.exception.response["Item"]["v"], {"N": "1"})
        self.assertEqual(self.table.get_item(Key={"PK": "COND", "SK": "1"})["Item"]["v"], 1)

    def test_put_returns_all_old(self):
        self.table.put_item(Item={"PK": "OLD", "SK": "1", "v": "a"})
        r = self.table.put_item(Item={"PK": "OLD", "SK": "1", "v": "b"}, ReturnValues="ALL_OLD")
        self.assertEqual(r["Attributes"], {"PK": "OLD", "SK": "1", "v": "a"})

    def test_update_expression_clauses_and_return_values(self):
        self.table.put_item(Item={"PK": "UPD", "SK": "1", "stock": 10, "tags": {"b"},
                                  "oldtags": {"a", "z"},
                                  "hist": [1], "gone": "x"})
        r = self.table.update_item(
            Key={"PK": "UPD", "SK": "1"},
            UpdateExpression="SET stock = stock - :n, #c = if_not_exists(#c, :zero), "
                             "hist = list_append(hist, :more) REMOVE gone ADD seen :one, "
                             "tags :newtag DELETE oldtags :oldtag",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":n": 3, ":zero": 0, ":more": [2, 3], ":one": 1,
                                       ":newtag": {"c"}, ":oldtag": {"a"}},
            ConditionExpression="stock >= :n",
            ReturnValues="ALL_NEW")
        a = r["Attributes"]
        self.assertEqual(a["stock"], 7)
        self.assertEqual(a["count"], 0)
        self.assertEqual(a["hist"], [1, 2, 3])
        self.assertNotIn("gone", a)
        self.assertEqual(a["seen"], 1)
        self.assertEqual(a["tags"], {"b", "c"})
        self.assertEqual(a["oldtags"], {"z"})
        # the same path in two clauses is refused, as AWS does
        with self.assertRaises(ClientError) as e:
            self.table.update_item(Key={"PK": "UPD", "SK": "1"},
                                   UpdateExpression="ADD tags :t DELETE tags :t",
                                   ExpressionAttributeValues={":t": {"c"}})
        self.assertIn("Two document paths overlap", e.exception.response["Error"]["Message"])
        r = self.table.update_item(Key={"PK": "UPD", "SK": "1"},
                                   UpdateExpression="SET stock = stock + :n",
                                   ExpressionAttributeValues={":n": 1}, ReturnValues="UPDATED_OLD")
        self.assertEqual(r["Attributes"], {"stock": 7})
        r = self.table.update_item(Key={"PK": "UPD", "SK": "1"},
                                   UpdateExpression="SET stock = stock + :n",
                                   ExpressionAttributeValues={":n": 1}, ReturnValues="UPDATED_NEW")
        self.assertEqual(r["Attributes"], {"stock": 9})

    def test_update_never_drives_stock_below_zero(self):
        self.table.put_item(Item={"PK": "STOCK", "SK": "1", "stock": 1})
        upd = dict(Key={"PK": "STOCK", "SK": "1"}, UpdateExpression="SET stock = stock - :q",
                   ConditionExpression="stock >= :q", ExpressionAttributeValues={":q": 1})
        self.table.update_item(**upd)
        with self.assertRaises(ClientError) as e:
            self.table.update_item(**upd)
        self.assertEqual(code_of(e.exception), "ConditionalCheckFailedException")

    def test_concurrent_conditional_updates_never_both_succeed(self):
        def attempt(i):
            try:
                self.ddb.update_item(
                    TableName="shop", Key={"PK": {"S": "RACE"}, "SK": {"S": str(i // 2)}},
                    UpdateExpression="SET holder = :me",
                    ConditionExpression="attribute_not_exists(holder)",
                    ExpressionAttributeValues={":me": {"S": str(i)}})
                return 1
            except ClientError as e:
                self.assertEqual(code_of(e), "ConditionalCheckFailedException")
                return 0
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            wins = list(pool.map(attempt, range(100)))
        for k in range(50):
            self.assertEqual(wins[2 * k] + wins[2 * k + 1], 1, "item %d" % k)

    def test_updating_a_key_attribute_is_refused(self):
        with self.assertRaises(ClientError) as e:
            self.table.update_item(Key={"PK": "X", "SK": "1"}, UpdateExpression="SET SK = :v",
                                   ExpressionAttributeValues={":v": "2"})
        self.assertEqual(code_of(e.exception), "ValidationException")
        self.assertIn("Cannot update attribute SK. This attribute is part of the key",
                      e.exception.response["Error"]["Message"])

    def test_delete_with_condition_and_all_old(self):
        self.table.put_item(Item={"PK": "DEL", "SK": "1", "state": "open"})
        with self.assertRaises(ClientError):
            self.table.delete_item(Key={"PK": "DEL", "SK": "1"},
                                   ConditionExpression="#s = :c",
                                   ExpressionAttributeNames={"#s": "state"},
                                   ExpressionAttributeValues={":c": "closed"})
        r = self.table.delete_item(Key={"PK": "DEL", "SK": "1"}, ReturnValues="ALL_OLD")
        self.assertEqual(r["Attributes"]["state"], "open")
        self.assertNotIn("Item", self.table.get_item(Key={"PK": "DEL", "SK": "1"}))

    # ---- query and scan --------------------------------------------------
    def _orders(self):
        with self.table.batch_writer() as bw:
            for i in range(30):
                bw.put_item(Item={"PK": "USER#q", "SK": "ORDER#%03d" % i, "total": i,
                                  "GSI1PK": "STATUS#%s" % ("OK" if i % 3 else "FAIL"),
                                  "GSI1SK": i, "LSK": 100 - i})
            bw.put_item(Item={"PK": "USER#q", "SK": "PROFILE", "name": "Q"})

    def test_query_key_conditions_order_and_pagination(self):
        self._orders()
        r = self.table.query(KeyConditionExpression=Key("PK").eq("USER#q") &
                             Key("SK").begins_with("ORDER#"))
        self.assertEqual(r["Count"], 30)
        self.assertEqual([i["SK"] for i in r["Items"]][:2], ["ORDER#000", "ORDER#001"])
        r = self.table.query(KeyConditionExpression=Key("PK").eq("USER#q") &
                             Key("SK").between("ORDER#010", "ORDER#012"), ScanIndexForward=False)
        self.assertEqual([i["SK"] for i in r["Items"]], ["ORDER#012", "ORDER#011", "ORDER#010"])
        pages, seen = 0, []
        for page in self.ddb.get_paginator("query").paginate(
                TableName="shop", KeyConditionExpression="PK = :p AND begins_with(SK, :o)",
                ExpressionAttributeValues={":p": {"S": "USER#q"}, ":o": {"S": "ORDER#"}},
                PaginationConfig={"PageSize": 7}):
            pages += 1
            seen += [i["SK"]["S"] for i in page["Items"]]
        self.assertEqual(pages, 5)
        self.assertEqual(seen, ["ORDER#%03d" % i for i in range(30)])

    def test_query_filter_projection_and_count(self):
        self._orders()
        r = self.table.query(KeyConditionExpression=Key("PK").eq("USER#q") &
                             Key("SK").begins_with("ORDER#"),
                             FilterExpression=Attr("total").gte(25),
                             ProjectionExpression="SK, #t", ExpressionAttributeNames={"#t": "total"})
        self.assertEqual(r["Count"], 5)
        self.assertEqual(r["ScannedCount"], 30)
        self.assertEqual(r["Items"][0], {"SK": "ORDER#025", "total": 25})
        r = self.ddb.query(TableName="shop", Select="COUNT",
                           KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "USER#q"}})
        self.assertEqual(r["Count"], 31)
        self.assertNotIn("Items", r)

    def test_query_on_gsi_is_sparse_and_ordered_numerically(self):
        self._orders()
        r = self.table.query(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq("STATUS#FAIL"),
                             ScanIndexForward=False)
        self.assertEqual([int(i["GSI1SK"]) for i in r["Items"]], [27, 24, 21, 18, 15, 12, 9, 6, 3, 0])
        r = self.table.query(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq("STATUS#OK") &
                             Key("GSI1SK").lt(5))
        self.assertEqual([int(i["GSI1SK"]) for i in r["Items"]], [1, 2, 4])
        # the profile item has no GSI1PK: it is not in the index
        r = self.ddb.scan(TableName="shop", IndexName="GSI1", Select="COUNT")
        self.assertEqual(r["Count"], 30)

    def test_query_on_keys_only_lsi_returns_keys(self):
        self._orders()
        r = self.table.query(IndexName="LSI1", KeyConditionExpression=Key("PK").eq("USER#q") &
                             Key("LSK").gt(98))
        self.assertEqual(sorted(r["Items"][0].keys()), ["LSK", "PK", "SK"])
        self.assertEqual([int(i["LSK"]) for i in r["Items"]], [99, 100])

    def test_query_errors_name_the_problem(self):
        cases = [
            (dict(KeyConditionExpression="SK = :v", ExpressionAttributeValues={":v": {"S": "x"}}),
             "Query condition missed key schema element: PK"),
            (dict(KeyConditionExpression="PK = :v", ExpressionAttributeValues={":v": {"S": "x"}, ":u": {"S": "y"}}),
             "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}"),
            (dict(KeyConditionExpression="PK = :v", ExpressionAttributeValues={":v": {"N": "1"}}),
             "Condition parameter type does not match schema type"),
        ]
        for kw, message in cases:
            with self.assertRaises(ClientError) as e:
                self.ddb.query(TableName="shop", **kw)
            self.assertEqual(code_of(e.exception), "ValidationException")
            self.assertIn(message, e.exception.response["Error"]["Message"])

    def test_parallel_scan_segments_cover_every_item_once(self):
        self._orders()
        total = self.ddb.scan(TableName="shop", Select="COUNT")["Count"]
        keys = []
        for seg in range(4):
            for page in self.ddb.get_paginator("scan").paginate(
                    TableName="shop", Segment=seg, TotalSegments=4, PaginationConfig={"PageSize": 5}):
                keys += [(i["PK"]["S"], i["SK"]["S"]) for i in page["Items"]]
        self.assertEqual(len(keys), total)
        self.assertEqual(len(set(keys)), total)

    # ---- batch and transactions -----------------------------------------
    def test_batch_write_and_batch_get(self):
        reqs = [{"PutRequest": {"Item": {"PK": {"S": "B"}, "SK": {"S": str(i)}}}} for i in range(25)]
        r = self.ddb.batch_write_item(RequestItems={"shop": reqs})
        self.assertEqual(r["UnprocessedItems"], {})
        r = self.ddb.batch_get_item(RequestItems={"shop": {
            "Keys": [{"PK": {"S": "B"}, "SK": {"S": str(i)}} for i in range(0, 25, 5)] +
                    [{"PK": {"S": "B"}, "SK": {"S": "missing"}}]}})
        self.assertEqual(len(r["Responses"]["shop"]), 5)
        self.assertEqual(r["UnprocessedKeys"], {})
        with self.assertRaises(ClientError) as e:
            self.ddb.batch_write_item(RequestItems={"shop": reqs + reqs[:1]})
        self.assertEqual(code_of(e.exception), "ValidationException")

    def test_transaction_commits_all_or_nothing(self):
        self.table.put_item(Item={"PK": "TX", "SK": "stock", "n": 1})
        ok = [
            {"Update": {"TableName": "shop", "Key": {"PK": {"S": "TX"}, "SK": {"S": "stock"}},
                        "UpdateExpression": "SET n = n - :one", "ConditionExpression": "n >= :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": "shop", "Item": {"PK": {"S": "TX"}, "SK": {"S": "order1"}}}},
        ]
        self.ddb.transact_write_items(TransactItems=ok, ClientRequestToken="tok-1")
        # the same token again is a no-op, not a second decrement
        self.ddb.transact_write_items(TransactItems=ok, ClientRequestToken="tok-1")
        self.assertEqual(self.table.get_item(Key={"PK": "TX", "SK": "stock"})["Item"]["n"], 0)
        with self.assertRaises(ClientError) as e:
            self.ddb.transact_write_items(TransactItems=ok[:1], ClientRequestToken="tok-1")
        self.assertEqual(code_of(e.exception), "IdempotentParameterMismatchException")
        bad = [
            {"Put": {"TableName": "shop", "Item": {"PK": {"S": "TX"}, "SK": {"S": "order2"}}}},
            {"ConditionCheck": {"TableName": "shop", "Key": {"PK": {"S": "TX"}, "SK": {"S": "stock"}},
                                "ConditionExpression": "n >= :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ]
        with self.assertRaises(ClientError) as e:
            self.ddb.transact_write_items(TransactItems=bad)
        err = e.exception.response
        self.assertEqual(code_of(e.exception), "TransactionCanceledException")
        self.assertIn("[None, ConditionalCheckFailed]", err["Error"]["Message"])
        reasons = err["CancellationReasons"]
        self.assertEqual(reasons[0]["Code"], "None")
        self.assertEqual(reasons[1]["Code"], "ConditionalCheckFailed")
        self.assertEqual(reasons[1]["Item"]["n"], {"N": "0"})
        self.assertNotIn("Item", self.table.get_item(Key={"PK": "TX", "SK": "order2"}))
        r = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": "shop", "Key": {"PK": {"S": "TX"}, "SK": {"S": "order1"}}}},
            {"Get": {"TableName": "shop", "Key": {"PK": {"S": "TX"}, "SK": {"S": "nope"}}}}])
        self.assertEqual(r["Responses"][0]["Item"]["SK"], {"S": "order1"})
        self.assertEqual(r["Responses"][1], {})

    def test_transaction_refuses_two_operations_on_one_item(self):
        t = [{"Put": {"TableName": "shop", "Item": {"PK": {"S": "T2"}, "SK": {"S": "1"}}}},
             {"Delete": {"TableName": "shop", "Key": {"PK": {"S": "T2"}, "SK": {"S": "1"}}}}]
        with self.assertRaises(ClientError) as e:
            self.ddb.transact_write_items(TransactItems=t)
        self.assertEqual(code_of(e.exception), "ValidationException")

    # ---- numbers, limits and errors -------------------------------------
    def test_numbers_are_exact_decimals(self):
        self.table.put_item(Item={"PK": "NUM", "SK": "1", "x": Decimal("0.1")})
        r = self.table.update_item(Key={"PK": "NUM", "SK": "1"}, UpdateExpression="ADD x :y",
                                   ExpressionAttributeValues={":y": Decimal("0.2")},
                                   ReturnValues="UPDATED_NEW")
        self.assertEqual(r["Attributes"]["x"], Decimal("0.3"))
        with self.assertRaises(ClientError) as e:
            self.ddb.put_item(TableName="shop", Item={"PK": {"S": "NUM"}, "SK": {"S": "2"},
                                                      "x": {"N": "1" * 39}})
        self.assertEqual(code_of(e.exception), "ValidationException")

    def test_validation_errors_have_aws_wording(self):
        cases = [
            ({"PK": {"N": "1"}, "SK": {"S": "1"}},
             "One or more parameter values were invalid: Type mismatch for key PK expected: S actual: N"),
            ({"SK": {"S": "1"}}, "One or more parameter values were invalid: Missing the key PK in the item"),
            ({"PK": {"S": ""}, "SK": {"S": "1"}},
             "One or more parameter values are not valid. The AttributeValue for a key attribute "
             "cannot contain an empty string value. Key: PK"),
            ({"PK": {"S": "x"}, "SK": {"S": "1"}, "big": {"S": "x" * (400 * 1024)}},
             "Item size has exceeded the maximum allowed size"),
        ]
        for item, message in cases:
            with self.assertRaises(ClientError) as e:
                self.ddb.put_item(TableName="shop", Item=item)
            self.assertEqual(code_of(e.exception), "ValidationException")
            self.assertEqual(e.exception.response["Error"]["Message"], message)
        with self.assertRaises(ClientError) as e:
            self.ddb.get_item(TableName="nope", Key={"PK": {"S": "x"}})
        self.assertEqual(code_of(e.exception), "ResourceNotFoundException")
        self.assertEqual(e.exception.response["Error"]["Message"], "Requested resource not found")
        with self.assertRaises(ClientError) as e:
            self.ddb.update_item(TableName="shop", Key={"PK": {"S": "x"}, "SK": {"S": "1"}},
                                 UpdateExpression="SET status = :s",
                                 ExpressionAttributeValues={":s": {"S": "x"}})
        self.assertIn("Attribute name is a reserved keyword; reserved keyword: status",
                      e.exception.response["Error"]["Message"])

    def test_ttl_expired_items_are_not_returned(self):
        self.ddb.create_table(TableName="ttl", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
        self.ddb.update_time_to_live(TableName="ttl", TimeToLiveSpecification={
            "AttributeName": "exp", "Enabled": True})
        self.ddb.put_item(TableName="ttl", Item={"k": {"S": "old"}, "exp": {"N": "1000"}})
        self.ddb.put_item(TableName="ttl", Item={"k": {"S": "new"}, "exp": {"N": "99999999999"}})
        self.assertNotIn("Item", self.ddb.get_item(TableName="ttl", Key={"k": {"S": "old"}}))
        self.assertIn("Item", self.ddb.get_item(TableName="ttl", Key={"k": {"S": "new"}}))
        self.assertEqual(self.ddb.scan(TableName="ttl")["Count"], 1)
        self.ddb.delete_table(TableName="ttl")

    def test_consumed_capacity_when_asked(self):
        r = self.ddb.put_item(TableName="shop", Item={"PK": {"S": "CC"}, "SK": {"S": "1"}},
                              ReturnConsumedCapacity="TOTAL")
        self.assertEqual(r["ConsumedCapacity"], {"TableName": "shop", "CapacityUnits": 1.0})

    # ---- the wire ------------------------------------------------------------
    def _raw(self, target, body, content_type="application/x-amz-json-1.0"):
        req = urllib.request.Request(self.emu.aws + "/", data=body, method="POST", headers={
            "Content-Type": content_type, "X-Amz-Target": target})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=10) as r:
                return r.status, json.loads(r.read()), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read()), dict(e.headers)

    def test_malformed_requests_get_aws_errors_and_change_nothing(self):
        self.table.put_item(Item={"PK": "SAFE", "SK": "1", "v": 1})
        before = self.ddb.scan(TableName="shop", Select="COUNT")["Count"]
        cases = [
            ("DynamoDB_20120810.PutItem", b"{not json", "SerializationException"),
            ("DynamoDB_20120810.PutItem", b"[]", "SerializationException"),
            ("DynamoDB_20120810.Explode", b"{}", "UnknownOperationException"),
            ("DynamoDB_20120810.PutItem", b'{"TableName":"shop","Item":{"PK":{"S":"SAFE"},"SK":{"S":"1"},"v":{"N":"abc"}}}',
             "ValidationException"),
            ("DynamoDB_20120810.PutItem", b'{"TableName":"shop","Item":{"PK":{"S":"SAFE","N":"1"},"SK":{"S":"1"}}}',
             "ValidationException"),
            ("DynamoDB_20120810.PutItem", b'{"TableName":"shop","Item":"nope"}', "ValidationException"),
            ("DynamoDB_20120810.Query", json.dumps({"TableName": "shop", "KeyConditionExpression":
                                                    "PK = :v AND " + "(" * 5000 + "SK = :v" + ")" * 5000,
                                                    "ExpressionAttributeValues": {":v": {"S": "x"}}}).encode(),
             "ValidationException"),
            ("DynamoDB_20120810.Scan", json.dumps({"TableName": "shop", "FilterExpression":
                                                   " OR ".join("a%d = :v" % i for i in range(10000)),
                                                   "ExpressionAttributeValues": {":v": {"S": "x"}}}).encode(),
             "ValidationException"),
            ("DynamoDB_20120810.UpdateItem", json.dumps({"TableName": "shop", "Key": {"PK": {"S": "SAFE"}, "SK": {"S": "1"}},
                                                         "UpdateExpression": "SET v = v + :s",
                                                         "ExpressionAttributeValues": {":s": {"S": "x"}}}).encode(),
             "ValidationException"),
        ]
        for target, body, expected in cases:
            status, payload, headers = self._raw(target, body)
            self.assertEqual(status, 400, (target, body[:80], payload))
            self.assertTrue(payload["__type"].endswith("#" + expected), (body[:80], payload))
            self.assertIn("x-amzn-RequestId", headers)
        self.assertEqual(self.ddb.scan(TableName="shop", Select="COUNT")["Count"], before)
        self.assertEqual(self.table.get_item(Key={"PK": "SAFE", "SK": "1"})["Item"]["v"], 1)

    def test_fault_rules_make_operations_fail(self):
        rule = json.dumps({"service": "dynamodb", "operation": "PutItem", "resource": "shop",
                           "error": "ProvisionedThroughputExceededException", "count": 1}).encode()
        req = urllib.request.Request(self.emu.aws + "/_shoplocal/faults", data=rule, method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as r:
            self.assertEqual(r.status, 201)
        with self.assertRaises(ClientError) as e:
            self.ddb.put_item(TableName="shop", Item={"PK": {"S": "F"}, "SK": {"S": "1"}})
        self.assertEqual(code_of(e.exception), "ProvisionedThroughputExceededException")
        self.assertNotIn("Item", self.ddb.get_item(TableName="shop", Key={"PK": {"S": "F"}, "SK": {"S": "1"}}))
        self.ddb.put_item(TableName="shop", Item={"PK": {"S": "F"}, "SK": {"S": "1"}})

    def test_aws_cli_works_unchanged(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1")
        base = ["aws", "--endpoint-url", self.emu.aws, "--output", "json", "dynamodb"]
        subprocess.run(base + ["put-item", "--table-name", "shop", "--item",
                               '{"PK":{"S":"CLI"},"SK":{"S":"1"},"n":{"N":"42"}}'],
                       check=True, env=env, capture_output=True, timeout=60)
        out = subprocess.run(base + ["get-item", "--table-name", "shop", "--key",
                                     '{"PK":{"S":"CLI"},"SK":{"S":"1"}}'],
                             check=True, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(out.stdout)["Item"]["n"], {"N": "42"})
        out = subprocess.run(base + ["query", "--table-name", "shop", "--key-condition-expression",
                                     "PK = :p", "--expression-attribute-values", '{":p":{"S":"CLI"}}'],
                             check=True, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(out.stdout)["Count"], 1)


class DynamoDBDurability(unittest.TestCase):
    def test_items_survive_restart_and_kill_9(self):
        import signal as sig
        emu = harness.Emulator().start()
        try:
            ddb = emu.client("dynamodb")
            create_shop_table(ddb, "durable")
            ddb.put_item(TableName="durable", Item={"PK": {"S": "a"}, "SK": {"S": "1"}})
            emu.stop(sig.SIGKILL)
            emu.start(fresh=False)
            ddb = emu.client("dynamodb")
            self.assertIn("Item", ddb.get_item(TableName="durable",
                                               Key={"PK": {"S": "a"}, "SK": {"S": "1"}}))
            r = ddb.query(TableName="durable", IndexName="LSI1", KeyConditionExpression="PK = :p",
                          ExpressionAttributeValues={":p": {"S": "a"}})
            self.assertEqual(r["Count"], 0)  # no LSK: not in the sparse index, still true after restart
            self.assertEqual(emu.stop(), 0)
        finally:
            emu.cleanup()


if __name__ == "__main__":
    sys.exit(harness.run(__name__))
