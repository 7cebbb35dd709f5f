#ifndef KVMTS_X86_SMP_H
#define KVMTS_X86_SMP_H
#include "../libc.h"

#define MAX_CPUS 16
#define AP_STACK_SIZE (1u << 14) /* AP_STACK_SHIFT in boot-common.h */

typedef void (*ap_fn)(int apic_id);

/*
 * Start every AP with INIT-SIPI-SIPI (broadcast, all excluding self) through the
 * real-mode trampoline; each AP enters the guest's mode, loads the IDT and calls fn with
 * its APIC ID. Waits until expected APs are online (or a bounded time) and returns how
 * many came up.
 */
int smp_init(ap_fn fn, int expected);
extern volatile int cpus_online;
#endif
