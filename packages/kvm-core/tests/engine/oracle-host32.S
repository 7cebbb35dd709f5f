# 32-bit host side of the instruction oracle: run_case(code) loads EAX..EDI (not ESP) and
# EFLAGS from in_regs, calls `code` (the instruction followed by RET), stores them to out_regs.
  .text
  .globl run_case
run_case:
  push %ebx
  push %ebp
  push %esi
  push %edi
  mov 20(%esp), %eax
  mov %eax, code_ptr
  mov %esp, saved_esp
  pushl in_regs+4*8
  popfl
  mov in_regs+4*0, %eax
  mov in_regs+4*1, %ecx
  mov in_regs+4*2, %edx
  mov in_regs+4*3, %ebx
  mov in_regs+4*5, %ebp
  mov in_regs+4*6, %esi
  mov in_regs+4*7, %edi
  call *code_ptr
  pushfl
  popl out_regs+4*8
  mov %eax, out_regs+4*0
  mov %ecx, out_regs+4*1
  mov %edx, out_regs+4*2
  mov %ebx, out_regs+4*3
  mov %ebp, out_regs+4*5
  mov %esi, out_regs+4*6
  mov %edi, out_regs+4*7
  mov saved_esp, %esp
  pop %edi
  pop %esi
  pop %ebp
  pop %ebx
  ret
  .bss
  .globl in_regs, out_regs
code_ptr: .long 0
saved_esp: .long 0
in_regs: .space 4*9
out_regs: .space 4*9
  .section .note.GNU-stack,"",@progbits
