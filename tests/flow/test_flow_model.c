/* The flow model test: random chains of operators over random sources, run
 * on kin and on a plain C interpreter of the same chain (the model: nested
 * calls, no coroutines, obviously right), compared value by value, with
 * the collect's result, each on_completion's cause and each on_each's
 * count. A program is a source (values, and perhaps a failure after some
 * of them for its first few collects) and up to 8 stages: map, filter,
 * take, transform (each value k times), distinct_until_changed, on_each,
 * on_completion, catch (emits a value instead of the failure), retry,
 * a map that fails on one value, and buffer / flow_on(Default), which
 * run the upstream in another coroutine.
 *
 * Everything is compared exactly, with two exceptions that come from
 * concurrency, not from kin: with buffer or flow_on, the upstream runs
 * ahead of the collector, so an on_each or on_completion above them sees
 * as many values, and ends the way, the race decides (checked only for
 * stages below every buffer and flow_on); and an upstream failure cancels
 * the collector at once, dropping what was still buffered (kotlinx does
 * the same), so whether a take below wins the race is timing: programs
 * with buffer or flow_on have no failures. KIN_FLOW_MODEL_PROGRAMS and
 * KIN_FLOW_MODEL_SEED choose how many programs and from where. */
#include <errno.h>
#include <stdint.h>

#include "check.h"

enum op {
    OP_MAP_ADD,
    OP_MAP_MUL,
    OP_FILTER,
    OP_TAKE,
    OP_DUP,
    OP_DISTINCT,
    OP_ON_EACH,
    OP_ON_COMPLETION,
    OP_CATCH,
    OP_RETRY,
    OP_FAIL_ON,
    OP_BUFFER,
    OP_FLOW_ON,
    OP_COUNT
};

static const char *const OP_NAMES[] = {
    "map_add", "map_mul", "filter", "take", "dup", "distinct", "on_each",
    "on_completion", "catch", "retry", "fail_on", "buffer", "flow_on"};

enum { MAX_STAGES = 8, MAX_SRC = 12, MAX_OUT = 4096 };

#define SRC_FAIL (-EIO)    /* the source's failure */
#define STAGE_FAIL (-EPROTO) /* fail_on's failure */

typedef struct stage {
    int op;
    long a, b;
    /* per run, kin side and model side */
    long seen_kin, seen_model;       /* on_each */
    int cause_kin, cause_model;      /* on_completion: 0 or the code */
    int ran_kin, ran_model;          /* on_completion ran */
} stage;

typedef struct program {
    long src[MAX_SRC];
    int n_src;
    int fail_after; /* -1: never fails; else after this many values */
    int fail_times; /* the first fail_times collects fail */
    int n_stages;
    stage st[MAX_STAGES];
    bool concurrent; /* a buffer or flow_on in the chain */
    int last_concurrent; /* the index of the last one, -1 if none */
    /* per run */
    int collects_kin, collects_model;
} program;

typedef struct out {
    long v[MAX_OUT];
    int n;
} out;

static uint64_t g_rng;
static uint64_t rnd(void) { /* xorshift64* */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ull;
}
static long pick(long n) { return (long)(rnd() % (uint64_t)n); }

static void generate(program *p) {
    memset(p, 0, sizeof *p);
    p->n_src = (int)pick(MAX_SRC + 1);
    for (int i = 0; i < p->n_src; i++)
        p->src[i] = pick(10);
    p->fail_after = pick(3) == 0 ? (int)pick(p->n_src + 1) : -1;
    p->fail_times = p->fail_after >= 0 ? 1 + (int)pick(3) : 0;
    p->n_stages = (int)pick(MAX_STAGES + 1);
    for (int i = 0; i < p->n_stages; i++) {
        stage *s = &p->st[i];
        s->op = (int)pick(OP_COUNT);
        switch (s->op) {
        case OP_MAP_ADD: s->a = pick(5); break;
        case OP_MAP_MUL: s->a = 1 + pick(3); break;
        case OP_FILTER: s->a = 2 + pick(2); s->b = pick(s->a); break;
        case OP_TAKE: s->a = 1 + pick(6); break;
        case OP_DUP: s->a = pick(3); break;
        case OP_CATCH: s->a = 100 + pick(10); break;
        case OP_RETRY: s->a = 1 + pick(3); break;
        case OP_FAIL_ON: s->a = pick(12); break;
        case OP_BUFFER: s->a = pick(3); break; /* 0, 1, 2 */
        default: break;
        }
    }
    p->last_concurrent = -1;
    for (int i = 0; i < p->n_stages; i++)
        if (p->st[i].op == OP_BUFFER || p->st[i].op == OP_FLOW_ON)
            p->last_concurrent = i;
    p->concurrent = p->last_concurrent >= 0;
    if (p->concurrent) { /* no failures: see the top of the file */
        p->fail_after = -1;
        p->fail_times = 0;
        for (int i = 0; i < p->n_stages; i++)
            if (p->st[i].op == OP_FAIL_ON)
                p->st[i].op = OP_MAP_ADD;
    }
}

