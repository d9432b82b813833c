/*
 * prog.h — random structured programs for the model test (tests/model/test_model.c)
 * and the fuzz target (tests/fuzz/fuzz_program.c).
 *
 * A program is a tree of nodes. Some nodes own a *body* (a list of statement
 * nodes, run in order):
 *
 *   ROOT          the kin_run_blocking body
 *   LAUNCH/ASYNC  a child coroutine (kin_launch / kin_async), maybe LAZY,
 *                 maybe with its own exception handler
 *   SCOPE, SUPERVISOR, TIMEOUT, TIMEOUT_NULL, NONCANCEL
 *                 a scope function run in place (kin_coroutine_scope, ...)
 *
 * The other statements are leaves: DELAY (0, some ticks, or "forever"),
 * YIELD, ENSURE_ACTIVE, AWAIT / JOIN / CANCEL / START of a handle launched
 * earlier (by this body or by an enclosing one: "the parent or a sibling"),
 * CANCEL_SELF (kin_cancel(kin_current_job())), and FAIL, which ends its body
 * with `return kin_fail(...)` and a unique message "F<node>".
 *
 * Each body has a policy for a negative result of one of its statements:
 *   PROPAGATE  return it at once (KIN_TRY)
 *   IGNORE     carry on with the next statement (swallows cancellation)
 *   CLEANUP    run its cleanup node (a NONCANCEL body, which may suspend and
 *              may fail) and return the cleanup's failure if it failed, else
 *              the original code with the original error (kin_fail_error):
 *              Kotlin's try { ... } finally { withContext(NonCancellable) {
 *              ... } }.
 * START's result (KIN_EALREADY) never triggers a policy.
 *
 * Programs are built from a random source: a seeded PRNG (the test) or the
 * fuzzer's bytes. Times are in ticks; untimed programs use only 0 and
 * "forever" (which never fires), so their order of events does not depend on
 * the wall clock at all.
 */
#ifndef KIN_MODEL_PROG_H
#define KIN_MODEL_PROG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MP_FN static __attribute__((unused))

enum {
    MP_MAX_NODES = 1500,
    MP_MAX_STMTS = 10, /* statements per body */
    MP_MAX_COROS = 200, /* coroutines per program, the root included */
    MP_MAX_DEPTH = 6,   /* nesting of bodies (coroutines and scopes) */
    MP_INF = -1,        /* ticks: forever (never fires) */
};

typedef enum mp_op {
    OP_ROOT,
    OP_LAUNCH,
    OP_ASYNC,
    OP_SCOPE,
    OP_SUPERVISOR,
    OP_TIMEOUT,
    OP_TIMEOUT_NULL,
    OP_NONCANCEL,
    OP_DELAY,
    OP_YIELD,
    OP_ENSURE_ACTIVE,
    OP_AWAIT,
    OP_JOIN,
    OP_CANCEL,
    OP_CANCEL_SELF,
    OP_START,
    OP_FAIL,
    OP_COUNT_
} mp_op;

typedef enum mp_policy { POL_PROPAGATE, POL_IGNORE, POL_CLEANUP } mp_policy;

typedef struct mp_node {
    uint8_t op;
    uint8_t policy;  /* bodies */
    uint8_t lazy;    /* LAUNCH/ASYNC: KIN_START_LAZY */
    uint8_t handler; /* LAUNCH/ASYNC: installs its own exception handler */
    uint8_t keep;    /* LAUNCH/ASYNC: its handle is used by a statement */
    uint8_t nkids;
    int16_t ticks;   /* DELAY, TIMEOUT*: 0.., or MP_INF */
    int16_t target;  /* AWAIT/JOIN/CANCEL/START: a LAUNCH/ASYNC node */
    int16_t cleanup; /* POL_CLEANUP: its NONCANCEL node, else -1 */
    int16_t parent;  /* the body owner this node belongs to; -1 for root */
    int16_t kids[MP_MAX_STMTS];
} mp_node;

typedef struct mp_prog {
    uint64_t seed;
    int timed; /* uses finite non-zero ticks */
    int n;     /* nodes; node 0 is the root */
    int ncoro;
    mp_node nodes[MP_MAX_NODES];
} mp_prog;

