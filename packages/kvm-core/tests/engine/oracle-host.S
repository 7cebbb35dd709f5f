# Host side of the instruction oracle: run_case(code) loads the 16 GPRs (except RSP) and
# RFLAGS from `in_regs`, calls `code` (the instruction followed by RET), and stores the
# GPRs and RFLAGS into `out_regs`. Register order: VCPU_REGS_* (rax rcx rdx rbx rsp rbp rsi rdi r8..r15), then rflags.
  .text
  .globl run_case
run_case:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  mov %rdi, code_ptr(%rip)
  mov %rsp, saved_rsp(%rip)
  mov in_regs+8*17(%rip), %rax
  push %rax
  popfq
  mov in_regs+8*0(%rip), %rax
  mov in_regs+8*1(%rip), %rcx
  mov in_regs+8*2(%rip), %rdx
  mov in_regs+8*3(%rip), %rbx
  mov in_regs+8*5(%rip), %rbp
  mov in_regs+8*6(%rip), %rsi
  mov in_regs+8*7(%rip), %rdi
  mov in_regs+8*8(%rip), %r8
  mov in_regs+8*9(%rip), %r9
  mov in_regs+8*10(%rip), %r10
  mov in_regs+8*11(%rip), %r11
  mov in_regs+8*12(%rip), %r12
  mov in_regs+8*13(%rip), %r13
  mov in_regs+8*14(%rip), %r14
  mov in_regs+8*15(%rip), %r15
  call *code_ptr(%rip)
  pushfq
  pop out_regs+8*17(%rip)
  mov %rax, out_regs+8*0(%rip)
  mov %rcx, out_regs+8*1(%rip)
  mov %rdx, out_regs+8*2(%rip)
  mov %rbx, out_regs+8*3(%rip)
  mov %rbp, out_regs+8*5(%rip)
  mov %rsi, out_regs+8*6(%rip)
  mov %rdi, out_regs+8*7(%rip)
  mov %r8, out_regs+8*8(%rip)
  mov %r9, out_regs+8*9(%rip)
  mov %r10, out_regs+8*10(%rip)
  mov %r11, out_regs+8*11(%rip)
  mov %r12, out_regs+8*12(%rip)
  mov %r13, out_regs+8*13(%rip)
  mov %r14, out_regs+8*14(%rip)
  mov %r15, out_regs+8*15(%rip)
  mov saved_rsp(%rip), %rsp
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret
  .bss
  .globl in_regs, out_regs
code_ptr: .quad 0
saved_rsp: .quad 0
in_regs: .space 8*18
out_regs: .space 8*18
  .section .note.GNU-stack,"",@progbits