static void print_program(const program *p) {
    fprintf(stderr, "source [");
    for (int i = 0; i < p->n_src; i++)
        fprintf(stderr, "%s%ld", i ? " " : "", p->src[i]);
    fprintf(stderr, "] fail_after %d fail_times %d\n", p->fail_after,
            p->fail_times);
    for (int i = 0; i < p->n_stages; i++)
        fprintf(stderr, "  .%s(%ld, %ld)\n", OP_NAMES[p->st[i].op],
                p->st[i].a, p->st[i].b);
}

/* ---- The model: the same chain as nested plain calls ----------------------- */

/* A sink takes one value; returns 0, or a negative code: a failure, or an
 * abort (ABORT_BASE - stage index: take's stop, owned by that take). */
#define ABORT_BASE (-1000000)
typedef struct msink msink;
struct msink {
    int (*push)(msink *s, long v);
};

typedef struct mctx {
    program *p;
    int level; /* the stage this sink feeds: the chain is st[0..level) */
} mctx;

static int m_collect(program *p, int level, msink *down);

typedef struct m_stage_sink {
    msink base;
    program *p;
    int i; /* the stage */
    msink *down;
    long count;        /* take */
    bool has_prev;     /* distinct */
    long prev;
    bool down_failed;  /* catch / retry: the failure came from below */
} m_stage_sink;

static int m_push_stage(msink *s0, long v) {
    m_stage_sink *s = (m_stage_sink *)s0;
    stage *st = &s->p->st[s->i];
    int rc;
    switch (st->op) {
    case OP_MAP_ADD:
        return s->down->push(s->down, v + st->a);
    case OP_MAP_MUL:
        return s->down->push(s->down, v * st->a);
    case OP_FILTER:
        return v % st->a == st->b ? s->down->push(s->down, v) : 0;
    case OP_TAKE:
        rc = s->down->push(s->down, v);
        if (rc < 0)
            return rc;
        return ++s->count == st->a ? ABORT_BASE - s->i : 0;
    case OP_DUP:
        for (long k = 0; k < st->a; k++)
            if ((rc = s->down->push(s->down, v)) < 0)
                return rc;
        return 0;
    case OP_DISTINCT:
        if (s->has_prev && s->prev == v)
            return 0;
        s->has_prev = true;
        s->prev = v;
        return s->down->push(s->down, v);
    case OP_ON_EACH:
        st->seen_model++;
        return s->down->push(s->down, v);
    case OP_FAIL_ON:
        if (v == st->a)
            return STAGE_FAIL;
        return s->down->push(s->down, v);
    default: /* on_completion, catch, retry, buffer, flow_on pass values */
        rc = s->down->push(s->down, v);
        if (rc < 0)
            s->down_failed = true;
        return rc;
    }
}

typedef struct m_src_sink {
    msink base;
} m_src_sink;

