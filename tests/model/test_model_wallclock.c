/* test_model on the wall clock: the programs of test_model run with
 * kin_run_blocking and real timers (coarse ticks, no two live timers due at
 * the same instant), fewer of them. See test_model.c. */
#include "model/interp.h"
#define MODEL_MODE KI_WALLCLOCK
#include "test_model.c"
