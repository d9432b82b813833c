/*
 * compare.h — compares kin's run of a program (interp.h) with the model's
 * prediction (model.h), and prints both in a readable form.
 */
#ifndef KIN_MODEL_COMPARE_H
#define KIN_MODEL_COMPARE_H

#include "interp.h"
#include "model.h"
#include "prog.h"

static const char *mc_state_name(int s) {
    switch (s) {
    case KIN_STATE_NEW:
        return "NEW";
    case KIN_STATE_ACTIVE:
        return "ACTIVE";
    case KIN_STATE_COMPLETING:
        return "COMPLETING";
    case KIN_STATE_CANCELLING:
        return "CANCELLING";
    case KIN_STATE_CANCELLED:
        return "CANCELLED";
    case KIN_STATE_COMPLETED:
        return "COMPLETED";
    default:
        return "?";
    }
}

static const char *mc_rc_name(int rc) {
    static char buf[32];
    switch (rc) {
    case 0:
        return "0";
    case KIN_NULL:
        return "KIN_NULL";
    case KIN_ECANCELED:
        return "ECANCELED";
    case KIN_ETIMEDOUT:
        return "ETIMEDOUT";
    case KIN_EFAILED:
        return "EFAILED";
    case KIN_EALREADY:
        return "EALREADY";
    default:
        snprintf(buf, sizeof buf, "%d", rc);
        return buf;
    }
}

/* One event as a line: "start #5", "#7 delay in #5 -> ECANCELED (...)". */
static void mc_event_str(const mp_prog *p, int kind, int node, int rc, int val,
                         const char *desc, char *buf, size_t len) {
    const mp_node *n = &p->nodes[node];
    switch (kind) {
    case EV_START:
        snprintf(buf, len, "start #%d (%s)", node, mp_op_names[n->op]);
        break;
    case EV_END:
        snprintf(buf, len, "body of #%d (%s) returns %s %s", node,
                 mp_op_names[n->op], mc_rc_name(rc), rc < 0 ? desc : "");
        break;
    case EV_CB:
        snprintf(buf, len, "on-cancel callback of #%d (suspend in #%d)", node,
                 n->parent);
        break;
    case EV_DROP:
        snprintf(buf, len, "on_drop of the value of #%d (%s in #%d)", node,
                 mp_op_names[n->op], n->parent);
        break;
    case EV_UNDEL:
        snprintf(buf, len, "undelivered element of #%d (%s in #%d)", node,
                 mp_op_names[n->op], n->parent);
        break;
    default: {
        char v[32] = "", what[48] = "";
        if (n->op == OP_SELECT && (n->hflags & SF_JOB))
            snprintf(what, sizeof what, "(ch%d, ch%d, #%d)", n->ch, n->ch2,
                     n->target);
        else if (n->op == OP_SELECT)
            snprintf(what, sizeof what, "(ch%d, ch%d)", n->ch, n->ch2);
        else if (n->op >= OP_SEND && n->op <= OP_SELECT)
            snprintf(what, sizeof what, "(ch%d)", n->ch);
        if (n->op >= OP_FD_READ && n->op <= OP_FD_CLOSE)
            snprintf(what, sizeof what, "(pipe%d%s)", n->ch,
                     n->op == OP_FD_CLOSE
                         ? (n->hflags & FF_WREND ? " write end" : " read end")
                         : "");
        if (n->op == OP_FD_READ && rc == 2)
            snprintf(v, sizeof v, " (message of #%d)", val);
        else if ((n->op == OP_AWAIT || n->op == OP_SUSPEND ||
             n->op == OP_RECEIVE || n->op == OP_TRY_RECEIVE) &&
            rc == 0)
            snprintf(v, sizeof v, " (value of #%d)", val);
        else if (n->op == OP_SELECT && rc >= 0 && val >= 0)
            snprintf(v, sizeof v, " (value of #%d)", val);
        else if (n->op == OP_SELECT && rc >= 0 && val <= mp_closed_val(8))
            snprintf(v, sizeof v, " (closed: %s)",
                     mc_rc_name(val - mp_closed_val(0)));
        else if (n->op == OP_SELECT && rc >= 0 && val == -2)
            snprintf(v, sizeof v, " (value NULL)");
        if (n->op == OP_RESUME && val == 1)
            snprintf(v, sizeof v, " (was active)");
        if (what[0]) {
            /* a channel operation: its channel(s) */
        } else if (n->target >= 0)
            snprintf(what, sizeof what, "(#%d)", n->target);
        else if ((n->op == OP_DELAY || mp_is_timeout(n->op)) &&
                 n->ticks == MP_INF)
            snprintf(what, sizeof what, "(forever)");
        else if (n->op == OP_DELAY || mp_is_timeout(n->op))
            snprintf(what, sizeof what, "(%d)", n->ticks);
        snprintf(buf, len, "#%d %s%s in #%d -> %s %s%s", node,
                 mp_op_names[n->op], what, n->parent,
                 n->op == OP_COMPLETE || n->op == OP_COMPLETE_EXC ||
                         n->op == OP_SELECT || n->op == OP_CLOSE ||
                         n->op == OP_MX_HOLDS
                     ? (rc == 1 ? "1" : mc_rc_name(rc))
                     : mc_rc_name(rc),
                 rc < 0 ? desc : "", v);
        break;
    }
    }
}