/* Runs the chain st[0..level) into down. */
static int m_collect(program *p, int level, msink *down) {
    if (level == 0) {
        int attempt = p->collects_model++;
        bool fails = p->fail_after >= 0 && attempt < p->fail_times;
        for (int i = 0; i < p->n_src; i++) {
            if (fails && i == p->fail_after)
                return SRC_FAIL;
            int rc = down->push(down, p->src[i]);
            if (rc < 0)
                return rc;
        }
        return fails ? SRC_FAIL : 0;
    }
    int i = level - 1;
    stage *st = &p->st[i];
    m_stage_sink s = {{m_push_stage}, p, i, down, 0, false, 0, false};
    int rc;
    switch (st->op) {
    case OP_TAKE:
        rc = m_collect(p, i, &s.base);
        return rc == ABORT_BASE - i ? 0 : rc;
    case OP_ON_COMPLETION:
        rc = m_collect(p, i, &s.base);
        st->ran_model = 1;
        st->cause_model = rc <= ABORT_BASE ? KIN_ECANCELED : rc;
        return rc;
    case OP_CATCH:
        rc = m_collect(p, i, &s.base);
        if (rc < 0 && rc > ABORT_BASE && !s.down_failed)
            return down->push(down, st->a); /* then completes normally */
        return rc;
    case OP_RETRY:
        for (long attempt = 0;; attempt++) {
            s.down_failed = false;
            rc = m_collect(p, i, &s.base);
            if (rc == 0 || rc <= ABORT_BASE || s.down_failed ||
                attempt >= st->a)
                return rc;
        }
    default:
        return m_collect(p, i, &s.base);
    }
}

typedef struct m_out_sink {
    msink base;
    out *o;
} m_out_sink;

static int m_push_out(msink *s0, long v) {
    m_out_sink *s = (m_out_sink *)s0;
    CHECK(s->o->n < MAX_OUT);
    s->o->v[s->o->n++] = v;
    return 0;
}

static int model_run(program *p, out *o) {
    m_out_sink sink = {{m_push_out}, o};
    int rc = m_collect(p, p->n_stages, &sink.base);
    CHECK(rc > ABORT_BASE); /* every take catches its own abort */
    return rc;
}

/* ---- kin: the same chain built with kin_flow_* --------------------------------- */

static int k_source(kin_flow_collector *c, void *arg) {
    program *p = arg;
    int attempt = p->collects_kin++;
    bool fails = p->fail_after >= 0 && attempt < p->fail_times;
    for (int i = 0; i < p->n_src; i++) {
        if (fails && i == p->fail_after)
            return kin_fail_code(SRC_FAIL, "IOException", "source");
        KIN_TRY(kin_flow_emit(c, &p->src[i], sizeof(long)));
    }
    return fails ? kin_fail_code(SRC_FAIL, "IOException", "source") : 0;
}

static int k_map_add(const void *in, void *o, void *arg) {
    *(long *)o = *(const long *)in + ((stage *)arg)->a;
    return 0;
}
static int k_map_mul(const void *in, void *o, void *arg) {
    *(long *)o = *(const long *)in * ((stage *)arg)->a;
    return 0;
}
static int k_fail_on(const void *in, void *o, void *arg) {
    long v = *(const long *)in;
    if (v == ((stage *)arg)->a)
        return kin_fail_code(STAGE_FAIL, "ProtocolException", "fail_on %ld",
                             v);
    *(long *)o = v;
    return 0;
}
static int k_filter(const void *v, void *arg) {
    stage *s = arg;
    return *(const long *)v % s->a == s->b;
}
static int k_dup(kin_flow_collector *c, const void *v, void *arg) {
    for (long k = 0; k < ((stage *)arg)->a; k++)
        KIN_TRY(kin_flow_emit(c, v, sizeof(long)));
    return 0;
}
static int k_on_each(const void *v, void *arg) {
    (void)v;
    ((stage *)arg)->seen_kin++;
    return 0;
}
static int k_on_completion(kin_flow_collector *c, const kin_error *cause,
                           void *arg) {
    (void)c;
    stage *s = arg;
    s->ran_kin = 1;
    s->cause_kin = cause ? kin_error_code(cause) : 0;
    return 0;
}
static int k_catch(kin_flow_collector *c, const kin_error *cause, void *arg) {
    (void)cause;
    return kin_flow_emit(c, &((stage *)arg)->a, sizeof(long));
}

