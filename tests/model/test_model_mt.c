/* test_model on the Default pool: the programs of test_model run on several
 * threads; the order of events is the threads', so kin's runs are checked
 * against the invariants only (model/interp.h), not the model. See
 * test_model.c. */
#include "model/interp.h"
#define MODEL_MODE KI_DEFAULT_POOL
#include "test_model.c"
