-- Query of 20 items from a partition of 1,000, at a varying offset.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.Query"
wrk.headers["X-Amz-Date"] = "20250101T000000Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"TableName":"bench","KeyConditionExpression":"pk = :p AND sk >= :s","ExpressionAttributeValues":{":p":{"S":"p1"},":s":{"S":"s%06d"}},"Limit":20}', n % 980)
  return wrk.format(nil, nil, nil, body)
end
