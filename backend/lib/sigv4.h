/*
 * sigv4.h — AWS Signature Version 4 (HMAC-SHA256), with OpenSSL.
 *
 * What AWS's "Create a signed AWS API request" and the S3 "Authenticating
 * Requests: Using Query Parameters" pages define, in layers:
 *
 *   canonical request = METHOD \n CanonicalURI \n CanonicalQuery \n
 *                       CanonicalHeaders \n SignedHeaders \n HexPayloadHash
 *   string to sign    = AWS4-HMAC-SHA256 \n <amz date> \n <scope> \n hex(sha256(creq))
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
 *                       "aws4_request")
 *   signature         = hex(HMAC(signing key, string to sign))
 *
 * URI rules, as botocore applies them: the path given is the path as it goes on
 * the wire (already percent-encoded by whoever built the URL). For every service
 * but S3 it is normalised (dot segments removed, repeated slashes folded) and
 * URI-encoded once more, so a "%" on the wire becomes "%25" in the canonical
 * URI ("double encoding"); for S3 ("s3") it is used exactly as sent. The query
 * is decoded and re-encoded (unreserved characters A-Z a-z 0-9 - . _ ~ kept,
 * every other byte %XX upper case; "+" is a literal plus, not a space), then
 * sorted by name and value. Header names are lower-cased, values trimmed with
 * inner runs of spaces folded to one, repeated headers joined with "," in order.
 *
 * Every header given is signed: the caller chooses the set (host and
 * x-amz-date at least; x-amz-security-token when there is a session token).
 *
 * Signing keys are derived once per (date, region, service) and cached in the
 * signer (a day's key serves every request of that day).
 *
 * Malformed input — a method or header name that is not an HTTP token, a value
 * with CR/LF/NUL, a path not starting with "/", a bad "%" escape in the query, a
 * date that is not YYYYMMDDTHHMMSSZ, an empty region or service — is refused
 * (-1), never signed.
 *
 * Thread safety: a signer is used by one thread at a time (like its client).
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct sigv4_header {
    const char *name;
    const char *value;
} sigv4_header;

typedef struct sigv4_request {
    const char *method;          /* "GET", "POST", ... */
    const char *path;            /* as on the wire, no query: "/", "/bucket/a%20b" */
    const char *query;           /* raw query without '?', or NULL */
    const sigv4_header *headers; /* every header to sign */
    size_t n_headers;
    const void *payload;         /* the body, or NULL */
    size_t payload_len;
    const char *payload_hash;    /* hex SHA-256 or "UNSIGNED-PAYLOAD"; NULL: hash payload */
} sigv4_request;

typedef struct sigv4_signer sigv4_signer;

/* A signer for these credentials (copied; session_token may be NULL or "").
 * NULL on allocation failure or an empty access key or secret. */
sigv4_signer *sigv4_signer_new(const char *access_key, const char *secret_key,
                               const char *session_token);

/* Forget the credentials (memory cleansed) and free; NULL is a no-op. */
void sigv4_signer_free(sigv4_signer *signer);

/* The session token given to sigv4_signer_new, or NULL (borrowed). */
const char *sigv4_signer_token(const sigv4_signer *signer);

/* The Authorization header value for req, signed for region/service at
 * amz_date ("20150830T123600Z", which must also be the request's x-amz-date).
 * Returns a new string (caller frees), or NULL on malformed input. */
char *sigv4_sign(sigv4_signer *signer, const sigv4_request *req, const char *region,
                 const char *service, const char *amz_date);

/* Query-string presigning (S3's "Using Query Parameters"): the query to put
 * after '?' — req->query's own parameters, then X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders (and
 * X-Amz-Security-Token with a session token), all signed, then X-Amz-Signature.
 * The payload hash is req->payload_hash (S3: UNSIGNED-PAYLOAD). expires_s
 * 1..604800. Returns a new string (caller frees), or NULL on malformed input. */
char *sigv4_presign_query(sigv4_signer *signer, const sigv4_request *req, const char *region,
                          const char *service, const char *amz_date, int expires_s);

/* The layers, for tests and for the reader. Each returns a new string (caller
 * frees), or NULL on malformed input. */
char *sigv4_canonical_request(const sigv4_request *req, const char *service);
char *sigv4_string_to_sign(const char *amz_date, const char *region, const char *service,
                           const char *canonical_request);

/* The signing key for date8 ("20150830") — 32 bytes into out. Returns 0, -1 on
 * malformed input. */
int sigv4_signing_key(const char *secret_key, const char *date8, const char *region,
                      const char *service, unsigned char out[32]);

/* How many signing keys the signer has derived (a cache hit derives none). */
unsigned sigv4_signer_derivations(const sigv4_signer *signer);

/* URI-encode in[0..len) with AWS's rules (unreserved kept, every other byte
 * %XX upper case; "/" kept when keep_slash). Returns a new string or NULL. */
char *sigv4_uri_encode(const char *in, size_t len, int keep_slash);

/* "YYYYMMDDTHHMMSSZ" for t (seconds since the epoch, UTC) into out (>= 17
 * bytes). */
void sigv4_amz_date(long long t, char out[17]);

#endif
