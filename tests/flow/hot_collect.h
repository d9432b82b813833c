/* How the hot-flow tests collect: through the cold flow of
 * kin_state_flow_as_flow / kin_shared_flow_as_flow and kin_flow_collect,
 * as users do. */
#ifndef KIN_TEST_HOT_COLLECT_H
#define KIN_TEST_HOT_COLLECT_H

#include "check.h"
#include "flow/hot.h"

static inline int collect_state(kin_state_flow s, kin_flow_value_fn fn,
                                void *arg) {
    return kin__state_flow_collect(s, fn, arg, "collect_state");
}

static inline int collect_shared(kin_shared_flow s, kin_flow_value_fn fn,
                                 void *arg) {
    return kin__shared_flow_collect(s, fn, arg, "collect_shared");
}

#endif
