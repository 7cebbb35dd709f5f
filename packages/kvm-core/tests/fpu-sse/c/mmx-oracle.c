/*
 * Host oracle for MMX: runs "movq d,mm0; movq s,mm1; <op> mm1,mm0; movq mm0,d; fnsave"
 * and prints the result, the FSW and full tag word from FNSAVE (MMX sets TOP=0 and all
 * tags valid), ST(0)'s sign/exponent (0xFFFF: MMX writes alias R0) and the tag word
 * after EMMS (all empty).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
typedef uint16_t u16; typedef uint32_t u32; typedef uint64_t u64;
struct ctx { u64 d, s; u16 save[54]; u32 env2[7]; };

#define MOP(fn, insn) static void fn(struct ctx *c) { __asm__ volatile( \
  "fninit\n fld1\n fldz\n movq %[d], %%mm0\n movq %[s], %%mm1\n" insn "\n movq %%mm0, %[d]\n fnsave %[sv]\n frstor %[sv]\n emms\n fnstenv %[e2]\n fninit\n" \
  : [d] "+m"(c->d), [sv] "+m"(c->save), [e2] "=m"(c->env2) : [s] "m"(c->s) : "memory", "mm0", "mm1"); }

#define I(n) MOP(m_##n, #n " %%mm1, %%mm0")
I(punpcklbw) I(punpcklwd) I(punpckldq) I(packsswb) I(pcmpgtb) I(pcmpgtw) I(pcmpgtd) I(packuswb) I(punpckhbw)
I(punpckhwd) I(punpckhdq) I(packssdw) I(pcmpeqb) I(pcmpeqw) I(pcmpeqd) I(psrlw) I(psrld) I(psrlq) I(paddq)
I(pmullw) I(psubusb) I(psubusw) I(pminub) I(pand) I(paddusb) I(paddusw) I(pmaxub) I(pandn) I(pavgb) I(psraw)
I(psrad) I(pavgw) I(pmulhuw) I(pmulhw) I(psubsb) I(psubsw) I(pminsw) I(por) I(paddsb) I(paddsw) I(pmaxsw)
I(pxor) I(psllw) I(pslld) I(psllq) I(pmuludq) I(pmaddwd) I(psadbw) I(psubb) I(psubw) I(psubd) I(psubq)
I(paddb) I(paddw) I(paddd) I(movq)
MOP(m_pshufw1b, "pshufw $0x1b, %%mm1, %%mm0") MOP(m_psrlw3, "psrlw $3, %%mm0") MOP(m_psraw9, "psraw $9, %%mm0")
MOP(m_psllq33, "psllq $33, %%mm0") MOP(m_psrad40, "psrad $40, %%mm0")
MOP(m_pinsrw2, "movd %%mm1, %%eax\n pinsrw $2, %%eax, %%mm0")

int main(void) {
  static const u64 pat[] = { 0, ~0ull, 0x7f7f7f7f80808080ull, 0x7fff80000000ffffull, 0x00ff01fe12345678ull, 0x8000ffff7fffffffull };
  u64 rng = 88172645463325252ull;
#define RUN(n) for (int r = 0; r < 120; r++) { struct ctx c; memset(&c, 0, sizeof c); \
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; u64 a = rng; rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; \
    c.d = r < 36 ? pat[r % 6] : a; c.s = r < 36 ? pat[r / 6] : rng; if (r % 7 == 0) c.s = rng % 70; \
    u64 d0 = c.d; m_##n(&c); \
    printf(#n " | %x %x %x %x | %x %x %x %x %x %x\n", (u32)d0, (u32)(d0 >> 32), (u32)c.s, (u32)(c.s >> 32), \
      (u32)c.d, (u32)(c.d >> 32), c.save[2], c.save[4], c.save[14 + 4], c.env2[2] & 0xffff); }
  RUN(punpcklbw) RUN(punpcklwd) RUN(punpckldq) RUN(packsswb) RUN(pcmpgtb) RUN(pcmpgtw) RUN(pcmpgtd) RUN(packuswb)
  RUN(punpckhbw) RUN(punpckhwd) RUN(punpckhdq) RUN(packssdw) RUN(pcmpeqb) RUN(pcmpeqw) RUN(pcmpeqd) RUN(psrlw)
  RUN(psrld) RUN(psrlq) RUN(paddq) RUN(pmullw) RUN(psubusb) RUN(psubusw) RUN(pminub) RUN(pand) RUN(paddusb)
  RUN(paddusw) RUN(pmaxub) RUN(pandn) RUN(pavgb) RUN(psraw) RUN(psrad) RUN(pavgw) RUN(pmulhuw) RUN(pmulhw)
  RUN(psubsb) RUN(psubsw) RUN(pminsw) RUN(por) RUN(paddsb) RUN(paddsw) RUN(pmaxsw) RUN(pxor) RUN(psllw) RUN(pslld)
  RUN(psllq) RUN(pmuludq) RUN(pmaddwd) RUN(psadbw) RUN(psubb) RUN(psubw) RUN(psubd) RUN(psubq) RUN(paddb)
  RUN(paddw) RUN(paddd) RUN(movq) RUN(pshufw1b) RUN(psrlw3) RUN(psraw9) RUN(psllq33) RUN(psrad40) RUN(pinsrw2)
  return 0;
}
