/* dump_lines.h — reading kin_dump's output in tests: the whole dump as a
 * string, and a search for a line holding up to three pieces. */
#ifndef KIN_TESTS_DUMP_LINES_H
#define KIN_TESTS_DUMP_LINES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static inline char *dump_to_string(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f);
    CHECK(kin_dump(f) > 0);
    fclose(f);
    return buf;
}

static inline int find_line(const char *dump, const char *a, const char *b,
                            const char *c) {
    const char *line = dump;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char tmp[512];
        if (n >= sizeof tmp)
            n = sizeof tmp - 1;
        memcpy(tmp, line, n);
        tmp[n] = 0;
        if (strstr(tmp, a) && (!b || strstr(tmp, b)) && (!c || strstr(tmp, c)))
            return 1;
        line = end ? end + 1 : NULL;
    }
    fprintf(stderr, "no line with \"%s\" \"%s\" \"%s\" in:\n%s", a, b ? b : "",
            c ? c : "", dump);
    return 0;
}

#endif
