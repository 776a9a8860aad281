/*
 * sigv4.c — AWS Signature Version 4. See sigv4.h for the rules it follows.
 *
 * Built as layers that each can be checked against AWS's published test
 * suite: canonical request, string to sign, signing key, signature; presigning
 * puts the auth parameters into the query and signs that.
 */
#include "lib/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define KEY_CACHE 4

typedef struct key_entry {
    char date8[9];
    char region[64];
    char service[64];
    unsigned char key[32];
} key_entry;

struct sigv4_signer {
    char *access_key;
    char *secret_key;
    char *token;
    key_entry cache[KEY_CACHE];
    unsigned n_cache, next;
    unsigned derivations;
};

/* --- a growable string ---------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_grow(sbuf *b, size_t extra)
{
    if (b->failed)
        return;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->failed)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_addc(sbuf *b, char c)
{
    sb_addn(b, &c, 1);
}

/* The string (caller owns), or NULL if anything failed. */
static char *sb_take(sbuf *b)
{
    if (b->failed) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        return strdup("");
    return b->p;
}

static void sb_free(sbuf *b)
{
    free(b->p);
    b->p = NULL;
}

/* --- encodings ---------------------------------------------------------- */

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static void sb_uri_encode(sbuf *b, const char *in, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_addc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_addn(b, e, 3);
        }
    }
}

char *sigv4_uri_encode(const char *in, size_t len, int keep_slash)
{
    if (!in)
        return NULL;
    sbuf b = {0};
    sb_uri_encode(&b, in, len, keep_slash);
    return sb_take(&b);
}

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..len) into a new buffer; -1 on a malformed escape. */
static int pct_decode(const char *s, size_t len, char **out, size_t *out_len)
{
    char *d = malloc(len + 1);
    if (!d)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                return -1;
            }
            d[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            d[n++] = s[i];
        }
    }
    d[n] = '\0';
    *out = d;
    *out_len = n;
    return 0;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data ? data : (const void *)"", len, md);
    hex_encode(md, sizeof md, out);
}

static int hmac(const unsigned char *key, size_t key_len, const char *msg, size_t msg_len,
                unsigned char out[32])
{
    unsigned int n = 32;
    return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out, &n)
               ? 0
               : -1;
}

/* --- validation ------------------------------------------------------------ */

static int is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 32 || *p >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *p))
            return 0;
    }
    return 1;
}

static int valid_value(const char *s)
{
    if (!s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == '\r' || *p == '\n' || (*p < 32 && *p != '\t') || *p == 127)
            return 0;
    return 1;
}

static int valid_scope_part(const char *s)
{
    if (!s || !*s || strlen(s) >= 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return 1;
}

static int valid_amz_date(const char *d)
{
    if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return 0;
    return 1;
}

/* --- canonical request ---------------------------------------------------- */

/* Dot segments removed and empty segments folded, as botocore's
 * normalize_url_path does. */
static char *normalize_path(const char *path)
{
    size_t len = strlen(path);
    const char **segs = malloc((len + 1) * sizeof *segs);
    size_t *lens = malloc((len + 1) * sizeof *lens);
    if (!segs || !lens) {
        free(segs);
        free(lens);
        return NULL;
    }
    size_t n = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t l = (size_t)(p - s);
        if (l == 0 || (l == 1 && s[0] == '.'))
            continue;
        if (l == 2 && s[0] == '.' && s[1] == '.') {
            if (n)
                n--;
            continue;
        }
        segs[n] = s;
        lens[n] = l;
        n++;
    }
    /* A trailing slash is kept; a trailing "." or ".." segment leaves none
     * ("/a/." is "/a"), as botocore's normalize_url_path has it. */
    int trailing = len > 0 && path[len - 1] == '/';
    sbuf b = {0};
    sb_addc(&b, '/');
    for (size_t i = 0; i < n; i++) {
        sb_addn(&b, segs[i], lens[i]);
        if (i + 1 < n || trailing)
            sb_addc(&b, '/');
    }
    free(segs);
    free(lens);
    return sb_take(&b);
}

