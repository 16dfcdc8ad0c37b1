/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's kselftest_harness.h with its per-test timeouts multiplied by
 * GMG_TIME_SCALE (gmg_time_scale(), gmg_util.h).  Every test includes this
 * instead of the harness itself.
 */
#ifndef GMG_HARNESS_H
#define GMG_HARNESS_H

/*
 * Before the macro below: unistd.h declares alarm(), which a function-like
 * macro of that name would mangle; its include guard keeps the harness's
 * own #include of it from declaring it again.
 */
#include <unistd.h>

#include "gmg_util.h"

/*
 * The harness (6.12's, build/ksrc) arms alarm(t->timeout) while it waits
 * for each test -- TEST_TIMEOUT_DEFAULT, 30 s, or TEST_F_TIMEOUT's value --
 * and kills the test when it rings; its only other call is alarm(0), which
 * stays 0.  Scaling alarm() here scales every test's timeout without a copy
 * of the harness.  A test's own alarm() would be scaled as well: in a test,
 * an alarm is a timeout too.
 */
#define alarm(s) alarm((s) * gmg_time_scale())

#include "kselftest_harness.h"

#endif /* GMG_HARNESS_H */
