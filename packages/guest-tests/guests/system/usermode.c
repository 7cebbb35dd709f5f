/*
 * Privilege levels: entering ring 3 with IRET, the ring-0 stack from the TSS on an
 * interrupt from ring 3 (RSP0/ESP0), a DPL-3 interrupt gate as the way back, #GP for a
 * privileged instruction at CPL 3, SYSENTER/SYSEXIT in 32-bit mode, and in long mode: SYSCALL/SYSRET round trips (STAR,
 * LSTAR, SFMASK; RCX and R11), an IST stack switch, and a #PF with the U bit for a user
 * access to a supervisor page.
 */
#include "libc.h"
#include "x86/desc.h"

#define RETURN_VECTOR 0x80
#define PFEC_P_U 0x5
#ifdef __x86_64__
#define USER_CS_MODE USER_CS
#else
#define USER_CS_MODE USER_CS32
#endif
extern char isr_stubs[];

static ulong tss_stack_top(void)
{
#ifdef __x86_64__
	return tss.rsp0;
#else
	return tss.esp0;
#endif
}
#define IST_VECTOR 0x82

extern void enter_user(void (*fn)(void), ulong user_sp);
extern char return_from_user[];
ulong kernel_sp_saved;
static u8 user_stack[8192] __aligned(16);
static volatile ulong ret_regs_addr, ret_cs, ret_ss, ret_count;
static volatile ulong user_cs, user_gp_vector, user_gp_error;

#ifdef __x86_64__
asm(".text\n"
    ".globl enter_user\n"
    "enter_user:\n\t"
    "push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
    "mov %rsp, kernel_sp_saved\n\t"
    "pushq $0x23\n\t"		/* SS = USER_DS | 3 */
    "push %rsi\n\t"
    "pushq $0x202\n\t"		/* IF */
    "pushq $0x2b\n\t"		/* CS = USER_CS | 3 */
    "push %rdi\n\t"
    "iretq\n"
    ".globl return_from_user\n"
    "return_from_user:\n\t"
    "mov kernel_sp_saved, %rsp\n\t"
    "mov $0x10, %eax\n\tmov %eax, %ds\n\tmov %eax, %es\n\t"
    "pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\tret\n");
#else
asm(".text\n"
    ".globl enter_user\n"
    "enter_user:\n\t"
    "push %ebx\n\tpush %ebp\n\tpush %esi\n\tpush %edi\n\t"
    "mov 20(%esp), %edi\n\tmov 24(%esp), %esi\n\t"
    "mov %esp, kernel_sp_saved\n\t"
    "mov $0x23, %eax\n\tmov %eax, %ds\n\tmov %eax, %es\n\t"
    "pushl $0x23\n\t"
    "push %esi\n\t"
    "pushl $0x202\n\t"
    "pushl $0x1b\n\t"		/* CS = USER_CS32 | 3 */
    "push %edi\n\t"
    "iret\n"
    ".globl return_from_user\n"
    "return_from_user:\n\t"
    "mov kernel_sp_saved, %esp\n\t"	/* an IRET to CPL 0 does not switch stacks */
    "mov $0x10, %eax\n\tmov %eax, %ds\n\tmov %eax, %es\n\t"
    "pop %edi\n\tpop %esi\n\tpop %ebp\n\tpop %ebx\n\tret\n");
#endif

/* int $0x80 from ring 3: record what the CPU pushed, then resume the kernel after enter_user. */
static void return_isr(struct ex_regs *regs)
{
	ret_regs_addr = (ulong)regs;
	ret_cs = regs->cs;
	ret_ss = regs->ss;
	ret_count++;
	regs->rip = (ulong)return_from_user;
	regs->cs = KERNEL_CS;
	regs->rflags = 0x2;
#ifdef __x86_64__
	regs->rsp = kernel_sp_saved;
	regs->ss = KERNEL_DS;
#endif
}

