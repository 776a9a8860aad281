-- GetItem of one of the 1,000 loaded items, a different one each request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
wrk.headers["X-Amz-Date"] = "20250101T000000Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"TableName":"bench","Key":{"pk":{"S":"p1"},"sk":{"S":"s%06d"}}}', n % 1000)
  return wrk.format(nil, nil, nil, body)
end
