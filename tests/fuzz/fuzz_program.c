/*
 * fuzz_program — a libFuzzer target: the input bytes choose one structured
 * program (tests/model/prog.h reads them where the model test reads its
 * PRNG), which runs on kin with virtual time (kin_run_test) and is compared
 * with the independent model (tests/model/model.h) and the invariants
 * (tests/model/interp.h). A difference aborts, after printing the program
 * and both traces.
 *
 * Input: byte 0 chooses the variant (bit 0: timed program; bit 1: the
 * extended operations, hand-made jobs, deferreds, explicit parents; bit 2:
 * suspending by hand, kin_suspend / kin_resume; bit 3: channels and the
 * mutex; bit 4, with bit 3: the semaphore, select's SEND and TIMEOUT
 * clauses, select_unbiased, the drop policies; bit 5, with bit 3:
 * BUFFERED and UNLIMITED channels, select's RECEIVE_CATCHING, AWAIT and
 * JOIN clauses; see prog.h); the rest
 * drives the generator. Inputs whose program the model cannot finish (a wait
 * nothing ends) are skipped.
 *
 * Build and run: tests/fuzz/run.sh BUILD_DIR SECONDS.
 * Environment: KIN_MODEL_IGNORE=TEXT|TEXT... (do not abort on invariant
 * violations whose message contains one of the texts, for known open bugs;
 * see tests/model/test_model.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/compare.h"
#include "../model/interp.h"
#include "../model/model.h"
#include "../model/prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mp_prog g_prog;
static m_model g_model;
static k_run g_run;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    bool timed = data[0] & 1;

    mp_rng r;
    mp_rng_bytes(&r, data + 1, size - 1);
    r.ext_ok = data[0] & 2;
    r.hand_ok = data[0] & 4;
    r.chan_ok = data[0] & 8;
    r.more_ok = data[0] & 16;
    r.chx_ok = data[0] & 32;
    mp_generate(&g_prog, &r, timed);
    int st = m_run(&g_model, &g_prog, true, INT64_MAX / 4);
    for (int fix = 0; st == M_STUCK && fix < 16; fix++) {
        if (!m_repair(&g_model, &g_prog, (unsigned)fix))
            break;
        st = m_run(&g_model, &g_prog, true, INT64_MAX / 4);
    }
    if (st != M_OK)
        return 0;

    ki_run(&g_run, &g_prog, KI_VIRTUAL, 10, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        abort();
    int bad = mc_compare(&g_model, &g_run, mem, true);
    bad += mc_violations(&g_run, mem);
    fclose(mem);
    if (bad) {
        fprintf(stderr, "fuzz_program: kin differs from the model\n%s", text);
        mp_dump(stderr, &g_prog);
        mc_dump_traces(&g_model, &g_run, stderr);
        fflush(stderr);
        abort();
    }
    free(text);
    ki_free(&g_run);
    return 0;
}
