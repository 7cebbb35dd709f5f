/* Long mode <-> compatibility mode <-> legacy protected mode round trip (modes-switch.S). */
#include "libc.h"
#include "x86/desc.h"

void mode_switch_probe(u32 *out);

int main(void)
{
	static u32 out[3];
	report((rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "starts in long mode");
	irq_disable();
	mode_switch_probe(out);
	report(out[0] == 0x12345677, "compatibility mode decodes 0x48 as DEC EAX (eax=%x)", out[0]);
	report((out[1] & (EFER_LME | EFER_LMA)) == EFER_LME, "CR0.PG=0 left long mode: EFER=%x", out[1]);
	report((out[2] & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "CR0.PG=1 re-entered long mode: EFER=%x", out[2]);
	report(read_cs() == KERNEL_CS, "back in 64-bit mode, CS=%x", read_cs());
	asm volatile(ASM_TRY("1f") "ud2\n\t1:");
	report(exception_vector() == UD_VECTOR, "64-bit IDT still works");
	return report_summary();
}