typedef struct qparam {
    char *name;
    char *value;
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* One name or value of the query, decoded and encoded the AWS way. */
static char *query_part(const char *s, size_t len)
{
    char *dec;
    size_t dlen;
    if (pct_decode(s, len, &dec, &dlen) != 0)
        return NULL;
    char *enc = sigv4_uri_encode(dec, dlen, 0);
    free(dec);
    return enc;
}

static int canonical_query(sbuf *out, const char *query)
{
    if (!query || !*query)
        return 0;
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    qparam *ps = calloc(n, sizeof *ps);
    if (!ps)
        return -1;
    size_t k = 0;
    int rc = 0;
    const char *p = query;
    while (rc == 0) {
        const char *end = strchr(p, '&');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l > 0) {
            const char *eq = memchr(p, '=', l);
            size_t nl = eq ? (size_t)(eq - p) : l;
            ps[k].name = query_part(p, nl);
            ps[k].value = eq ? query_part(eq + 1, l - nl - 1) : strdup("");
            if (!ps[k].name || !ps[k].value)
                rc = -1;
            k++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (rc == 0) {
        qsort(ps, k, sizeof *ps, qparam_cmp);
        for (size_t i = 0; i < k; i++) {
            if (i)
                sb_addc(out, '&');
            sb_add(out, ps[i].name);
            sb_addc(out, '=');
            sb_add(out, ps[i].value);
        }
    }
    for (size_t i = 0; i < k; i++) {
        free(ps[i].name);
        free(ps[i].value);
    }
    free(ps);
    return rc;
}

typedef struct chead {
    char *name;  /* lower case */
    const char *value;
    size_t order;
} chead;

static int chead_cmp(const void *a, const void *b)
{
    const chead *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* value trimmed, inner runs of spaces and tabs folded to one space */
static void sb_header_value(sbuf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    int space = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }
        if (space)
            sb_addc(b, ' ');
        space = 0;
        sb_addc(b, *v);
    }
}

/* Canonical headers into out, signed header names into signed_names. */
static int canonical_headers(const sigv4_header *hs, size_t n, sbuf *out, sbuf *signed_names)
{
    if (n == 0)
        return -1;
    chead *cs = calloc(n, sizeof *cs);
    if (!cs)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!is_token(hs[i].name) || !valid_value(hs[i].value)) {
            rc = -1;
            break;
        }
        cs[i].name = strdup(hs[i].name);
        if (!cs[i].name) {
            rc = -1;
            break;
        }
        for (char *c = cs[i].name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        cs[i].value = hs[i].value;
        cs[i].order = i;
    }
    if (rc == 0) {
        qsort(cs, n, sizeof *cs, chead_cmp);
        for (size_t i = 0; i < n; i++) {
            int same = i > 0 && !strcmp(cs[i].name, cs[i - 1].name);
            if (same) {
                sb_addc(out, ',');
            } else {
                if (i > 0) {
                    sb_addc(out, '\n');
                    sb_addc(signed_names, ';');
                }
                sb_add(out, cs[i].name);
                sb_addc(out, ':');
                sb_add(signed_names, cs[i].name);
            }
            sb_header_value(out, cs[i].value);
        }
        sb_addc(out, '\n');
    }
    for (size_t i = 0; i < n; i++)
        free(cs[i].name);
    free(cs);
    return rc;
}

/* The canonical request; signed_names (if not NULL) receives SignedHeaders. */
static char *canonical_request(const sigv4_request *req, const char *service, char **signed_out)
{
    if (!req || !is_token(req->method) || !req->path || req->path[0] != '/' ||
        !valid_value(req->path) || !service)
        return NULL;
    for (const char *m = req->method; *m; m++)
        if (*m < 'A' || *m > 'Z')
            return NULL;
    if (req->query && !valid_value(req->query))
        return NULL;
    if (req->payload_hash) {
        size_t l = strlen(req->payload_hash);
        if (strcmp(req->payload_hash, SIGV4_UNSIGNED_PAYLOAD) != 0 && l != 64)
            return NULL;
        for (size_t i = 0; l == 64 && i < l; i++)
            if (hexval(req->payload_hash[i]) < 0)
                return NULL;
    }
    sbuf b = {0}, names = {0};
    sb_add(&b, req->method);
    sb_addc(&b, '\n');
    if (!strcmp(service, "s3")) {
        sb_add(&b, req->path);
    } else {
        char *norm = normalize_path(req->path);
        if (!norm) {
            sb_free(&b);
            return NULL;
        }
        sb_uri_encode(&b, norm, strlen(norm), 1);
        free(norm);
    }
    sb_addc(&b, '\n');
    if (canonical_query(&b, req->query) != 0 ||
        (sb_addc(&b, '\n'), canonical_headers(req->headers, req->n_headers, &b, &names)) != 0) {
        sb_free(&b);
        sb_free(&names);
        return NULL;
    }
    sb_addc(&b, '\n');
    sb_addn(&b, names.p ? names.p : "", names.len);
    sb_addc(&b, '\n');
    if (req->payload_hash) {
        sb_add(&b, req->payload_hash);
    } else {
        char h[65];
        sha256_hex(req->payload, req->payload ? req->payload_len : 0, h);
        sb_add(&b, h);
    }
    char *creq = sb_take(&b);
    char *sn = sb_take(&names);
    if (!creq || !sn) {
        free(creq);
        free(sn);
        return NULL;
    }
    if (signed_out)
        *signed_out = sn;
    else
        free(sn);
    return creq;
}

