/*
 * Timer interrupt counts and clock readings a guest can observe: PIT IRQ0 ticks and LAPIC
 * timer interrupts that arrive during a fixed amount of work, and the TSC. Under the
 * deterministic virtual clock (-icount) two runs of this guest print the same bytes
 * (tests/determinism.test.ts compares them); on host time the numbers vary.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"

#define PIT_VECTOR 0x20
#define LAPIC_VECTOR 0x40

static volatile u32 pit_ticks, lapic_ticks;
static volatile u32 pit_at[8];

static void pit_isr(struct ex_regs *regs)
{
	(void)regs;
	if (pit_ticks < 8)
		pit_at[pit_ticks] = lapic_ticks;
	pit_ticks++;
	pic_eoi(0);
}

static void lapic_isr(struct ex_regs *regs)
{
	(void)regs;
	lapic_ticks++;
	apic_eoi();
}

static u32 work(u32 rounds)
{
	u32 h = 2166136261u;
	for (u32 i = 0; i < rounds; i++)
		h = (h ^ i) * 16777619u;
	return h;
}

int main(void)
{
	handle_exception(PIT_VECTOR, pit_isr);
	handle_exception(LAPIC_VECTOR, lapic_isr);
	pic_init(PIT_VECTOR, 1u << 0);
	apic_enable();
	apic_write(APIC_TDCR, 0x3);			/* divide by 16 */
	apic_write(APIC_LVTT, APIC_LVT_TIMER_PERIODIC | LAPIC_VECTOR);
	apic_write(APIC_TMICT, 20000);
	pit_set_periodic(1193); /* ~1 kHz */
	u64 t0 = rdtsc();
	irq_enable();
	u32 h = work(3000000);
	irq_disable();
	u64 t1 = rdtsc();
	apic_write(APIC_TMICT, 0);
	u32 p = pit_ticks, l = lapic_ticks;
	printf("work hash %08x\n", h);
	printf("PIT ticks %u, LAPIC timer ticks %u, TSC delta %llu\n", p, l, (unsigned long long)(t1 - t0));
	printf("LAPIC ticks at the first PIT ticks:");
	for (int i = 0; i < 8 && i < (int)p; i++)
		printf(" %u", pit_at[i]);
	printf("\n");
	/* Then halt until 5 more PIT ticks: idle time. */
	u32 target = pit_ticks + 5;
	while (pit_ticks < target) {
		safe_halt();
		irq_disable();
	}
	u64 t2 = rdtsc();
	printf("5 idle PIT ticks took %llu TSC cycles\n", (unsigned long long)(t2 - t1));
	report(p > 0 && l > 0, "both timers ticked during the work");
	report(t2 > t1 && t1 > t0, "the TSC advanced");
	return report_summary();
}
