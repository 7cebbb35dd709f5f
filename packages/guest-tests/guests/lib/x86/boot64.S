/*
 * Entry of a 64-bit guest. Multiboot loaders only take 32-bit images, so this is an
 * ELF32 file (linked as x86-64, then objcopy'd to elf32-i386) whose 32-bit entry builds
 * identity page tables for the low 4 GiB (2 MiB pages), enables PAE, EFER.LME and
 * paging, and far-jumps to 64-bit code, which calls kvmts_start(magic, mbi).
 */
#include "boot-common.h"

	MULTIBOOT_HEADER
	GDT 0x00af9a000000ffff

	.data
	.globl mb_magic, mb_info
mb_magic: .long 0
mb_info: .long 0

	.bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd: .skip 4096 * 4
	.balign 16
	.globl boot_stack_top
boot_stack: .skip 16384
boot_stack_top:

	.weak pre_long_mode_hook
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
	mov $boot_stack_top, %esp
	/* A guest may run 32-bit code before long mode (the demo reports what it sees). */
	mov $pre_long_mode_hook, %eax
	test %eax, %eax
	jz 1f
	call *%eax
1:	xor %esi, %esi			/* not an AP (see start64) */

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories; 2048 2 MiB pages (P|RW|PS). */
	mov $boot_pdpt + 3, %eax
	mov %eax, boot_pml4
	mov $boot_pd + 3, %eax
	xor %ecx, %ecx
1:	mov %eax, boot_pdpt(, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 1b
	mov $0x83, %eax
	xor %ecx, %ecx
1:	mov %eax, boot_pd(, %ecx, 8)
	add $0x200000, %eax
	inc %ecx
	cmp $2048, %ecx
	jne 1b

	.globl enter_long_mode
enter_long_mode:	/* also reached by the AP trampoline, with ESI = AP_MAGIC */
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax			/* CR4.PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* CR0.PG | CR0.PE */
	mov %eax, %cr0
	lgdt gdt_descr
	ljmp $0x08, $start64

	.code64
start64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	ENABLE_FPU_SSE %rax
	cmp $AP_MAGIC, %esi
	je ap_start64
	mov $boot_stack_top, %rsp
	mov mb_magic, %edi
	mov mb_info, %esi
	call kvmts_start
2:	hlt
	jmp 2b

/* Each AP takes the next stack of ap_stacks (smp.c) with an atomic increment. */
ap_start64:
	mov $1, %eax
	lock xadd %eax, ap_stack_index
	inc %eax
	shl $AP_STACK_SHIFT, %rax
	add $ap_stacks, %rax
	mov %rax, %rsp
	call ap_start
3:	hlt
	jmp 3b

	.section .note.GNU-stack, "", @progbits
