/* How the hot-flow tests collect: through the cold flow of
 * kin_state_flow_as_flow / kin_shared_flow_as_flow and kin_flow_collect,
 * as users do. */
#ifndef KIN_TEST_HOT_COLLECT_H
#define KIN_TEST_HOT_COLLECT_H

#include "check.h"

static inline int collect_state(kin_state_flow s, kin_flow_value_fn fn,
                                void *arg) {
    kin_flow f;
    int rc = kin_state_flow_as_flow(s, &f);
    if (rc)
        return rc;
    rc = kin_flow_collect(f, fn, arg);
    CHECK_EQ(kin_flow_release(f), 0);
    return rc;
}

static inline int collect_shared(kin_shared_flow s, kin_flow_value_fn fn,
                                 void *arg) {
    kin_flow f;
    int rc = kin_shared_flow_as_flow(s, &f);
    if (rc)
        return rc;
    rc = kin_flow_collect(f, fn, arg);
    CHECK_EQ(kin_flow_release(f), 0);
    return rc;
}

#endif