static int build(program *p, kin_flow *f) {
    KIN_TRY(kin_flow_new(f, sizeof(long), k_source, p));
    for (int i = 0; i < p->n_stages; i++) {
        stage *s = &p->st[i];
        switch (s->op) {
        case OP_MAP_ADD: KIN_TRY(kin_flow_map(f, sizeof(long), k_map_add, s)); break;
        case OP_MAP_MUL: KIN_TRY(kin_flow_map(f, sizeof(long), k_map_mul, s)); break;
        case OP_FILTER: KIN_TRY(kin_flow_filter(f, k_filter, s)); break;
        case OP_TAKE: KIN_TRY(kin_flow_take(f, (uint64_t)s->a)); break;
        case OP_DUP: KIN_TRY(kin_flow_transform(f, sizeof(long), k_dup, s)); break;
        case OP_DISTINCT: KIN_TRY(kin_flow_distinct_until_changed(f, NULL, NULL)); break;
        case OP_ON_EACH: KIN_TRY(kin_flow_on_each(f, k_on_each, s)); break;
        case OP_ON_COMPLETION: KIN_TRY(kin_flow_on_completion(f, k_on_completion, s)); break;
        case OP_CATCH: KIN_TRY(kin_flow_catch(f, k_catch, s)); break;
        case OP_RETRY: KIN_TRY(kin_flow_retry(f, (uint64_t)s->a, NULL, NULL)); break;
        case OP_FAIL_ON: KIN_TRY(kin_flow_map(f, sizeof(long), k_fail_on, s)); break;
        case OP_BUFFER: KIN_TRY(kin_flow_buffer(f, (int)s->a, KIN_OVERFLOW_SUSPEND)); break;
        case OP_FLOW_ON: KIN_TRY(kin_flow_on(f, kin_dispatcher_default())); break;
        }
    }
    return 0;
}

static int k_push_out(const void *v, void *arg) {
    out *o = arg;
    CHECK(o->n < MAX_OUT);
    o->v[o->n++] = *(const long *)v;
    return 0;
}

static out g_kin, g_model;

static void compare(long n, program *p, int rc_kin, int rc_model) {
    bool ok = rc_kin == rc_model && g_kin.n == g_model.n &&
              memcmp(g_kin.v, g_model.v, sizeof(long) * (size_t)g_kin.n) == 0;
    for (int i = 0; i < p->n_stages && ok; i++) {
        stage *s = &p->st[i];
        bool below_all = i > p->last_concurrent; /* runs in the collector */
        if (s->op == OP_ON_EACH && below_all)
            ok = s->seen_kin == s->seen_model;
        if (s->op == OP_ON_COMPLETION)
            ok = s->ran_kin == 1 &&
                 (!below_all || s->cause_kin == s->cause_model);
    }
    if (ok)
        return;
    fprintf(stderr, "flow model: program %ld differs\n", n);
    print_program(p);
    fprintf(stderr, "kin   rc %d (%s):", rc_kin, kin_strerror(rc_kin));
    for (int i = 0; i < g_kin.n; i++)
        fprintf(stderr, " %ld", g_kin.v[i]);
    fprintf(stderr, "\nmodel rc %d (%s):", rc_model, kin_strerror(rc_model));
    for (int i = 0; i < g_model.n; i++)
        fprintf(stderr, " %ld", g_model.v[i]);
    fprintf(stderr, "\n");
    for (int i = 0; i < p->n_stages; i++)
        if (p->st[i].op == OP_ON_EACH || p->st[i].op == OP_ON_COMPLETION)
            fprintf(stderr, "  stage %d %s: kin seen %ld cause %d ran %d; "
                            "model seen %ld cause %d ran %d\n",
                    i, OP_NAMES[p->st[i].op], p->st[i].seen_kin,
                    p->st[i].cause_kin, p->st[i].ran_kin, p->st[i].seen_model,
                    p->st[i].cause_model, p->st[i].ran_model);
    exit(1);
}

static long g_programs;

static int body(void *arg) {
    (void)arg;
    for (long n = 0; n < g_programs; n++) {
        program p;
        generate(&p);
        g_kin.n = g_model.n = 0;
        int rc_model = model_run(&p, &g_model);
        kin_flow f;
        CHECK_EQ(build(&p, &f), 0);
        int rc_kin = kin_flow_collect(f, k_push_out, &g_kin);
        kin_clear_error();
        CHECK_EQ(kin_flow_release(f), 0);
        compare(n, &p, rc_kin, rc_model);
    }
    return 0;
}

int main(void) {
    const char *e = getenv("KIN_FLOW_MODEL_PROGRAMS");
    g_programs = e ? atol(e) : test_scale(3000);
    e = getenv("KIN_FLOW_MODEL_SEED");
    g_rng = (e ? strtoull(e, NULL, 10) : 1) * 0x9E3779B97F4A7C15ull + 1;
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("flow model: %ld programs agree\n", g_programs);
    return 0;
}