static void mc_model_event(const m_model *m, int i, char *buf, size_t len) {
    const m_ev *e = &m->evs[i];
    char d[2048];
    m_desc(m, e->err, d, sizeof d);
    mc_event_str(m->p, e->kind, e->node, e->rc, e->val, d, buf, len);
}

static void mc_kin_event(const k_run *k, int i, char *buf, size_t len) {
    const k_ev *e = &k->evs[i];
    char d[2048];
    ki_desc(e->err, d, sizeof d);
    mc_event_str(k->p, e->kind, e->node, e->rc, e->val, d, buf, len);
}

/* Compares; prints the differences (all of them if verbose, else the
 * first few). Returns the number of differences. */
MP_FN int mc_compare(const m_model *m, const k_run *k, FILE *out,
                     bool verbose) {
    int diffs = 0;
    const mp_prog *p = m->p;
    int limit = verbose ? 1000000 : 6;
    char a[4096], b[4096];

    /* the trace, event by event */
    int n = m->nev > k->nev ? m->nev : k->nev;
    for (int i = 0; i < n; i++) {
        a[0] = b[0] = 0;
        if (i < m->nev)
            mc_model_event(m, i, a, sizeof a);
        else
            snprintf(a, sizeof a, "(nothing)");
        if (i < k->nev)
            mc_kin_event(k, i, b, sizeof b);
        else
            snprintf(b, sizeof b, "(nothing)");
        if (strcmp(a, b) != 0) {
            if (diffs++ < limit)
                fprintf(out, "  event %d: expected %s\n  %*s   kin did %s\n",
                        i, a, (int)(i >= 10) + (int)(i >= 100) + 1, "", b);
            if (!verbose)
                break; /* the rest of the trace follows from the first */
        }
    }

    /* jobs: created, final state and cause; handler calls */
    for (int s = 0; s < p->n; s++) {
        if (!mp_is_job(p->nodes[s].op))
            continue;
        const m_job *mj = &m->jobs[s];
        bool mcreated = mj->exists;
        if (mcreated != k->created[s]) {
            if (diffs++ < limit)
                fprintf(out, "  job #%d: expected %s, kin %s\n", s,
                        mcreated ? "created" : "not created",
                        k->created[s] ? "created" : "not created");
            continue;
        }
        if (!mcreated)
            continue;
        m_desc(m, mj->final_cause, a, sizeof a);
        ki_desc(k->final_cause[s], b, sizeof b);
        if (mj->state != k->final_state[s] || strcmp(a, b) != 0) {
            if (diffs++ < limit)
                fprintf(out,
                        "  job #%d (%s): expected %s %s, kin %s %s\n", s,
                        mp_op_names[p->nodes[s].op], mc_state_name(mj->state),
                        a, mc_state_name(k->final_state[s]), b);
        }
        int mh = mj->handled_by, kh = k->nhandled[s] ? k->handled_by[s] : -2;
        m_desc(m, mj->handled_err, a, sizeof a);
        ki_desc(k->handled_err[s], b, sizeof b);
        if (mh != kh || k->nhandled[s] > 1 ||
            (mh != -2 && strcmp(a, b) != 0)) {
            if (diffs++ < limit)
                fprintf(out,
                        "  handler for #%d: expected %s%d %s, kin %s%d %s "
                        "(%d calls)\n",
                        s, mh == -2 ? "none " : "by #", mh, a,
                        kh == -2 ? "none " : "by #", kh, b, k->nhandled[s]);
        }
    }

    /* kin_run_blocking's result */
    m_desc(m, m->rb_err, a, sizeof a);
    ki_desc(k->rb_err, b, sizeof b);
    if (m->rb_rc != k->rb_rc || strcmp(a, b) != 0) {
        if (diffs++ < limit)
            fprintf(out, "  run_blocking: expected %s %s, kin %s %s\n",
                    mc_rc_name(m->rb_rc), a, mc_rc_name(k->rb_rc), b);
    }
    return diffs;
}

