/*
 * 256 interrupt stubs, 16 bytes apart (isr_stubs + vector * 16). Each pushes a dummy
 * error code where the CPU pushes none, then the vector, and joins isr_common, which
 * saves the general registers as struct ex_regs and calls isr_dispatch(regs).
 */
	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	push $0
	.endif
	push $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
#ifdef __x86_64__
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rdi
	push %rsi
	push %rbp
	push %rbx
	push %rdx
	push %rcx
	push %rax
	mov %rsp, %rdi
	cld
	call isr_dispatch
	pop %rax
	pop %rcx
	pop %rdx
	pop %rbx
	pop %rbp
	pop %rsi
	pop %rdi
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	add $16, %rsp
	iretq
#else
	push %edi
	push %esi
	push %ebp
	push %ebx
	push %edx
	push %ecx
	push %eax
	mov %esp, %eax
	cld
	push %eax
	call isr_dispatch
	add $4, %esp
	pop %eax
	pop %ecx
	pop %edx
	pop %ebx
	pop %ebp
	pop %esi
	pop %edi
	add $8, %esp
	iret
#endif
	.section .note.GNU-stack, "", @progbits
