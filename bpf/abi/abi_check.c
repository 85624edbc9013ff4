// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Compiles the event ABI headers for the host, so their _Static_asserts hold
 * on the user-space side of the line too (the BPF build checks the other side).
 */
#include "tracer/exec_event.h"
#include "tracer/net_event.h"
#include "tracer/top_counts.h"