/* Both traces side by side (the model's, then kin's where they differ). */
MP_FN void mc_dump_traces(const m_model *m, const k_run *k, FILE *out) {
    char a[4096], b[4096];
    int n = m->nev > k->nev ? m->nev : k->nev;
    fprintf(out, "trace (expected | kin, '=' where kin did the same):\n");
    for (int i = 0; i < n; i++) {
        a[0] = b[0] = 0;
        if (i < m->nev)
            mc_model_event(m, i, a, sizeof a);
        if (i < k->nev)
            mc_kin_event(k, i, b, sizeof b);
        if (strcmp(a, b) == 0)
            fprintf(out, "  %4d = %s\n", i, a);
        else
            fprintf(out, "  %4d   expected: %s\n         kin:      %s\n", i,
                    i < m->nev ? a : "(nothing)", i < k->nev ? b : "(nothing)");
    }
    fprintf(out, "jobs (expected final state):\n");
    for (int s = 0; s < m->p->n; s++) {
        const m_job *j = &m->jobs[s];
        if (!mp_is_job(m->p->nodes[s].op) || !j->exists)
            continue;
        m_desc(m, j->final_cause, a, sizeof a);
        fprintf(out, "  #%d %s: %s %s", s, mp_op_names[m->p->nodes[s].op],
                mc_state_name(j->state), a);
        if (j->handled_by != -2) {
            m_desc(m, j->handled_err, b, sizeof b);
            fprintf(out, ", handler %s%d got %s",
                    j->handled_by < 0 ? "default" : "of #",
                    j->handled_by < 0 ? 0 : j->handled_by, b);
        }
        fprintf(out, "\n");
    }
}

/* True if msg contains one of the '|'-separated texts of KIN_MODEL_IGNORE. */
static bool mc_ignored(const char *msg) {
    const char *ignore = getenv("KIN_MODEL_IGNORE");
    while (ignore && *ignore) {
        const char *bar = strchr(ignore, '|');
        size_t n = bar ? (size_t)(bar - ignore) : strlen(ignore);
        for (const char *p = msg; n && *p; p++)
            if (strncmp(p, ignore, n) == 0)
                return true;
        ignore = bar ? bar + 1 : NULL;
    }
    return false;
}

/* Prints the invariant violations kin's run showed (interp.h) and returns
 * how many count: all, except those whose message contains one of the
 * '|'-separated texts in KIN_MODEL_IGNORE (for known open bugs). */
MP_FN int mc_violations(const k_run *k, FILE *out) {
    int counted = k->nviol > 8 ? k->nviol - 8 : 0;
    for (int i = 0; i < k->nviol && i < 8; i++) {
        bool ignored = mc_ignored(k->viol[i]);
        fprintf(out, "  invariant: %s%s\n", k->viol[i],
                ignored ? " (ignored: KIN_MODEL_IGNORE)" : "");
        counted += !ignored;
    }
    if (k->nviol > 8)
        fprintf(out, "  ... and %d more\n", k->nviol - 8);
    return counted;
}

#endif
