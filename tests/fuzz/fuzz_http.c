/*
 * fuzz_http — a libFuzzer target over examples/http_parse.h, the request
 * parser of examples/http_server.c. The input is the bytes a client sent
 * (copied into a buffer of exactly that size, so AddressSanitizer sees any
 * read past the end). Besides memory safety it checks, for each request
 * the input holds (pipelined, one after another):
 *   - the result is MORE, BAD, TOO_LARGE or a length within the input;
 *   - the pieces it returns (method, target) lie inside the request;
 *   - partial reads: every shorter prefix of a whole request parses as
 *     MORE (the server then reads on), and the request alone parses the
 *     same as with more bytes after it (pipelining).
 * A violation aborts.
 *
 * Build and run: tests/fuzz/run_http.sh BUILD_DIR SECONDS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_http: %s (line %d)\n", #cond, __LINE__);   \
            abort();                                                         \
        }                                                                    \
    } while (0)

static void check_one(const char *buf, size_t len, int r,
                      const http_request *req) {
    CHECK(r == HTTP_PARSE_MORE || r == HTTP_PARSE_BAD ||
          r == HTTP_PARSE_TOO_LARGE || (r > 0 && (size_t)r <= len));
    if (r <= 0)
        return;
    CHECK((size_t)r <= HTTP_MAX_HEAD + HTTP_MAX_BODY);
    CHECK(req->method == buf && req->method_len > 0);
    CHECK(req->target > buf && req->target + req->target_len <= buf + r);
    CHECK(req->target_len > 0 && req->minor >= 0 && req->minor <= 1);
    CHECK(req->body_len <= HTTP_MAX_BODY && req->body_len < (size_t)r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    size_t off = 0;
    while (off < size) {
        const char *p = buf + off;
        size_t len = size - off;
        http_request req;
        int r = http_parse(p, len, &req);
        check_one(p, len, r, &req);
        if (r <= 0)
            break;
        /* The request alone, in a buffer of its size: the same answer. */
        char *alone = malloc((size_t)r);
        CHECK(alone);
        memcpy(alone, p, (size_t)r);
        http_request req2;
        CHECK(http_parse(alone, (size_t)r, &req2) == r);
        CHECK(req2.method_len == req.method_len &&
              req2.target_len == req.target_len &&
              req2.keep_alive == req.keep_alive &&
              req2.body_len == req.body_len);
        /* Every prefix (a request split across reads): read more. */
        size_t step = r > 512 ? (size_t)r / 256 : 1;
        for (size_t k = 0; k < (size_t)r; k += step) {
            http_request req3;
            CHECK(http_parse(alone, k, &req3) == HTTP_PARSE_MORE);
        }
        free(alone);
        off += (size_t)r;
    }
    free(buf);
    return 0;
}
