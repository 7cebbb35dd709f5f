/*
 * The local APIC timer in its three modes: one-shot, periodic and TSC-deadline (when
 * CPUID.1:ECX.TSC_DEADLINE is set), plus a self-IPI through the ICR. Interrupts are
 * counted by handlers that EOI the APIC.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"

#define TIMER_VECTOR 0x40
#define IPI_VECTOR 0x41

static volatile int timer_ticks, ipi_count, nmi_count;

static void nmi_isr(struct ex_regs *regs)
{
	(void)regs;
	nmi_count++;
}

static void timer_isr(struct ex_regs *regs)
{
	(void)regs;
	timer_ticks++;
	apic_eoi();
}

static void ipi_isr(struct ex_regs *regs)
{
	(void)regs;
	ipi_count++;
	apic_eoi();
}

/* Wait with interrupts enabled until *counter reaches n (bounded by a TSC budget). */
static bool wait_for(volatile int *counter, int n)
{
	u64 start = rdtsc();
	while (*counter < n) {
		safe_halt();
		irq_disable();
		if (rdtsc() - start > 20000000000ull)
			return false;
	}
	return true;
}

int main(void)
{
	handle_exception(TIMER_VECTOR, timer_isr);
	handle_exception(IPI_VECTOR, ipi_isr);
	apic_enable();
	report((apic_read(APIC_SPIV) & APIC_SPIV_APIC_ENABLED) != 0, "APIC software-enabled");
	report((apic_read(APIC_LVR) & 0xff) >= 0x10, "integrated APIC version %x", apic_read(APIC_LVR) & 0xff);

	/* One-shot: one interrupt, then the current count stays 0. */
	apic_write(APIC_TDCR, 0xb); /* divide by 1 */
	apic_write(APIC_LVTT, APIC_LVT_TIMER_ONESHOT | TIMER_VECTOR);
	apic_write(APIC_TMICT, 100000);
	bool fired = wait_for(&timer_ticks, 1);
	report(fired && timer_ticks == 1, "one-shot timer fired once");
	report(apic_read(APIC_TMCCT) == 0, "one-shot current count is 0 after expiry");

	/* Periodic: several interrupts, then masked. */
	timer_ticks = 0;
	apic_write(APIC_LVTT, APIC_LVT_TIMER_PERIODIC | TIMER_VECTOR);
	apic_write(APIC_TMICT, 200000);
	fired = wait_for(&timer_ticks, 5);
	apic_write(APIC_LVTT, APIC_LVT_MASKED | TIMER_VECTOR);
	apic_write(APIC_TMICT, 0);
	report(fired, "periodic timer fired 5 times");

	/* TSC-deadline. */
	if (cpuid(1).c & (1u << 24)) {
		timer_ticks = 0;
		apic_write(APIC_LVTT, APIC_LVT_TIMER_TSCDEADLINE | TIMER_VECTOR);
		wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 1000000);
		fired = wait_for(&timer_ticks, 1);
		report(fired, "TSC-deadline timer fired");
		report(rdmsr(MSR_IA32_TSC_DEADLINE) == 0, "TSC-deadline MSR reads 0 after expiry");
		apic_write(APIC_LVTT, APIC_LVT_MASKED | TIMER_VECTOR);
	} else {
		printf("TSC-deadline: not in CPUID, skipped\n");
	}

	/* Self-IPI: delivered as soon as interrupts are enabled. */
	apic_self_ipi(IPI_VECTOR);
	fired = wait_for(&ipi_count, 1);
	report(fired && ipi_count == 1, "self-IPI delivered");
	/* NMI to our own APIC ID through the ICR: delivered even with interrupts disabled. */
	handle_exception(NMI_VECTOR, nmi_isr);
	irq_disable();
	apic_icr_write(APIC_DM_NMI | APIC_INT_ASSERT, apic_id());
	for (int i = 0; i < 100000 && !nmi_count; i++)
		cpu_relax();
	report(nmi_count == 1, "NMI IPI to self delivered with IF=0");
	return report_summary();
}
