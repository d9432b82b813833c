/* http_parse.h: the request parser of examples/http_server.c, on its own so
 * tests/fuzz/fuzz_http.c can fuzz it. Header-only (every .c in examples/ is
 * a program); no allocation, no kin.
 *
 * http_parse(buf, len, &req) looks at the bytes received so far and returns
 *   > 0                    one whole request (head and body) is in buf: the
 *                          number of bytes it takes; the caller drops them,
 *                          and the rest (a pipelined request) stays
 *   HTTP_PARSE_MORE (0)    incomplete: read more and call again
 *   HTTP_PARSE_BAD         malformed: answer 400 and close
 *   HTTP_PARSE_TOO_LARGE   the head exceeds HTTP_MAX_HEAD bytes or
 *                          HTTP_MAX_HEADERS lines, or the body
 *                          HTTP_MAX_BODY: answer 431 / 413 and close
 * It never reads past buf[len - 1]. Strict HTTP/1.0 and 1.1: CRLF line
 * ends, a token method, a printable target, no obsolete line folding, one
 * numeric Content-Length, no Transfer-Encoding (chunked bodies: 400).
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum {
    HTTP_MAX_HEAD = 8192,   /* request line + headers + blank line */
    HTTP_MAX_HEADERS = 64,  /* header lines */
    HTTP_MAX_BODY = 8192,   /* Content-Length */
    HTTP_PARSE_MORE = 0,
    HTTP_PARSE_BAD = -1,
    HTTP_PARSE_TOO_LARGE = -2,
};

typedef struct http_request {
    const char *method, *target; /* pointers into buf, not terminated */
    size_t method_len, target_len;
    int minor;        /* HTTP/1.minor: 0 or 1 */
    bool keep_alive;  /* 1.1 unless "Connection: close"; 1.0 only with
                         "Connection: keep-alive" */
    size_t body_len;  /* Content-Length (the body is skipped) */
} http_request;

static inline bool http_is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does the comma-separated value v[0..n) hold token t (case-insensitive)? */
static inline bool http_has_token(const char *v, size_t n, const char *t) {
    size_t tl = strlen(t);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, t, tl) == 0)
            return true;
    }
    return false;
}

static inline int http_parse(const char *buf, size_t len, http_request *req) {
    /* Find the blank line that ends the head, within the limit. */
    size_t lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD, head = 0;
    for (size_t i = 3; i < lim; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
            buf[i - 3] == '\r') {
            head = i + 1;
            break;
        }
    if (!head) /* a bare LF, or a NUL, is malformed even before the end */
        for (size_t i = 0; i < lim; i++)
            if (!buf[i] || (buf[i] == '\n' && (!i || buf[i - 1] != '\r')))
                return HTTP_PARSE_BAD;
    if (!head)
        return len >= HTTP_MAX_HEAD ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_MORE;

    /* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
    const char *p = buf, *end = buf + head - 2; /* end: the final CRLF */
    *req = (http_request){.method = p};
    while (p < end && http_is_tchar((unsigned char)*p))
        p++;
    req->method_len = (size_t)(p - req->method);
    if (!req->method_len || p >= end || *p++ != ' ')
        return HTTP_PARSE_BAD;
    req->target = p;
    while (p < end && (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f)
        p++;
    req->target_len = (size_t)(p - req->target);
    if (!req->target_len || end - p < 11 || memcmp(p, " HTTP/1.", 8) != 0 ||
        (p[8] != '0' && p[8] != '1') || p[9] != '\r' || p[10] != '\n')
        return HTTP_PARSE_BAD;
    req->minor = p[8] - '0';
    req->keep_alive = req->minor == 1;
    p += 11;

    /* Header lines: NAME ":" OWS VALUE OWS CRLF */
    bool have_len = false;
    for (int n = 0; p < end; n++) {
        if (n == HTTP_MAX_HEADERS)
            return HTTP_PARSE_TOO_LARGE;
        const char *name = p;
        while (p < end && http_is_tchar((unsigned char)*p))
            p++;
        size_t nl = (size_t)(p - name);
        if (!nl || p >= end || *p++ != ':')
            return HTTP_PARSE_BAD;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *v = p;
        while (p < end && *p != '\r') {
            unsigned char c = (unsigned char)*p++;
            if ((c < ' ' && c != '\t') || c == 0x7f)
                return HTTP_PARSE_BAD;
        }
        if (p >= end || p[1] != '\n') /* a bare CR; or no line end */
            return HTTP_PARSE_BAD;
        size_t vl = (size_t)(p - v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        p += 2;
        if (nl == 10 && strncasecmp(name, "connection", 10) == 0) {
            if (http_has_token(v, vl, "close"))
                req->keep_alive = false;
            else if (http_has_token(v, vl, "keep-alive"))
                req->keep_alive = true;
        } else if (nl == 14 && strncasecmp(name, "content-length", 14) == 0) {
            if (have_len || !vl)
                return HTTP_PARSE_BAD;
            have_len = true;
            size_t b = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return HTTP_PARSE_BAD;
                b = b * 10 + (size_t)(v[i] - '0');
                if (b > HTTP_MAX_BODY)
                    return HTTP_PARSE_TOO_LARGE;
            }
            req->body_len = b;
        } else if (nl == 17 &&
                   strncasecmp(name, "transfer-encoding", 17) == 0) {
            return HTTP_PARSE_BAD;
        }
    }
    if (len - head < req->body_len)
        return HTTP_PARSE_MORE;
    return (int)(head + req->body_len);
}

#endif
