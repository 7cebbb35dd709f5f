/* Shared by boot32.S and boot64.S: the Multiboot v1 header and the GDT. */
/* ESI value with which the AP trampoline enters the 32-bit entry code. */
#define AP_MAGIC 0x41504150
/* Each AP stack is 1 << AP_STACK_SHIFT bytes (smp.h). */
#define AP_STACK_SHIFT 14
#define MULTIBOOT_MAGIC 0x1badb002
/* bit 0: page-align modules, bit 1: provide the memory map */
#define MULTIBOOT_FLAGS 0x00000003

.macro MULTIBOOT_HEADER
	.section .multiboot, "a"
	.balign 4
	.long MULTIBOOT_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)
.endm

/*
 * The GDT (selectors in desc.h). The TSS slots are filled by setup_tss().
 *   0x08 kernel code (64-bit in long mode, 32-bit otherwise)  0x10 kernel data
 *   0x18 user code 32  0x20 user data  0x28 user code 64  0x30 TSS (16 bytes)
 *   0x40 kernel code 32  0x48 kernel code 16  0x50 kernel data 16
 */
.macro GDT kernel_cs
	.data
	.balign 16
	.globl gdt
gdt:
	.quad 0
	.quad \kernel_cs
	.quad 0x00cf92000000ffff
	.quad 0x00cffa000000ffff
	.quad 0x00cff2000000ffff
	.quad 0x00affa000000ffff
	.quad 0, 0
	.quad 0x00cf9a000000ffff
	.quad 0x00009a000000ffff
	.quad 0x000092000000ffff
gdt_end:
	.globl gdt_descr
gdt_descr:
	.word gdt_end - gdt - 1
	.long gdt
	.long 0
.endm

/* x87 and SSE usable: CR0.EM=0, MP=1, NE=1; CR4.OSFXSR and OSXMMEXCPT. */
.macro ENABLE_FPU_SSE reg
	mov %cr0, \reg
	and $~0x4, \reg
	or $0x22, \reg
	mov \reg, %cr0
	mov %cr4, \reg
	or $0x600, \reg
	mov \reg, %cr4
	fninit
.endm
