/* GDT, IDT, TSS and exception dispatch (32-bit protected mode and 64-bit long mode). */
#ifndef KVMTS_X86_DESC_H
#define KVMTS_X86_DESC_H

#include "processor.h"

/* One GDT layout for both modes (boot32.S / boot64.S). USER_CS32, USER_DS, USER_CS follow
 * the order SYSRET needs: STAR[63:48] = USER_CS32, SS = +8, 64-bit CS = +16. */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_CS32 0x18
#define USER_DS 0x20
#define USER_CS 0x28
#define TSS_SEL 0x30
#define KERNEL_CS32 0x40
#define KERNEL_CS16 0x48
#define KERNEL_DS16 0x50

#define DE_VECTOR 0
#define DB_VECTOR 1
#define NMI_VECTOR 2
#define BP_VECTOR 3
#define OF_VECTOR 4
#define BR_VECTOR 5
#define UD_VECTOR 6
#define NM_VECTOR 7
#define DF_VECTOR 8
#define TS_VECTOR 10
#define NP_VECTOR 11
#define SS_VECTOR 12
#define GP_VECTOR 13
#define PF_VECTOR 14
#define MF_VECTOR 16
#define AC_VECTOR 17
#define MC_VECTOR 18
#define XM_VECTOR 19

/* Pushed by isr.S: general registers, then vector and error code, then the CPU's frame. */
struct ex_regs {
	ulong rax, rcx, rdx, rbx, rbp, rsi, rdi;
#ifdef __x86_64__
	ulong r8, r9, r10, r11, r12, r13, r14, r15;
#endif
	ulong vector, error_code;
	ulong rip, cs, rflags;
	ulong rsp, ss; /* 64-bit: always; 32-bit: only on a privilege change */
};

#ifdef __x86_64__
struct tss {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap_base;
} __attribute__((packed));
#else
struct tss {
	u32 prev, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	u32 eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap_base;
} __attribute__((packed));
#endif

extern u64 gdt[];
extern struct tss tss;

typedef void (*exception_handler)(struct ex_regs *regs);

void setup_idt(void);
void setup_tss(void);
void handle_exception(u8 vector, exception_handler fn);
void set_idt_entry(int vector, void *addr, int dpl);
void set_idt_ist(int vector, int ist);
const char *exception_mnemonic(int vector);

/*
 * Catching an expected exception: ASM_TRY("1f") before the faulting instruction makes the
 * dispatcher resume at label 1 and record the vector and error code (kvm-unit-tests idea).
 */
extern volatile ulong exception_fixup_rip;
extern volatile int exception_last_vector;
extern volatile ulong exception_last_error_code;
extern volatile ulong exception_last_cr2; /* CR2 of the last caught #PF */
#ifdef __x86_64__
#define ASM_TRY(label) "movq $" label ", exception_fixup_rip\n\t"
#else
#define ASM_TRY(label) "movl $" label ", exception_fixup_rip\n\t"
#endif
/* Returns the vector caught since the last call, or -1. */
int exception_vector(void);

#endif
