#include "desc.h"

extern char isr_stubs[];

#ifdef __x86_64__
struct idt_entry {
	u16 offset0, selector;
	u8 ist, type_attr;
	u16 offset1;
	u32 offset2, reserved;
} __attribute__((packed));
#else
struct idt_entry {
	u16 offset0, selector;
	u8 zero, type_attr;
	u16 offset1;
} __attribute__((packed));
#endif

static struct idt_entry idt[256] __aligned(16);
static exception_handler handlers[256];
struct tss tss __aligned(16);

volatile ulong exception_fixup_rip;
volatile int exception_last_vector = -1;
volatile ulong exception_last_error_code;
volatile ulong exception_last_cr2;

void set_idt_entry(int vector, void *addr, int dpl)
{
	struct idt_entry *e = &idt[vector];
	ulong a = (ulong)addr;

	memset(e, 0, sizeof(*e));
	e->offset0 = (u16)a;
	e->offset1 = (u16)(a >> 16);
#ifdef __x86_64__
	e->offset2 = (u32)(a >> 32);
#endif
	e->selector = KERNEL_CS;
	/* present, DPL, 32/64-bit interrupt gate (IF cleared on entry) */
	e->type_attr = (u8)(0x80 | (dpl << 5) | 0xe);
}

void set_idt_ist(int vector, int ist)
{
#ifdef __x86_64__
	idt[vector].ist = (u8)ist;
#else
	(void)vector;
	(void)ist;
#endif
}

void setup_idt(void)
{
	static struct descriptor_table_ptr idtr;

	for (int v = 0; v < 256; v++)
		set_idt_entry(v, isr_stubs + v * 16, 0);
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (ulong)idt;
	lidt(&idtr);
}

/* A TSS descriptor: 8 bytes in 32-bit mode, 16 bytes (two GDT slots) in long mode. */
void setup_tss(void)
{
	static u8 ring0_stack[8192] __aligned(16);
	ulong base = (ulong)&tss;
	u32 limit = sizeof(tss) - 1;

	memset(&tss, 0, sizeof(tss));
#ifdef __x86_64__
	tss.rsp0 = (ulong)ring0_stack + sizeof(ring0_stack);
#else
	tss.esp0 = (ulong)ring0_stack + sizeof(ring0_stack);
	tss.ss0 = KERNEL_DS;
#endif
	tss.iomap_base = sizeof(tss);
	u64 d = (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | (0x89ULL << 40) |
		((u64)((limit >> 16) & 0xf) << 48) | ((u64)((base >> 24) & 0xff) << 56);
	gdt[TSS_SEL / 8] = d;
#ifdef __x86_64__
	gdt[TSS_SEL / 8 + 1] = (u64)base >> 32;
#endif
	ltr(TSS_SEL);
}

void handle_exception(u8 vector, exception_handler fn)
{
	handlers[vector] = fn;
}

const char *exception_mnemonic(int vector)
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
		"#SS", "#GP", "#PF", "res", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};
	return vector < (int)ARRAY_SIZE(names) ? names[vector] : "irq";
}

int exception_vector(void)
{
	int v = exception_last_vector;
	exception_last_vector = -1;
	return v;
}

void isr_dispatch(struct ex_regs *regs)
{
	int v = (int)regs->vector;

	if (handlers[v]) {
		handlers[v](regs);
		return;
	}
	if (exception_fixup_rip) {
		exception_last_vector = v;
		exception_last_error_code = regs->error_code;
		if (v == PF_VECTOR)
			exception_last_cr2 = read_cr2();
		regs->rip = exception_fixup_rip;
		exception_fixup_rip = 0;
		return;
	}
	printf("Unhandled exception %d %s err=%lx rip=%lx cs=%lx rflags=%lx cr2=%lx\n", v,
	       exception_mnemonic(v), regs->error_code, regs->rip, regs->cs, regs->rflags,
	       read_cr2());
	exit(0x7e);
}
