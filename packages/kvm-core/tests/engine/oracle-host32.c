/* 32-bit oracle: 16 code bytes + 9 u32 (EAX..EDI, EFLAGS) per case in, 9 u32 out. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

extern uint32_t in_regs[9], out_regs[9];
extern void run_case(void *code);

int main(void) {
  uint8_t *page = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  uint8_t code[16];
  while (fread(code, 1, 16, stdin) == 16) {
    if (fread(in_regs, 4, 9, stdin) != 9) return 2;
    memcpy(page, code, 16);
    page[16] = 0xc3;
    run_case(page);
    fwrite(out_regs, 4, 9, stdout);
  }
  return 0;
}