char *sigv4_canonical_request(const sigv4_request *req, const char *service)
{
    return canonical_request(req, service, NULL);
}

char *sigv4_string_to_sign(const char *amz_date, const char *region, const char *service,
                           const char *creq)
{
    if (!valid_amz_date(amz_date) || !valid_scope_part(region) || !valid_scope_part(service) ||
        !creq)
        return NULL;
    char h[65];
    sha256_hex(creq, strlen(creq), h);
    sbuf b = {0};
    sb_add(&b, "AWS4-HMAC-SHA256\n");
    sb_add(&b, amz_date);
    sb_addc(&b, '\n');
    sb_addn(&b, amz_date, 8);
    sb_addc(&b, '/');
    sb_add(&b, region);
    sb_addc(&b, '/');
    sb_add(&b, service);
    sb_add(&b, "/aws4_request\n");
    sb_add(&b, h);
    return sb_take(&b);
}

int sigv4_signing_key(const char *secret_key, const char *date8, const char *region,
                      const char *service, unsigned char out[32])
{
    if (!secret_key || !*secret_key || !date8 || strlen(date8) != 8 ||
        !valid_scope_part(region) || !valid_scope_part(service))
        return -1;
    size_t sl = strlen(secret_key);
    unsigned char *k0 = malloc(sl + 4);
    if (!k0)
        return -1;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret_key, sl);
    unsigned char a[32], b[32];
    int rc = hmac(k0, sl + 4, date8, 8, a) | hmac(a, 32, region, strlen(region), b) |
             hmac(b, 32, service, strlen(service), a) | hmac(a, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(k0, sl + 4);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    free(k0);
    return rc ? -1 : 0;
}

/* --- the signer ----------------------------------------------------------- */

sigv4_signer *sigv4_signer_new(const char *access_key, const char *secret_key,
                               const char *session_token)
{
    if (!access_key || !*access_key || !secret_key || !*secret_key || !valid_value(access_key) ||
        (session_token && !valid_value(session_token)))
        return NULL;
    sigv4_signer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->access_key = strdup(access_key);
    s->secret_key = strdup(secret_key);
    s->token = session_token && *session_token ? strdup(session_token) : NULL;
    if (!s->access_key || !s->secret_key || (session_token && *session_token && !s->token)) {
        sigv4_signer_free(s);
        return NULL;
    }
    return s;
}

static void cleanse_free(char *p)
{
    if (p) {
        OPENSSL_cleanse(p, strlen(p));
        free(p);
    }
}

void sigv4_signer_free(sigv4_signer *s)
{
    if (!s)
        return;
    cleanse_free(s->access_key);
    cleanse_free(s->secret_key);
    cleanse_free(s->token);
    OPENSSL_cleanse(s->cache, sizeof s->cache);
    free(s);
}

const char *sigv4_signer_token(const sigv4_signer *s)
{
    return s ? s->token : NULL;
}

unsigned sigv4_signer_derivations(const sigv4_signer *s)
{
    return s ? s->derivations : 0;
}

static const unsigned char *cached_key(sigv4_signer *s, const char *amz_date, const char *region,
                                       const char *service)
{
    for (unsigned i = 0; i < s->n_cache; i++) {
        key_entry *e = &s->cache[i];
        if (!strncmp(e->date8, amz_date, 8) && !strcmp(e->region, region) &&
            !strcmp(e->service, service))
            return e->key;
    }
    key_entry *e = &s->cache[s->next];
    char date8[9];
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    if (sigv4_signing_key(s->secret_key, date8, region, service, e->key) != 0)
        return NULL;
    memcpy(e->date8, date8, sizeof date8);
    snprintf(e->region, sizeof e->region, "%s", region);
    snprintf(e->service, sizeof e->service, "%s", service);
    s->next = (s->next + 1) % KEY_CACHE;
    if (s->n_cache < KEY_CACHE)
        s->n_cache++;
    s->derivations++;
    return e->key;
}

