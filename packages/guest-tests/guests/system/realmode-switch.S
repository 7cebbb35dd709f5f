/*
 * A round trip from 32-bit protected mode through real mode, with the PIT's IRQ0
 * delivered through the 8259 PIC and the real-mode IVT. realmode.c copies the blob
 * rm_start..rm_end to RM_BASE (below 1 MiB) and calls real_mode_ticks(n).
 *
 *   protected mode (CS 0x08) -> 16-bit protected mode (CS 0x48, DS 0x50, 64 KiB limits)
 *   -> CR0.PE=0, far jump to real mode (CS=0) -> IVT[8] = rm_irq0, sti, hlt until n ticks
 *   -> lgdt, CR0.PE=1, far jump back to 32-bit code at rm_back32.
 */
#define RM_BASE 0x7000
#define RM(sym) (RM_BASE + ((sym) - rm_start))
#define RM_STACK 0x6ff0

	.text
	.code32
	.globl real_mode_ticks
/* u16 real_mode_ticks(u16 n): returns the tick count seen in real mode. */
real_mode_ticks:
	push %ebp
	push %ebx
	push %esi
	push %edi
	mov 20(%esp), %eax
	mov %ax, RM(rm_wanted)
	movw $0, RM(rm_ticks)
	mov %esp, saved_esp
	sidt saved_idtr
	sgdt RM(rm_gdtr)
	ljmp $0x48, $RM(rm_pm16)

rm_back32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	mov saved_esp, %esp
	lidt saved_idtr
	movzwl RM(rm_ticks), %eax
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

	.data
saved_esp: .long 0
saved_idtr: .word 0
	.long 0

	.section .rodata
	.globl rm_start, rm_end
	.code16
rm_start:
rm_pm16:
	mov $0x50, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr0, %eax
	and $~1, %eax
	mov %eax, %cr0
	ljmp $0, $RM(rm_real)
rm_real:
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $RM_STACK, %sp
	lidt RM(rm_idtr)
	/* IVT[8] = 0000:rm_irq0 (the PIC is programmed with base 8, as the BIOS does) */
	movw $RM(rm_irq0), 8 * 4
	movw $0, 8 * 4 + 2
	sti
1:	hlt
	mov RM(rm_ticks), %ax
	cmp RM(rm_wanted), %ax
	jb 1b
	cli
	lgdtl RM(rm_gdtr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $rm_back32

rm_irq0:
	push %ax
	incw %cs:RM(rm_ticks)
	mov $0x20, %al
	out %al, $0x20
	pop %ax
	iret

	.balign 4
rm_ticks: .word 0
rm_wanted: .word 0
rm_idtr: .word 0x3ff
	.long 0
rm_gdtr: .word 0
	.long 0
rm_end:

	.section .note.GNU-stack, "", @progbits