#ifdef __x86_64__
static volatile ulong sys_rcx, sys_r11, sys_flags, sys_cs, sys_ss, sys_count;
extern void syscall_entry(void);
extern char after_syscall[];
asm(".text\n"
    ".globl syscall_entry\n"
    "syscall_entry:\n\t"
    "cmpq $0, sys_count\n\t"	/* record the first round trip */
    "jne 1f\n\t"
    "mov %rcx, sys_rcx\n\t"
    "mov %r11, sys_r11\n\t"
    "pushf\n\tpopq sys_flags\n"
    "1:\n\t"
    "mov %cs, %rax\n\tmov %rax, sys_cs\n\t"
    "mov %ss, %rax\n\tmov %rax, sys_ss\n\t"
    "incq sys_count\n\t"
    "mov $0x5a5a, %eax\n\t"
    "sysretq\n");

static volatile long user_pf_error = -1;
static volatile ulong user_pf_cr2, user_rax;
#define SUPERVISOR_ONLY 0x1000000ul /* a 2 MiB page without the U bit */

static void user_main(void)
{
	ulong rax = 7;
	/* DF set across the syscall: SFMASK clears it (and IF) in the kernel, R11 keeps it. */
	asm volatile("std\n\tsyscall\n\t.globl after_syscall\nafter_syscall:\n\tcld" : "+a"(rax) :: "rcx", "r11", "memory");
	user_rax = rax;
	asm volatile("syscall" ::: "rax", "rcx", "r11", "memory");
	user_cs = read_cs();
	asm volatile(ASM_TRY("1f") "cli\n\t1:");
	user_gp_vector = (ulong)exception_vector();
	user_gp_error = exception_last_error_code;
	asm volatile(ASM_TRY("1f") "movb (%0), %%al\n\t1:" :: "r"(SUPERVISOR_ONLY + 0x40) : "eax");
	if (exception_vector() == PF_VECTOR) {
		user_pf_error = (long)exception_last_error_code;
		user_pf_cr2 = exception_last_cr2;
	}
	asm volatile("int $0x80");
	for (;;)
		;
}
#else
/* SYSENTER/SYSEXIT (legacy mode, both vendors): CS/SS from IA32_SYSENTER_CS, +16/+24 back. */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
static volatile ulong se_esp, se_cs, se_ss, se_flags, se_count;
static u8 sysenter_stack[1024] __aligned(16);
extern void sysenter_entry(void);
asm(".text\n"
    ".globl sysenter_entry\n"
    "sysenter_entry:\n\t"
    "mov %esp, se_esp\n\t"
    "mov %cs, %eax\n\tmov %eax, se_cs\n\t"
    "mov %ss, %eax\n\tmov %eax, se_ss\n\t"
    "pushf\n\tpopl se_flags\n\t"
    "incl se_count\n\t"
    "mov $0x5e5e, %eax\n\t"
    "sysexit\n");
static volatile ulong se_user_eax, se_user_cs;

static void user_main(void)
{
	ulong eax;
	/* EDX = return EIP, ECX = return ESP for SYSEXIT. */
	asm volatile("mov $1f, %%edx\n\tmov %%esp, %%ecx\n\tsysenter\n1:" : "=a"(eax) :: "ecx", "edx", "memory");
	se_user_eax = eax;
	se_user_cs = read_cs();
	user_cs = read_cs();
	asm volatile(ASM_TRY("1f") "hlt\n\t1:");
	user_gp_vector = (ulong)exception_vector();
	user_gp_error = exception_last_error_code;
	asm volatile("int $0x80");
	for (;;)
		;
}
#endif

#ifdef __x86_64__
static void ist_isr(struct ex_regs *regs)
{
	ret_regs_addr = (ulong)regs;
}
#endif

