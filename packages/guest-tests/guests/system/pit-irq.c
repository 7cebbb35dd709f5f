/*
 * The 8254 PIT's IRQ0, twice: through the 8259 PIC (remapped to vector 0x20), and through
 * the IOAPIC (the legacy PIC masked; ISA IRQ0 arrives on IOAPIC pin 2 on the pc machine,
 * per the MADT interrupt source override).
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"

#define PIC_VECTOR 0x20
#define IOAPIC_VECTOR 0x50

static volatile int pic_ticks, ioapic_ticks;

static void pic_isr(struct ex_regs *regs)
{
	(void)regs;
	pic_ticks++;
	pic_eoi(0);
}

static void ioapic_isr(struct ex_regs *regs)
{
	(void)regs;
	ioapic_ticks++;
	apic_eoi();
}

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
	handle_exception(PIC_VECTOR, pic_isr);
	handle_exception(IOAPIC_VECTOR, ioapic_isr);

	/* PIC: only IRQ0 unmasked; PIT at ~1 kHz. */
	pic_init(PIC_VECTOR, 1u << 0);
	pit_set_periodic(1193);
	report(wait_for(&pic_ticks, 10), "PIT IRQ0 through the 8259 PIC: 10 ticks");

	/* IOAPIC: mask every PIC line, route pin 2 to IOAPIC_VECTOR on this APIC. */
	pic_init(PIC_VECTOR, 0);
	apic_enable();
	u32 ver = ioapic_read(1);
	report(((ver >> 16) & 0xff) >= 15, "IOAPIC has %u redirection entries", ((ver >> 16) & 0xff) + 1);
	int before = pic_ticks;
	ioapic_route(2, IOAPIC_VECTOR, (u8)apic_id(), false, false);
	report(wait_for(&ioapic_ticks, 10), "PIT IRQ0 through IOAPIC pin 2: 10 ticks");
	ioapic_route(2, IOAPIC_VECTOR, (u8)apic_id(), false, true);
	report(pic_ticks == before, "no PIC interrupts while the PIC is masked");
	return report_summary();
}
