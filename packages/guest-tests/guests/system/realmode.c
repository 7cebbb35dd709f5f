/*
 * Real mode: the guest drops from 32-bit protected mode to real mode, takes PIT IRQ0
 * through the 8259 PIC and the real-mode IVT there, and comes back (realmode-switch.S).
 * The manifest runs it with -icount: on host time, ticks that expire while the VMM is not
 * running the guest are reinjected back to back by KVM's PIT (its lost-tick policy), and
 * a burst after the 20th tick would be counted too.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"

#define RM_BASE 0x7000
extern char rm_start[], rm_end[];
u16 real_mode_ticks(u16 n);

int main(void)
{
	memcpy((void *)RM_BASE, rm_start, (size_t)(rm_end - rm_start));
	pic_init(0x08, 1u << 0); /* the BIOS mapping: IRQ0 -> INT 8 */
	pit_set_periodic(1193);	 /* ~1 kHz */
	u16 ticks = real_mode_ticks(20);
	pic_init(0x20, 0);
	report(ticks == 20, "20 PIT ticks through the PIC in real mode (%u)", ticks);
	report((read_cr0() & X86_CR0_PE) && read_cs() == KERNEL_CS, "back in protected mode, CS=%x", read_cs());
	/* The protected-mode IDT works again. */
	asm volatile(ASM_TRY("1f") "ud2\n\t1:");
	report(exception_vector() == UD_VECTOR, "protected-mode IDT restored");
	return report_summary();
}
