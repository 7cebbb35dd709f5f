/*
 * Mode switches from long mode: a far return into compatibility mode (CS = 0x40, a
 * 32-bit code segment), proof that the CPU decodes 32-bit code there (0x48 is DEC EAX,
 * not a REX prefix), then out of long mode altogether (CR0.PG=0 clears EFER.LMA: legacy
 * protected mode), back into it (CR0.PG=1 with EFER.LME set) and a far jump to 64-bit code.
 *
 * void mode_switch_probe(u32 *out): out[0] = EAX after "mov $0x12345678; dec %eax",
 * out[1] = EFER in legacy protected mode, out[2] = EFER after re-enabling paging,
 * out[3] = EAX as set by the handler of an int $0x83 issued in compatibility mode.
 */
	.text
	.code64
	.globl mode_switch_probe
mode_switch_probe:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, saved_rsp64
	pushq $0x40
	pushq $compat32
	lretq

	.code32
compat32:
	mov $0x12345678, %eax
	.byte 0x48		/* DEC EAX here; a REX.W prefix in 64-bit mode */
	nop
	mov %eax, 0(%edi)
	int $0x83		/* through the 64-bit IDT, IRETQ back to compatibility mode */
	mov %eax, 12(%edi)	/* the handler's marker in EAX */
	mov %cr0, %eax
	and $0x7fffffff, %eax
	mov %eax, %cr0		/* paging off: EFER.LMA=0, legacy protected mode */
	mov $0xc0000080, %ecx
	rdmsr
	mov %eax, 4(%edi)
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0		/* paging on with EFER.LME: long mode (compatibility) again */
	mov $0xc0000080, %ecx
	rdmsr
	mov %eax, 8(%edi)
	ljmp $0x08, $back64

	.code64
back64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov saved_rsp64, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.data
saved_rsp64: .quad 0

	.section .note.GNU-stack, "", @progbits
