/* Reads cases from stdin (16 code bytes + 18 u64 registers each), runs each on the host
 * CPU through run_case, writes 18 u64 results per case to stdout. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

extern uint64_t in_regs[18], out_regs[18];
extern void run_case(void *code);

int main(void) {
  uint8_t *page = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  uint8_t code[16];
  while (fread(code, 1, 16, stdin) == 16) {
    if (fread(in_regs, 8, 18, stdin) != 18) return 2;
    memcpy(page, code, 16);
    page[16] = 0xc3; /* ret */
    run_case(page);
    fwrite(out_regs, 8, 18, stdout);
  }
  return 0;
}
