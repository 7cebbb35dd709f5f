/*
 * Entry of a 32-bit guest, loaded as a Multiboot v1 kernel: the loader leaves us in flat
 * protected mode with EAX = 0x2badb002 and EBX = the multiboot info. We load our own GDT,
 * zero .bss, enable the FPU/SSE and call kvmts_start(magic, mbi).
 */
#include "boot-common.h"

	MULTIBOOT_HEADER
	GDT 0x00cf9a000000ffff

	.data
	.globl mb_magic, mb_info
mb_magic: .long 0
mb_info: .long 0

	.bss
	.balign 16
	.globl boot_stack_top
boot_stack: .skip 16384
boot_stack_top:

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, mb_magic
	mov %ebx, mb_info
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	lgdt gdt_descr
	ljmp $0x08, $1f
1:	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	mov $boot_stack_top, %esp
	ENABLE_FPU_SSE %eax
	push mb_info
	push mb_magic
	call kvmts_start
2:	hlt
	jmp 2b

/* APs arrive here from the trampoline in flat 32-bit protected mode. */
	.globl ap_entry32
ap_entry32:
	lgdt gdt_descr
	ljmp $0x08, $1f
1:	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	ENABLE_FPU_SSE %eax
	mov $1, %eax
	lock xadd %eax, ap_stack_index
	inc %eax
	shl $AP_STACK_SHIFT, %eax
	add $ap_stacks, %eax
	mov %eax, %esp
	call ap_start
3:	hlt
	jmp 3b

	.section .note.GNU-stack, "", @progbits
