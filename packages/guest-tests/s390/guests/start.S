/* Freestanding s390x guest entry: 64-bit mode, stack, bss, external new PSW for the
 * SCLP wait, call main, then a disabled wait whose address is the exit status
 * (0xfff: clean, as QEMU's special wait PSW). */
	.section .text.start,"ax"
	.globl _start
_start:
	larl	%r15, stack_top
	aghi	%r15, -160
	/* clear bss */
	larl	%r2, __bss_start
	larl	%r3, __bss_end
1:	clgr	%r2, %r3
	jhe	2f
	mvi	0(%r2), 0
	la	%r2, 1(%r2)
	j	1b
2:	/* external new PSW: 64-bit, disabled, continue at sclp_resume */
	larl	%r1, ext_new_psw
	mvc	0x1b0(16), 0(%r1)
	/* program and SVC new PSWs: count and return (the old PSW points past the
	 * instruction for suppressing exceptions) */
	larl	%r1, pgm_new_psw
	mvc	0x1d0(16), 0(%r1)
	larl	%r1, svc_new_psw
	mvc	0x1c0(16), 0(%r1)
	/* CR0: service-signal (bit 54) and emergency-signal (bit 49) subclass masks */
	larl	%r1, cr0_val
	lctlg	%c0, %c0, 0(%r1)
	brasl	%r14, main
	/* exit: disabled wait at 0xfff if main returned 0, else at 0x100 + code */
	lghi	%r1, 0xfff
	ltgr	%r2, %r2
	jz	3f
	la	%r1, 0x100(%r2)
3:	larl	%r3, exit_psw
	stg	%r1, 8(%r3)
	lpswe	0(%r3)

/* int sclp_service_call(unsigned int cmd, void *sccb): SERVC, then wait for the
 * service-signal external interrupt. Returns the SERVC condition code. */
	.globl sclp_service_call
sclp_service_call:
	.insn	rre, 0xb2200000, %r2, %r3	/* SERVC */
	ipm	%r2
	srl	%r2, 28
	ltr	%r2, %r2
	jnz	4f
	larl	%r1, wait_psw
	lpswe	0(%r1)
	.globl sclp_resume
sclp_resume:
	/* Any external interrupt resumes here with r14 intact: note an emergency
	 * signal's sender in emergency_from, return 0. */
	llgh	%r1, 0x86
	cghi	%r1, 0x1201
	jne	5f
	larl	%r1, emergency_from
	llgh	%r0, 0x84
	stg	%r0, 0(%r1)
5:	lghi	%r2, 0
4:	br	%r14

/* Program-interruption handler: note the code, count, resume. */
pgm_handler:
	stmg	%r1, %r2, 0x200
	larl	%r1, pgm_last_code
	llgh	%r2, 0x8e
	stg	%r2, 0(%r1)
	larl	%r1, pgm_count
	lg	%r2, 0(%r1)
	aghi	%r2, 1
	stg	%r2, 0(%r1)
	lmg	%r1, %r2, 0x200
	lpswe	0x150

/* SVC handler: note the code, resume after the SVC. */
svc_handler:
	stmg	%r1, %r2, 0x200
	larl	%r1, svc_last_code
	llgh	%r2, 0x8a
	stg	%r2, 0(%r1)
	lmg	%r1, %r2, 0x200
	lpswe	0x140

/* void wait_for_ext(void): enabled wait until an external interrupt arrives. */
	.globl wait_for_ext
wait_for_ext:
	larl	%r1, wait_psw
	lpswe	0(%r1)

	.section .data
	.align 8
ext_new_psw:	.quad 0x0000000180000000, sclp_resume
wait_psw:	.quad 0x0102000180000000, 0
exit_psw:	.quad 0x0002000180000000, 0
pgm_new_psw:	.quad 0x0000000180000000, pgm_handler
svc_new_psw:	.quad 0x0000000180000000, svc_handler
	.globl pgm_count, pgm_last_code, svc_last_code
pgm_count:	.quad 0
pgm_last_code:	.quad 0
svc_last_code:	.quad 0
	.globl emergency_from
emergency_from:	.quad -1
cr0_val:	.quad 0x0000000000004200	/* service signal, emergency signal */

	.section .bss
	.align 4096
stack:	.space 65536
stack_top:
