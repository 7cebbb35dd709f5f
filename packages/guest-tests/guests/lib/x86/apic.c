#include "apic.h"

void apic_enable(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | (1u << 11));
	apic_write(APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	apic_write(APIC_TASKPRI, 0);
}

void apic_icr_write(u32 low, u32 dest)
{
	apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, low);
	while (apic_read(APIC_ICR) & APIC_ICR_BUSY)
		cpu_relax();
}

/* xAPIC has no SELF_IPI register: the ICR with the "self" shorthand. */
void apic_self_ipi(u8 vector)
{
	apic_icr_write(APIC_DEST_SELF | APIC_DM_FIXED | APIC_INT_ASSERT | vector, 0);
}

u32 ioapic_read(u32 reg)
{
	*(volatile u32 *)IOAPIC_BASE = reg;
	return *(volatile u32 *)(IOAPIC_BASE + 0x10);
}

void ioapic_write(u32 reg, u32 v)
{
	*(volatile u32 *)IOAPIC_BASE = reg;
	*(volatile u32 *)(IOAPIC_BASE + 0x10) = v;
}

void ioapic_route(int pin, u8 vector, u8 dest_id, bool level, bool masked)
{
	u32 lo = vector | (level ? 1u << 15 : 0) | (masked ? 1u << 16 : 0);
	ioapic_write(0x11 + pin * 2, (u32)dest_id << 24);
	ioapic_write(0x10 + pin * 2, lo);
}

/* Port 0x80 writes: about 1 us each on real hardware; a delay that needs no timer. */
void io_delay(unsigned n)
{
	while (n--)
		outb(0x80, 0);
}

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_init(u8 base, u16 unmask)
{
	outb(PIC1_CMD, 0x11);	/* ICW1: edge, cascade, ICW4 needed */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, base);	/* ICW2: vector base */
	outb(PIC2_DATA, base + 8);
	outb(PIC1_DATA, 0x04);	/* ICW3: slave on IR2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);	/* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	u16 mask = (u16)~unmask;
	if (unmask & 0xff00)
		mask &= (u16)~(1u << 2);
	outb(PIC1_DATA, (u8)mask);
	outb(PIC2_DATA, (u8)(mask >> 8));
}

void pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
}

#define PIT_CH0 0x40
#define PIT_MODE 0x43

void pit_set_periodic(u16 divisor)
{
	outb(PIT_MODE, 0x34);	/* channel 0, lobyte/hibyte, mode 2 */
	outb(PIT_CH0, (u8)divisor);
	outb(PIT_CH0, (u8)(divisor >> 8));
}

void pit_set_oneshot(u16 count)
{
	outb(PIT_MODE, 0x30);	/* channel 0, lobyte/hibyte, mode 0 */
	outb(PIT_CH0, (u8)count);
	outb(PIT_CH0, (u8)(count >> 8));
}
