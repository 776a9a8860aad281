-- PutItem of a fresh item each request (a small product-sized item).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.PutItem"
wrk.headers["X-Amz-Date"] = "20250101T000000Z"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
local n = 0
local id = tostring(math.random(1, 1000000000))
request = function()
  n = n + 1
  local body = string.format('{"TableName":"bench","Item":{"pk":{"S":"w%s"},"sk":{"S":"s%09d"},"name":{"S":"Widget"},"priceCents":{"N":"1999"},"stock":{"N":"42"}}}', id, n)
  return wrk.format(nil, nil, nil, body)
end