static inline bool mp_owns_body(int op) {
    return op <= OP_NONCANCEL;
}
static inline bool mp_is_coro(int op) {
    return op == OP_ROOT || op == OP_LAUNCH || op == OP_ASYNC;
}
static inline bool mp_is_scope(int op) {
    return op >= OP_SCOPE && op <= OP_NONCANCEL;
}
static inline bool mp_is_timeout(int op) {
    return op == OP_TIMEOUT || op == OP_TIMEOUT_NULL;
}

static const char *const mp_op_names[OP_COUNT_] = {
    "root",    "launch",        "async",   "coroutine_scope", "supervisor_scope",
    "with_timeout", "with_timeout_or_null", "non_cancellable", "delay", "yield",
    "ensure_active", "await", "join", "cancel", "cancel_self", "start", "fail"};

/* ---- Random source ---------------------------------------------------------
 * Either a PRNG (splitmix64, deterministic per seed) or a byte string (the
 * fuzzer's input, read front to back; 0 once exhausted, which always means
 * the smallest choice, so generation ends). */
typedef struct mp_rng {
    uint64_t s;
    const uint8_t *data;
    size_t len, pos;
    bool bytes;
} mp_rng;

MP_FN void mp_rng_seed(mp_rng *r, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->s = seed;
}

MP_FN void mp_rng_bytes(mp_rng *r, const uint8_t *data, size_t len) {
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    r->bytes = true;
}