/* hex signature of creq into sig[65]; 0 or -1 */
static int signature(sigv4_signer *s, const char *creq, const char *region, const char *service,
                     const char *amz_date, char sig[65])
{
    char *sts = sigv4_string_to_sign(amz_date, region, service, creq);
    if (!sts)
        return -1;
    const unsigned char *key = cached_key(s, amz_date, region, service);
    unsigned char mac[32];
    int rc = key ? hmac(key, 32, sts, strlen(sts), mac) : -1;
    free(sts);
    if (rc == 0)
        hex_encode(mac, 32, sig);
    return rc;
}

char *sigv4_sign(sigv4_signer *s, const sigv4_request *req, const char *region,
                 const char *service, const char *amz_date)
{
    if (!s || !valid_amz_date(amz_date) || !valid_scope_part(region) || !valid_scope_part(service))
        return NULL;
    char *names = NULL;
    char *creq = canonical_request(req, service, &names);
    if (!creq)
        return NULL;
    char sig[65];
    int rc = signature(s, creq, region, service, amz_date, sig);
    free(creq);
    if (rc != 0) {
        free(names);
        return NULL;
    }
    sbuf b = {0};
    sb_add(&b, "AWS4-HMAC-SHA256 Credential=");
    sb_add(&b, s->access_key);
    sb_addc(&b, '/');
    sb_addn(&b, amz_date, 8);
    sb_addc(&b, '/');
    sb_add(&b, region);
    sb_addc(&b, '/');
    sb_add(&b, service);
    sb_add(&b, "/aws4_request, SignedHeaders=");
    sb_add(&b, names);
    sb_add(&b, ", Signature=");
    sb_add(&b, sig);
    free(names);
    return sb_take(&b);
}

static void sb_param(sbuf *b, const char *name, const char *value)
{
    if (b->len)
        sb_addc(b, '&');
    sb_add(b, name);
    sb_addc(b, '=');
    sb_uri_encode(b, value, strlen(value), 0);
}

char *sigv4_presign_query(sigv4_signer *s, const sigv4_request *req, const char *region,
                          const char *service, const char *amz_date, int expires_s)
{
    if (!s || !req || expires_s < 1 || expires_s > 604800 || !valid_amz_date(amz_date) ||
        !valid_scope_part(region) || !valid_scope_part(service) ||
        (req->query && !valid_value(req->query)))
        return NULL;
    /* SignedHeaders comes from the header set; a canonical pass over the bare
     * request gives it (and refuses malformed headers). */
    sigv4_request probe = *req;
    probe.query = NULL;
    char *names = NULL;
    char *c0 = canonical_request(&probe, service, &names);
    if (!c0)
        return NULL;
    free(c0);
    sbuf q = {0};
    if (req->query && *req->query)
        sb_add(&q, req->query);
    char credential[512], expires[16];
    snprintf(credential, sizeof credential, "%s/%.8s/%s/%s/aws4_request", s->access_key, amz_date,
             region, service);
    snprintf(expires, sizeof expires, "%d", expires_s);
    sb_param(&q, "X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    sb_param(&q, "X-Amz-Credential", credential);
    sb_param(&q, "X-Amz-Date", amz_date);
    sb_param(&q, "X-Amz-Expires", expires);
    if (s->token)
        sb_param(&q, "X-Amz-Security-Token", s->token);
    sb_param(&q, "X-Amz-SignedHeaders", names);
    free(names);
    if (q.failed) {
        sb_free(&q);
        return NULL;
    }
    sigv4_request full = *req;
    full.query = q.p;
    char *creq = canonical_request(&full, service, NULL);
    char sig[65];
    int rc = creq ? signature(s, creq, region, service, amz_date, sig) : -1;
    free(creq);
    if (rc != 0) {
        sb_free(&q);
        return NULL;
    }
    sb_param(&q, "X-Amz-Signature", sig);
    return sb_take(&q);
}

void sigv4_amz_date(long long t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
