/*
 * Unmasked SIMD exceptions on the host: for each MXCSR given on the command line, runs
 * DIVPS with lanes 1/0 (ZE), 1/3 (PE), 1e30/1e-30 (OE), 1e-30/1e30 (UE); the SIGFPE
 * handler prints the MXCSR and XMM0 from the signal frame ("nofault" when all masked).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
static void h(int sig, siginfo_t *si, void *uc_) {
  ucontext_t *uc = uc_;
  (void)sig; (void)si;
  printf("%x %x %x %x %x\n", uc->uc_mcontext.fpregs->mxcsr, uc->uc_mcontext.fpregs->_xmm[0].element[0],
    uc->uc_mcontext.fpregs->_xmm[0].element[1], uc->uc_mcontext.fpregs->_xmm[0].element[2], uc->uc_mcontext.fpregs->_xmm[0].element[3]);
  fflush(stdout);
  _exit(0);
}
int main(int argc, char **argv) {
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO; sigaction(SIGFPE, &sa, 0);
  uint32_t mx = strtoul(argv[1], 0, 16);
  float a[4] = {1, 1, 1e30f, 1e-30f}, b[4] = {0, 3, 1e-30f, 1e30f};
  (void)argc;
  __asm__ volatile("ldmxcsr %0\n movups %1, %%xmm0\n movups %2, %%xmm1\n divps %%xmm1, %%xmm0\n" :: "m"(mx), "m"(a), "m"(b) : "xmm0", "xmm1");
  printf("nofault\n");
  return 0;
}