static inline uint64_t mp_next64(mp_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A number in [0, n). */
static inline unsigned mp_rand(mp_rng *r, unsigned n) {
    if (n <= 1)
        return 0;
    if (!r->bytes)
        return (unsigned)(mp_next64(r) % n);
    if (r->pos >= r->len)
        return 0;
    unsigned v = r->data[r->pos++];
    if (n > 256 && r->pos < r->len)
        v = v << 8 | r->data[r->pos++];
    return v % n;
}

/* True with probability pct/100. */
static inline bool mp_chance(mp_rng *r, unsigned pct) {
    if (r->bytes && r->pos >= r->len)
        return false;
    return mp_rand(r, 100) < pct;
}

/* ---- Generator ------------------------------------------------------------- */

typedef struct mp_gen {
    mp_prog *p;
    mp_rng *r;
    int max_coro;
    int max_stmts; /* per body at depth 1; fewer deeper */
    bool timed;
    int w_fail, w_sup, w_cancel; /* per-program weights of those ops */
} mp_gen;

/* Handles visible to a body: launched earlier by it or by an enclosing body
 * before the point where this body started (L2: the launching job outlives
 * every use). Never an ancestor of the body, so waits cannot deadlock on
 * their own family. */
typedef struct mp_vis {
    int n;
    int16_t ids[64];
} mp_vis;

static int mp_new_node(mp_gen *g, int op, int parent) {
    mp_prog *p = g->p;
    if (p->n >= MP_MAX_NODES)
        return -1;
    int id = p->n++;
    mp_node *n = &p->nodes[id];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->parent = (int16_t)parent;
    n->target = -1;
    n->cleanup = -1;
    return id;
}

static int mp_pick_ticks_delay(mp_gen *g) {
    mp_rng *r = g->r;
    if (g->timed) {
        unsigned c = mp_rand(r, 100);
        if (c < 20)
            return 0;
        if (c < 82)
            return 1 + (int)mp_rand(r, 8);
        return MP_INF;
    }
    return mp_chance(r, 70) ? 0 : MP_INF;
}

static int mp_pick_ticks_timeout(mp_gen *g) {
    mp_rng *r = g->r;
    if (g->timed) {
        unsigned c = mp_rand(r, 100);
        if (c < 8)
            return 0;
        if (c < 80)
            return 1 + (int)mp_rand(r, 10);
        return MP_INF;
    }
    return mp_chance(r, 12) ? 0 : MP_INF;
}

static void mp_add_kid(mp_prog *p, int owner, int kid) {
    mp_node *o = &p->nodes[owner];
    o->kids[o->nkids++] = (int16_t)kid;
}

/* A visible handle usable by op (AWAIT: async only), or -1. */
static int mp_pick_target(mp_gen *g, const mp_vis *v, int op) {
    int cand[64], n = 0;
    for (int i = 0; i < v->n; i++) {
        int t = v->ids[i];
        if (op == OP_AWAIT && g->p->nodes[t].op != OP_ASYNC)
            continue;
        cand[n++] = t;
    }
    if (n == 0)
        return -1;
    return cand[mp_rand(g->r, (unsigned)n)];
}

static void mp_gen_body(mp_gen *g, int owner, int depth, const mp_vis *inherited,
                        bool cleanup);
static bool mp_under_sup(const mp_prog *p, int owner) {
    int par = p->nodes[owner].parent;
    return par >= 0 && p->nodes[owner].op == OP_LAUNCH &&
           p->nodes[par].op == OP_SUPERVISOR;
}

/* The cleanup of a POL_CLEANUP body: a short non-cancellable section that
 * suspends (finite waits only: nothing can cancel it) and may fail. */
static int mp_gen_cleanup(mp_gen *g, int owner, int depth) {
    int nc = mp_new_node(g, OP_NONCANCEL, owner);
    if (nc < 0)
        return -1;
    mp_vis none = {0};
    mp_gen_body(g, nc, depth + 1, &none, true);
    return nc;
}

enum { W_LAUNCH, W_ASYNC, W_SCOPE, W_SUP, W_TMO, W_TMON, W_NC, W_DELAY,
       W_YIELD, W_ENSURE, W_AWAIT, W_JOIN, W_CANCEL, W_CSELF, W_START, W_FAIL,
       W_N };

static const int mp_weights[W_N] = {
    [W_LAUNCH] = 16, [W_ASYNC] = 11, [W_SCOPE] = 5,  [W_SUP] = 5,
    [W_TMO] = 4,     [W_TMON] = 3,   [W_NC] = 2,     [W_DELAY] = 14,
    [W_YIELD] = 10,  [W_ENSURE] = 2, [W_AWAIT] = 9,  [W_JOIN] = 5,
    [W_CANCEL] = 5,  [W_CSELF] = 2,  [W_START] = 2,  [W_FAIL] = 6,
};

static const int mp_w_op[W_N] = {
    OP_LAUNCH, OP_ASYNC, OP_SCOPE, OP_SUPERVISOR, OP_TIMEOUT, OP_TIMEOUT_NULL,
    OP_NONCANCEL, OP_DELAY, OP_YIELD, OP_ENSURE_ACTIVE, OP_AWAIT, OP_JOIN,
    OP_CANCEL, OP_CANCEL_SELF, OP_START, OP_FAIL};

static void mp_gen_body(mp_gen *g, int owner, int depth, const mp_vis *inherited,
                        bool cleanup) {
    mp_prog *p = g->p;
    mp_rng *r = g->r;
    mp_vis vis = *inherited;
    int max = depth <= 1 ? g->max_stmts : g->max_stmts - depth / 2;
    if (cleanup)
        max = 3;
    if (max < 2)
        max = 2;
    if (max > MP_MAX_STMTS - 2)
        max = MP_MAX_STMTS - 2; /* room for the STARTs of lazy children */
    int want = 1 + (int)mp_rand(r, (unsigned)max);
    if (depth == 1)
        want = 3 + (int)mp_rand(r, (unsigned)max); /* the root does more */
    if (want > MP_MAX_STMTS - 2)
        want = MP_MAX_STMTS - 2;
    bool can_nest = depth < MP_MAX_DEPTH && p->n < MP_MAX_NODES - 40;
    bool under_sup = mp_under_sup(p, owner);

    for (int i = 0; i < want; i++) {
        int w[W_N];
        int total = 0;
        for (int k = 0; k < W_N; k++) {
            int x = mp_weights[k];
            int op = mp_w_op[k];
            bool body = mp_owns_body(op);
            if (body && !can_nest)
                x = 0;
            if ((op == OP_LAUNCH || op == OP_ASYNC) && p->ncoro >= g->max_coro)
                x = 0;
            if (cleanup && !(op == OP_DELAY || op == OP_YIELD ||
                             op == OP_LAUNCH || op == OP_FAIL))
                x = 0;
            if (cleanup && op == OP_LAUNCH && depth > 2)
                x = 0;
            if ((op == OP_AWAIT || op == OP_JOIN || op == OP_CANCEL ||
                 op == OP_START) &&
                mp_pick_target(g, &vis, op == OP_AWAIT ? OP_AWAIT : OP_JOIN) <
                    0)
                x = 0;
            if (op == OP_AWAIT) {
                bool any = false;
                for (int v = 0; v < vis.n; v++)
                    any |= p->nodes[vis.ids[v]].op == OP_ASYNC;
                if (!any)
                    x = 0;
            }
            /* shape: launch more near the top, fail more deeper down,
             * await whenever there is something to await */
            if ((op == OP_LAUNCH || op == OP_ASYNC) && depth <= 2)
                x *= 2;
            if (op == OP_FAIL && depth == 1)
                x /= 3;
            if (op == OP_AWAIT)
                x *= 2;
            if (op == OP_FAIL && cleanup)
                x = 4 + g->w_fail; /* a failing cleanup: suppressed failures */
            else if (op == OP_FAIL)
                x = i == 0 ? 0 : x * g->w_fail / 4; /* after some work */
            if (op == OP_FAIL && under_sup)
                x *= 3; /* a failing child of a supervisor: its handler */
            if (op == OP_SUPERVISOR)
                x = x * g->w_sup / 2;
            if (op == OP_CANCEL || op == OP_CANCEL_SELF)
                x = x * g->w_cancel / 2;
            w[k] = x;
            total += x;
        }
        if (total == 0)
            break;
        int pick = (int)mp_rand(r, (unsigned)total), k = 0;
        while (pick >= w[k])
            pick -= w[k++];
        int op = mp_w_op[k];
        int id = mp_new_node(g, op, owner);
        if (id < 0)
            break;
        mp_node *n = &p->nodes[id];
        mp_add_kid(p, owner, id);
        switch (op) {
        case OP_LAUNCH:
        case OP_ASYNC:
            p->ncoro++;
            n->lazy = mp_chance(r, cleanup ? 0 : 12);
            n->handler = mp_chance(r, 25);
            if (cleanup) {
                /* a child of the cleanup: finite waits only */
                mp_vis none = {0};
                mp_gen_body(g, id, depth + 1, &none, true);
            } else {
                mp_gen_body(g, id, depth + 1, &vis, false);
            }
            if (vis.n < 64)
                vis.ids[vis.n++] = (int16_t)id;
            break;
        case OP_SCOPE:
        case OP_SUPERVISOR:
        case OP_NONCANCEL:
            mp_gen_body(g, id, depth + 1, &vis, false);
            break;
        case OP_TIMEOUT:
        case OP_TIMEOUT_NULL:
            n->ticks = (int16_t)mp_pick_ticks_timeout(g);
            mp_gen_body(g, id, depth + 1, &vis, false);
            break;
        case OP_DELAY:
            n->ticks = (int16_t)(cleanup ? (g->timed && mp_chance(r, 60)
                                                ? 1 + (int)mp_rand(r, 4)
                                                : 0)
                                         : mp_pick_ticks_delay(g));
            break;
        case OP_AWAIT:
        case OP_JOIN:
        case OP_CANCEL:
        case OP_START:
            n->target = (int16_t)mp_pick_target(g, &vis, op);
            p->nodes[n->target].keep = 1;
            break;
        default:
            break;
        }
        if (op == OP_FAIL)
            break;
    }

    /* Every lazy child of this body gets started by it (unless something in
     * the body already waits for it or cancels it): a lazy child that nobody
     * starts would keep its parent from completing, as in Kotlin. */
    mp_node *o = &p->nodes[owner];
    bool ends_with_fail =
        o->nkids > 0 && p->nodes[o->kids[o->nkids - 1]].op == OP_FAIL;
    for (int i = 0; i < o->nkids; i++) {
        int c = o->kids[i];
        if (!p->nodes[c].lazy)
            continue;
        bool started = false;
        for (int k = i + 1; k < o->nkids; k++) {
            const mp_node *s = &p->nodes[o->kids[k]];
            if (s->target == c && s->op != OP_START)
                started = true;
        }
        if (started || o->nkids >= MP_MAX_STMTS)
            continue;
        int id = mp_new_node(g, OP_START, owner);
        if (id < 0)
            break;
        p->nodes[id].target = (int16_t)c;
        p->nodes[c].keep = 1;
        if (ends_with_fail) {
            o->kids[o->nkids] = o->kids[o->nkids - 1];
            o->kids[o->nkids - 1] = (int16_t)id;
            o->nkids++;
        } else {
            mp_add_kid(p, owner, id);
        }
    }

    unsigned pol = mp_rand(r, 100);
    o->policy = pol < 55 ? POL_PROPAGATE : pol < 72 ? POL_IGNORE : POL_CLEANUP;
    if (cleanup || o->op == OP_ROOT)
        o->policy = POL_PROPAGATE;
    if (o->policy == POL_CLEANUP) {
        int c = mp_gen_cleanup(g, owner, depth);
        if (c < 0)
            o->policy = POL_PROPAGATE;
        else
            o->cleanup = (int16_t)c;
    }
}

/* Builds a program from r. timed: may use finite non-zero ticks. */
MP_FN void mp_generate(mp_prog *p, mp_rng *r, bool timed) {
    memset(p, 0, offsetof(mp_prog, nodes));
    mp_gen g = {.p = p, .r = r, .timed = timed};
    unsigned size = mp_rand(r, 100);
    if (size < 25) {
        g.max_coro = 8;
        g.max_stmts = 4;
    } else if (size < 60) {
        g.max_coro = 20;
        g.max_stmts = 5;
    } else if (size < 90) {
        g.max_coro = 60;
        g.max_stmts = 6;
    } else {
        g.max_coro = MP_MAX_COROS;
        g.max_stmts = 8;
    }
    static const int fails[] = {0, 1, 1, 2, 4, 6};
    g.w_fail = fails[mp_rand(r, 6)];
    g.w_sup = 1 + (int)mp_rand(r, 6);
    g.w_cancel = (int)mp_rand(r, 4);
    p->timed = timed;
    int root = mp_new_node(&g, OP_ROOT, -1);
    p->ncoro = 1;
    mp_vis none = {0};
    mp_gen_body(&g, root, 1, &none, false);
}

/* ---- Printing ------------------------------------------------------------------- */

static const char *mp_policy_name(int pol) {
    return pol == POL_PROPAGATE ? "propagate"
           : pol == POL_IGNORE  ? "ignore"
                                : "cleanup";
}

static void mp_dump_node(FILE *f, const mp_prog *p, int id, int indent) {
    const mp_node *n = &p->nodes[id];
    fprintf(f, "%*s#%d %s", indent, "", id, mp_op_names[n->op]);
    if (n->op == OP_DELAY || mp_is_timeout(n->op)) {
        if (n->ticks == MP_INF)
            fprintf(f, "(forever)");
        else
            fprintf(f, "(%d ticks)", n->ticks);
    }
    if (n->target >= 0)
        fprintf(f, " -> #%d", n->target);
    if (n->op == OP_LAUNCH || n->op == OP_ASYNC) {
        if (n->lazy)
            fprintf(f, " LAZY");
        if (n->handler)
            fprintf(f, " +handler");
        if (n->keep)
            fprintf(f, " (handle kept)");
    }
    if (mp_owns_body(n->op)) {
        fprintf(f, " [on error: %s]", mp_policy_name(n->policy));
        fprintf(f, " {\n");
        for (int i = 0; i < n->nkids; i++)
            mp_dump_node(f, p, n->kids[i], indent + 2);
        if (n->cleanup >= 0) {
            fprintf(f, "%*s} on error run cleanup {\n", indent, "");
            const mp_node *c = &p->nodes[n->cleanup];
            fprintf(f, "%*s#%d non_cancellable (cleanup) {\n", indent + 2, "",
                    n->cleanup);
            for (int i = 0; i < c->nkids; i++)
                mp_dump_node(f, p, c->kids[i], indent + 4);
            fprintf(f, "%*s}\n", indent + 2, "");
        }
        fprintf(f, "%*s}\n", indent, "");
    } else {
        fprintf(f, "\n");
    }
}

MP_FN void mp_dump(FILE *f, const mp_prog *p) {
    fprintf(f, "program (seed %llu, %s, %d nodes, %d coroutines):\n",
            (unsigned long long)p->seed, p->timed ? "timed" : "untimed", p->n,
            p->ncoro);
    mp_dump_node(f, p, 0, 2);
}

#endif
