/*
 * The demo's 32-bit stage (pre_long_mode_hook, called by boot64.S before it enables long
 * mode): still in the protected mode the multiboot loader left, it prints the CPU vendor
 * from CPUID leaf 0 and the mode (CR0.PE=1, CR0.PG=0, EFER.LMA=0) on COM1.
 */
#define COM1 0x3f8

	.code32
	.text
	.globl pre_long_mode_hook
pre_long_mode_hook:
	push %ebx
	push %esi
	push %edi
	/* 16550: 115200 8N1, FIFOs on (as lib/x86/serial.c) */
	mov $COM1 + 1, %dx; xor %al, %al; out %al, %dx
	mov $COM1 + 3, %dx; mov $0x80, %al; out %al, %dx
	mov $COM1 + 0, %dx; mov $1, %al; out %al, %dx
	mov $COM1 + 1, %dx; xor %al, %al; out %al, %dx
	mov $COM1 + 3, %dx; mov $3, %al; out %al, %dx
	mov $COM1 + 2, %dx; mov $7, %al; out %al, %dx
	mov $COM1 + 4, %dx; mov $0x0b, %al; out %al, %dx

	xor %eax, %eax
	cpuid
	mov %ebx, vendor32
	mov %edx, vendor32 + 4
	mov %ecx, vendor32 + 8
	mov $msg_vendor, %esi
	call puts32
	mov $vendor32, %esi
	call puts32
	mov %cr0, %eax
	test $0x80000000, %eax
	jnz 1f
	mov $msg_mode, %esi
	call puts32
1:	pop %edi
	pop %esi
	pop %ebx
	ret

/* Print the NUL-terminated string at ESI, polling LSR.THRE. */
puts32:
	lodsb
	test %al, %al
	jz 2f
	mov %al, %ah
	mov $COM1 + 5, %dx
1:	in %dx, %al
	test $0x20, %al
	jz 1b
	mov $COM1, %dx
	mov %ah, %al
	out %al, %dx
	jmp puts32
2:	ret

	.data
	.globl vendor32
msg_vendor: .asciz "kvmts demo: CPU vendor "
vendor32: .skip 13
msg_mode: .asciz "\nkvmts demo: started in 32-bit protected mode (paging off), switching to long mode\n"

	.section .note.GNU-stack, "", @progbits