int main(void)
{
	printf("usermode in %d-bit mode\n", (int)sizeof(long) * 8);
	handle_exception(RETURN_VECTOR, return_isr);
	set_idt_entry(RETURN_VECTOR, (char *)isr_stubs + RETURN_VECTOR * 16, 3);
#ifdef __x86_64__
	extern u64 boot_pml4[], boot_pdpt[], boot_pd[];
	/* Make the identity map user-accessible except one 2 MiB page. */
	boot_pml4[0] |= 4;
	for (int i = 0; i < 4; i++)
		boot_pdpt[i] |= 4;
	for (int i = 0; i < 2048; i++)
		boot_pd[i] |= 4;
	boot_pd[SUPERVISOR_ONLY >> 21] &= ~4ull;
	write_cr3(read_cr3());

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, ((u64)(USER_CS32 | 3) << 48) | ((u64)KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (ulong)syscall_entry);
	wrmsr(MSR_SYSCALL_MASK, X86_EFLAGS_IF | X86_EFLAGS_DF | X86_EFLAGS_TF | 0x40000 /* AC */);
#else
	wrmsr(MSR_IA32_SYSENTER_CS, KERNEL_CS);
	wrmsr(MSR_IA32_SYSENTER_ESP, (ulong)sysenter_stack + sizeof(sysenter_stack));
	wrmsr(MSR_IA32_SYSENTER_EIP, (ulong)sysenter_entry);
#endif
	enter_user(user_main, (ulong)user_stack + sizeof(user_stack));

	report(ret_count == 1, "back in ring 0 through a DPL-3 gate");
	report(user_cs == (USER_CS_MODE | 3), "CS at CPL 3 is %lx", user_cs);
	report(ret_cs == (USER_CS_MODE | 3) && ret_ss == (USER_DS | 3), "interrupt frame from ring 3: cs=%lx ss=%lx", ret_cs, ret_ss);
	ulong top = tss_stack_top();
	report(ret_regs_addr < top && ret_regs_addr >= top - 512, "interrupt from ring 3 ran on the TSS ring-0 stack");
	report(user_gp_vector == GP_VECTOR && user_gp_error == 0, "#GP(0) for a privileged instruction at CPL 3 (vector %ld)", (long)user_gp_vector);
#ifndef __x86_64__
	report(se_count == 1 && se_esp == (ulong)sysenter_stack + sizeof(sysenter_stack), "SYSENTER loaded ESP from IA32_SYSENTER_ESP");
	report(se_cs == KERNEL_CS && se_ss == KERNEL_DS, "SYSENTER loaded CS/SS %lx/%lx", se_cs, se_ss);
	report((se_flags & X86_EFLAGS_IF) == 0, "SYSENTER cleared IF (eflags %lx)", se_flags);
	report(se_user_eax == 0x5e5e && se_user_cs == (USER_CS32 | 3), "SYSEXIT returned to ring 3 (cs %lx)", se_user_cs);
#endif
#ifdef __x86_64__
	report(sys_count == 2, "two SYSCALL/SYSRET round trips");
	report(sys_rcx == (ulong)after_syscall, "SYSCALL saved the return RIP in RCX");
	report((sys_r11 & (X86_EFLAGS_DF | X86_EFLAGS_IF)) == (X86_EFLAGS_DF | X86_EFLAGS_IF), "SYSCALL saved RFLAGS (DF, IF set) in R11: %lx", sys_r11);
	report((sys_flags & (X86_EFLAGS_DF | X86_EFLAGS_IF)) == 0, "SFMASK cleared DF and IF in the kernel: %lx", sys_flags);
	report(sys_cs == KERNEL_CS && sys_ss == KERNEL_DS, "SYSCALL loaded CS/SS from STAR: %lx/%lx", sys_cs, sys_ss);
	report(user_rax == 0x5a5a, "SYSRET returned to ring 3 with the kernel's RAX");
	report(user_pf_error == (PFEC_P_U) && user_pf_cr2 == SUPERVISOR_ONLY + 0x40, "#PF for a user read of a supervisor page: err=%lx cr2=%lx", (ulong)user_pf_error, user_pf_cr2);

	/* IST: vector IST_VECTOR always runs on its own stack, even from ring 0. */
	static u8 ist_stack[4096] __aligned(16);
	tss.ist[0] = (ulong)ist_stack + sizeof(ist_stack);
	set_idt_ist(IST_VECTOR, 1);
	handle_exception(IST_VECTOR, ist_isr);
	asm volatile("int $0x82");
	report(ret_regs_addr >= (ulong)ist_stack && ret_regs_addr < (ulong)ist_stack + sizeof(ist_stack), "IST1 stack switch for int $0x82");
#endif
	return report_summary();
}
