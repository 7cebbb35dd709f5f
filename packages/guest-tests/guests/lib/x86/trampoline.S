/*
 * The AP start-up trampoline. smp_init() copies it to TRAMPOLINE_BASE (below 1 MiB, page
 * aligned) and sends INIT-SIPI-SIPI with vector TRAMPOLINE_BASE >> 12, so each AP starts
 * here in real mode with CS = TRAMPOLINE_BASE >> 4, IP = 0. It loads a flat GDT, enters
 * protected mode and jumps to the image's 32-bit AP path: long mode for 64-bit guests
 * (enter_long_mode, with ESI = AP_MAGIC), ap_entry32 for 32-bit ones.
 */
#include "boot-common.h"
#define TRAMPOLINE_BASE 0x8000
#define T(sym) (TRAMPOLINE_BASE + (sym - trampoline_start))

	.section .rodata
	.globl trampoline_start, trampoline_end
	.code16
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tramp_gdt_descr - trampoline_start
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $T(tramp_pm32)

	.code32
tramp_pm32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov $AP_MAGIC, %esi
#ifdef __x86_64__
	mov $enter_long_mode, %eax
#else
	mov $ap_entry32, %eax
#endif
	jmp *%eax

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
tramp_gdt_descr:
	.word 23
	.long T(tramp_gdt)
trampoline_end:

	.section .note.GNU-stack, "", @progbits
