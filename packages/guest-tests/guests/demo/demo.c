/*
 * The demo guest: it reports the CPU vendor and the mode it starts in (early32.S),
 * switches to long mode (boot64.S), takes LAPIC timer interrupts, brings up the other
 * vCPUs with INIT-SIPI-SIPI, prints a summary and powers the machine off through ACPI S5
 * (FADT PM1a_CNT, SLP_TYPa from the DSDT's \_S5). Without ACPI tables it falls back to
 * isa-debug-exit.
 */
#include "libc.h"
#include "x86/acpi.h"
#include "x86/apic.h"
#include "x86/desc.h"
#include "x86/setup.h"
#include "x86/smp.h"

#define TIMER_VECTOR 0x40
#define TICKS 10

extern char vendor32[];
static volatile int ticks;
static volatile u32 ap_mask;

static void timer_isr(struct ex_regs *regs)
{
	(void)regs;
	/* Mask the timer from the handler itself, so a tick already pending when the main
	 * loop sees TICKS cannot make it TICKS + 1. */
	if (++ticks >= TICKS)
		apic_write(APIC_LVTT, APIC_LVT_MASKED | TIMER_VECTOR);
	apic_eoi();
}

static void ap_main(int id)
{
	printf("kvmts demo: vCPU %d online in %s mode\n", id, (rdmsr(MSR_EFER) & EFER_LMA) ? "long" : "legacy");
	__atomic_or_fetch(&ap_mask, 1u << id, __ATOMIC_SEQ_CST);
}

int main(void)
{
	u64 efer = rdmsr(MSR_EFER);
	printf("kvmts demo: now in 64-bit long mode (EFER.LMA=%d, CR0=%lx, CR4=%lx)\n",
	       (int)((efer & EFER_LMA) != 0), read_cr0(), read_cr4());
	u32 mem_kb = (multiboot_info && (multiboot_info->flags & 1)) ? multiboot_info->mem_upper + 1024 : 0;
	printf("kvmts demo: memory %u MiB (multiboot)\n", mem_kb / 1024);

	/* The LAPIC timer, periodic. */
	handle_exception(TIMER_VECTOR, timer_isr);
	apic_enable();
	apic_write(APIC_TDCR, 0xb);
	apic_write(APIC_LVTT, APIC_LVT_TIMER_PERIODIC | TIMER_VECTOR);
	apic_write(APIC_TMICT, 1000000);
	u64 t0 = rdtsc();
	while (ticks < TICKS)
		safe_halt();
	irq_disable();
	apic_write(APIC_LVTT, APIC_LVT_MASKED | TIMER_VECTOR);
	printf("kvmts demo: %d LAPIC timer interrupts taken (%llu TSC cycles)\n", ticks,
	       (unsigned long long)(rdtsc() - t0));

	/* The other vCPUs. */
	int cpus = acpi_count_cpus();
	int aps = 0;
	if (cpus > 1) {
		aps = smp_init(ap_main, cpus - 1);
		while (__builtin_popcount(ap_mask) < aps)
			cpu_relax();
	}
	printf("kvmts demo: summary: vendor %s, %d vCPU(s) online (MADT lists %d), %d timer ticks, long mode\n",
	       vendor32, aps + 1, cpus, ticks);

	printf("kvmts demo: powering off (ACPI S5)\n");
	acpi_poweroff();
	printf("kvmts demo: no ACPI power-off; exiting through isa-debug-exit\n");
	return 0;
}
