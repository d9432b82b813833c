/* Search as you type: a debounced flow of queries, on virtual time.
 * In Kotlin:
 *
 *   val queries = channelFlow {            // the search box's text
 *       var text = ""
 *       for (key in keystrokes) {          // with the typist's pauses
 *           delay(key.pause); text += key.char; send(text)
 *       }
 *       delay(1000)                        // the user stops typing
 *   }
 *   runTest {
 *       queries.debounce(300)              // only what stood 300 ms
 *           .collect { q -> println("search \"$q\": ${search(q)}") }
 *   }
 *
 * Each keystroke changes the query, but a search starts only when the text
 * has not changed for 300 ms: typing "kot", pausing, then typing "lin"
 * quickly searches "kot" and "kotlin", not "k", "ko", "kotl", "kotli". The
 * keyboard is a kin_channel_flow (its producer could just as well be a
 * callback from a UI toolkit sending into the channel); kin_flow_debounce
 * runs it in a coroutine of its own and waits, in a select, for either the
 * next query or the 300 ms. Under kin_run_test the delays take no real time
 * and the output is the same on every run.
 */
#include <stdio.h>
#include <string.h>

#include <kin.h>

typedef struct query {
    char text[32];
} query;

typedef struct burst {
    const char *keys; /* typed one by one ... */
    int64_t gap_ms;   /* ... this far apart */
    int64_t pause_ms; /* then a pause before the next burst */
} burst;

static const burst typing[] = {
    {"kot", 100, 500},   /* a long pause: "kot" is searched */
    {"lin", 120, 250},   /* too short a pause: "kotlin" is not ... */
    {" flow", 90, 1000}, /* ... "kotlin flow" is */
};

static int64_t t0;

static void stamp(void) {
    printf("[%5lld ms] ", (long long)(kin_current_time() - t0));
}

/* The search box: sends the whole text after each keystroke. */
static int keyboard(kin_channel ch, void *arg) {
    (void)arg;
    query q = {{0}};
    size_t len = 0;
    size_t n = sizeof typing / sizeof typing[0];
    for (size_t i = 0; i < n; i++) {
        for (const char *k = typing[i].keys; *k; k++) {
            if (k != typing[i].keys)
                KIN_TRY(kin_delay(typing[i].gap_ms));
            else if (i > 0)
                KIN_TRY(kin_delay(typing[i - 1].pause_ms));
            q.text[len++] = *k;
            stamp();
            printf("typed  \"%s\"\n", q.text);
            KIN_TRY(kin_channel_send(ch, &q, sizeof q));
        }
    }
    KIN_TRY(kin_delay(typing[n - 1].pause_ms));
    return 0; /* the user is done: the flow completes */
}

static const char *const index_words[] = {
    "kotlin", "kotlinx.coroutines", "kotlin flow", "flow operators",
    "kotlin flow debounce", "coroutine scope",
};

static int search(const void *value, void *arg) {
    const query *q = value;
    int *searches = arg;
    ++*searches;
    stamp();
    printf("search \"%s\":", q->text);
    int hits = 0;
    for (size_t i = 0; i < sizeof index_words / sizeof index_words[0]; i++)
        if (strncmp(index_words[i], q->text, strlen(q->text)) == 0)
            printf("%s %s", hits++ ? "," : "", index_words[i]);
    printf("%s\n", hits ? "" : " (nothing)");
    return 0;
}

static int app(void *arg) {
    (void)arg;
    t0 = kin_current_time();
    kin_flow queries;
    KIN_TRY(kin_channel_flow(&queries, sizeof(query), NULL, keyboard, NULL));
    KIN_TRY(kin_flow_debounce(&queries, 300));
    int searches = 0;
    int rc = kin_flow_collect(queries, search, &searches);
    kin_flow_release(queries);
    if (rc < 0)
        return rc;
    stamp();
    printf("%d searches for 11 keystrokes\n", searches);
    return 0;
}

int main(void) {
    int rc = kin_run_test(app, NULL);
    if (rc < 0)
        fprintf(stderr, "failed: %s\n", kin_error_message(kin_last_error()));
    return rc < 0 ? 1 : 0;
}
