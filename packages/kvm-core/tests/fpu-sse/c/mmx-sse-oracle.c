/*
 * Host oracle for the MMX<->SSE conversions and moves (CVTPI2PS CVTPI2PD CVT(T)PS2PI
 * CVT(T)PD2PI MOVQ2DQ MOVDQ2Q MASKMOVQ MASKMOVDQU): one line per case with the XMM0/MM0
 * inputs, the result, MXCSR, the FSW/FTW of FNSTENV afterwards and the bytes MASKMOV*
 * stored. All MXCSR exceptions masked.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
typedef uint16_t u16; typedef uint32_t u32; typedef uint64_t u64; typedef uint8_t u8;
struct ctx { u32 x0[4], x1[4]; u64 m0, m1; u32 mx; u16 env[14]; u8 buf[16]; };

#define OP(fn, insn) static void fn(struct ctx *c) { __asm__ volatile( \
  "fninit\n fld1\n ldmxcsr %[mx]\n movups %[x0], %%xmm0\n movups %[x1], %%xmm1\n movq %[m0], %%mm0\n movq %[m1], %%mm1\n" \
  "lea %[buf], %%rdi\n" insn "\n stmxcsr %[mx]\n movups %%xmm0, %[x0]\n movq %%mm0, %[m0]\n fnstenv %[env]\n emms\n fninit\n" \
  : [x0] "+m"(c->x0), [m0] "+m"(c->m0), [mx] "+m"(c->mx), [env] "=m"(c->env), [buf] "+m"(c->buf) \
  : [x1] "m"(c->x1), [m1] "m"(c->m1) : "rdi", "xmm0", "xmm1", "mm0", "mm1", "memory"); }

OP(o_cvtpi2ps, "cvtpi2ps %%mm1, %%xmm0") OP(o_cvtpi2pd, "cvtpi2pd %%mm1, %%xmm0")
OP(o_cvtps2pi, "cvtps2pi %%xmm1, %%mm0") OP(o_cvttps2pi, "cvttps2pi %%xmm1, %%mm0")
OP(o_cvtpd2pi, "cvtpd2pi %%xmm1, %%mm0") OP(o_cvttpd2pi, "cvttpd2pi %%xmm1, %%mm0")
OP(o_movq2dq, "movq2dq %%mm1, %%xmm0") OP(o_movdq2q, "movdq2q %%xmm1, %%mm0")
OP(o_maskmovq, "maskmovq %%mm1, %%mm0") OP(o_maskmovdqu, "maskmovdqu %%xmm1, %%xmm0")

static u64 rng = 0x1234567887654321ull;
static u32 rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (u32)(rng >> 11); }

int main(void) {
  static const u32 fv[] = { 0x3f800000, 0xbfc00000, 0x4f000000, 0xcf000001, 0x7fc00000, 0x40200000, 0x00000001, 0x5f000000 };
  static const u32 MX[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0 };
#define RUN(n) for (int r = 0; r < 160; r++) { struct ctx c; memset(&c, 0, sizeof c); \
    for (int i = 0; i < 4; i++) { c.x0[i] = rnd(); c.x1[i] = r < 64 ? fv[(r + i) % 8] : rnd(); } \
    if (r % 3 == 1) { c.x1[1] = (c.x1[1] & 0x800fffff) | 0x41d00000; c.x1[3] = (c.x1[3] & 0x800fffff) | 0x41e00000; } \
    c.m0 = ((u64)rnd() << 32) | rnd(); c.m1 = ((u64)rnd() << 32) | rnd(); c.mx = MX[r % 5]; \
    for (int i = 0; i < 16; i++) c.buf[i] = (u8)(0xa0 + i); \
    struct ctx in = c; o_##n(&c); \
    printf(#n " | %x %x %x %x %x %x %x %x %x %x %x %x %x |", in.x0[0], in.x0[1], in.x0[2], in.x0[3], in.x1[0], in.x1[1], \
      in.x1[2], in.x1[3], (u32)in.m0, (u32)(in.m0 >> 32), (u32)in.m1, (u32)(in.m1 >> 32), in.mx); \
    printf(" %x %x %x %x %x %x %x %x %x", c.x0[0], c.x0[1], c.x0[2], c.x0[3], (u32)c.m0, (u32)(c.m0 >> 32), c.mx, c.env[2], c.env[4]); \
    for (int i = 0; i < 16; i += 4) printf(" %x", c.buf[i] | c.buf[i + 1] << 8 | c.buf[i + 2] << 16 | (u32)c.buf[i + 3] << 24); \
    printf("\n"); }
  RUN(cvtpi2ps) RUN(cvtpi2pd) RUN(cvtps2pi) RUN(cvttps2pi) RUN(cvtpd2pi) RUN(cvttpd2pi) RUN(movq2dq) RUN(movdq2q)
  RUN(maskmovq) RUN(maskmovdqu)
  return 0;
}
