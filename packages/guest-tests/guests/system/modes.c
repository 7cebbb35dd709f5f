/* Long mode <-> compatibility mode <-> legacy protected mode round trip (modes-switch.S). */
#include "libc.h"
#include "x86/desc.h"

void mode_switch_probe(u32 *out);

static volatile ulong int_cs, int_rsp_aligned;

/* int $0x83 from compatibility mode: a 64-bit frame (CS 0x40), the handler sets EAX. */
static void compat_int(struct ex_regs *regs)
{
	int_cs = regs->cs;
	int_rsp_aligned = ((ulong)regs + sizeof(*regs)) % 16 == 0;
	regs->rax = 0xc0de;
}

int main(void)
{
	static u32 out[4];
	handle_exception(0x83, compat_int);
	report((rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "starts in long mode");
	irq_disable();
	mode_switch_probe(out);
	report(out[0] == 0x12345677, "compatibility mode decodes 0x48 as DEC EAX (eax=%x)", out[0]);
	report((out[1] & (EFER_LME | EFER_LMA)) == EFER_LME, "CR0.PG=0 left long mode: EFER=%x", out[1]);
	report((out[2] & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA), "CR0.PG=1 re-entered long mode: EFER=%x", out[2]);
	report(int_cs == KERNEL_CS32 && out[3] == 0xc0de, "int $0x83 in compatibility mode: 64-bit IDT, cs=%lx, IRETQ back (eax=%x)", int_cs, out[3]);
	report(int_rsp_aligned, "interrupt frame 16-byte aligned in long mode");
	report(read_cs() == KERNEL_CS, "back in 64-bit mode, CS=%x", read_cs());
	asm volatile(ASM_TRY("1f") "ud2\n\t1:");
	report(exception_vector() == UD_VECTOR, "64-bit IDT still works");
	return report_summary();
}
