/*
 * SMP bring-up: the BSP counts the CPUs in the ACPI MADT, starts the APs with
 * INIT-SIPI-SIPI; each AP runs the real-mode trampoline, enters the guest's mode
 * (long mode for the 64-bit build), and reports in with its APIC ID and mode.
 */
#include "libc.h"
#include "x86/acpi.h"
#include "x86/apic.h"
#include "x86/desc.h"
#include "x86/smp.h"

static volatile u32 reported_mask;

static void ap_main(int apic_id)
{
	bool long_mode = (rdmsr(MSR_EFER) & EFER_LMA) != 0;
	printf("AP %d online: %s mode, cr0=%lx\n", apic_id, long_mode ? "long" : "protected", read_cr0());
	__atomic_or_fetch(&reported_mask, 1u << apic_id, __ATOMIC_SEQ_CST);
}

int main(void)
{
	int cpus = acpi_count_cpus();
	printf("BSP apic id %u, MADT cpus %d\n", apic_id(), cpus);
	report(cpus == 4, "MADT lists 4 CPUs");
	int up = smp_init(ap_main, cpus - 1);
	while (__builtin_popcount(reported_mask) < up)
		cpu_relax();
	report(up == 3, "3 APs came up (%d)", up);
	report(reported_mask == 0xe, "APs 1, 2, 3 reported in (mask %x)", reported_mask);
	return report_summary();
}
