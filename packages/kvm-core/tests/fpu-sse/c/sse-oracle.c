/*
 * Host oracle for the SSE/SSE2 differential tests: runs each instruction on the host CPU
 * over many operands and MXCSR settings (all exceptions masked) and prints one line per
 * case: "name kind mxcsr | inputs | outputs", all hex. The TypeScript test replays each
 * line through the FPU/SSE unit and compares bit for bit.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint32_t u32;
typedef uint64_t u64;
typedef uint8_t u8;

/* X kind: xmm0 = xmm0 op xmm1 (register form). */
#define XOP(fn, insn) static void fn(u32 *d, const u32 *s, u32 *mx) { \
  __asm__ volatile("ldmxcsr (%2)\n movups (%0), %%xmm0\n movups (%1), %%xmm1\n" insn "\n movups %%xmm0, (%0)\n stmxcsr (%2)" \
    :: "r"(d), "r"(s), "r"(mx) : "xmm0", "xmm1", "memory"); }
/* G kind: r = op xmm1 (32/64-bit GPR result). */
#define GOP(fn, insn) static void fn(u64 *r, const u32 *s, u32 *mx) { \
  u64 out; __asm__ volatile("ldmxcsr (%2)\n movups (%1), %%xmm1\n" insn "\n stmxcsr (%2)" \
    : "=&r"(out) : "r"(s), "r"(mx) : "xmm1", "memory"); *r = out; }
/* F kind: comis, flags out. */
#define FOP(fn, insn) static void fn(u64 *r, const u32 *d, const u32 *s, u32 *mx) { \
  u64 fl; __asm__ volatile("ldmxcsr (%3)\n movups (%1), %%xmm0\n movups (%2), %%xmm1\n" insn "\n pushfq\n popq %0\n stmxcsr (%3)" \
    : "=&r"(fl) : "r"(d), "r"(s), "r"(mx) : "xmm0", "xmm1", "memory", "cc"); *r = fl & 0x8d5; }
/* I kind: xmm0 = op(gpr). */
#define IOP(fn, insn) static void fn(u32 *d, u64 g, u32 *mx) { \
  __asm__ volatile("ldmxcsr (%2)\n movups (%0), %%xmm0\n" insn "\n movups %%xmm0, (%0)\n stmxcsr (%2)" \
    :: "r"(d), "r"(g), "r"(mx) : "xmm0", "memory"); }

#define FLOAT_OPS(P) \
  XOP(x_add##P, "add" #P " %%xmm1, %%xmm0") XOP(x_sub##P, "sub" #P " %%xmm1, %%xmm0") \
  XOP(x_mul##P, "mul" #P " %%xmm1, %%xmm0") XOP(x_div##P, "div" #P " %%xmm1, %%xmm0") \
  XOP(x_min##P, "min" #P " %%xmm1, %%xmm0") XOP(x_max##P, "max" #P " %%xmm1, %%xmm0") \
  XOP(x_sqrt##P, "sqrt" #P " %%xmm1, %%xmm0")
FLOAT_OPS(ps) FLOAT_OPS(ss) FLOAT_OPS(pd) FLOAT_OPS(sd)

#define CMP_OPS(P) \
  XOP(x_cmp0##P, "cmp" #P " $0, %%xmm1, %%xmm0") XOP(x_cmp1##P, "cmp" #P " $1, %%xmm1, %%xmm0") \
  XOP(x_cmp2##P, "cmp" #P " $2, %%xmm1, %%xmm0") XOP(x_cmp3##P, "cmp" #P " $3, %%xmm1, %%xmm0") \
  XOP(x_cmp4##P, "cmp" #P " $4, %%xmm1, %%xmm0") XOP(x_cmp5##P, "cmp" #P " $5, %%xmm1, %%xmm0") \
  XOP(x_cmp6##P, "cmp" #P " $6, %%xmm1, %%xmm0") XOP(x_cmp7##P, "cmp" #P " $7, %%xmm1, %%xmm0")
CMP_OPS(ps) CMP_OPS(ss) CMP_OPS(pd) CMP_OPS(sd)

XOP(x_cvtps2pd, "cvtps2pd %%xmm1, %%xmm0") XOP(x_cvtpd2ps, "cvtpd2ps %%xmm1, %%xmm0")
XOP(x_cvtss2sd, "cvtss2sd %%xmm1, %%xmm0") XOP(x_cvtsd2ss, "cvtsd2ss %%xmm1, %%xmm0")
XOP(x_cvtdq2ps, "cvtdq2ps %%xmm1, %%xmm0") XOP(x_cvtps2dq, "cvtps2dq %%xmm1, %%xmm0")
XOP(x_cvttps2dq, "cvttps2dq %%xmm1, %%xmm0") XOP(x_cvtdq2pd, "cvtdq2pd %%xmm1, %%xmm0")
XOP(x_cvtpd2dq, "cvtpd2dq %%xmm1, %%xmm0") XOP(x_cvttpd2dq, "cvttpd2dq %%xmm1, %%xmm0")
XOP(x_andps, "andps %%xmm1, %%xmm0") XOP(x_andnps, "andnps %%xmm1, %%xmm0")
XOP(x_orps, "orps %%xmm1, %%xmm0") XOP(x_xorpd, "xorpd %%xmm1, %%xmm0")
XOP(x_unpcklps, "unpcklps %%xmm1, %%xmm0") XOP(x_unpckhps, "unpckhps %%xmm1, %%xmm0")
XOP(x_unpcklpd, "unpcklpd %%xmm1, %%xmm0") XOP(x_unpckhpd, "unpckhpd %%xmm1, %%xmm0")
XOP(x_shufps1b, "shufps $0x1b, %%xmm1, %%xmm0") XOP(x_shufpse4, "shufps $0xe4, %%xmm1, %%xmm0")
XOP(x_shufpd1, "shufpd $1, %%xmm1, %%xmm0") XOP(x_shufpd2, "shufpd $2, %%xmm1, %%xmm0")
XOP(x_movss, "movss %%xmm1, %%xmm0") XOP(x_movsd, "movsd %%xmm1, %%xmm0")
XOP(x_movhlps, "movhlps %%xmm1, %%xmm0") XOP(x_movlhps, "movlhps %%xmm1, %%xmm0")
XOP(x_movq, "movq %%xmm1, %%xmm0")
XOP(x_addsubps, "addsubps %%xmm1, %%xmm0") XOP(x_addsubpd, "addsubpd %%xmm1, %%xmm0")
XOP(x_haddps, "haddps %%xmm1, %%xmm0") XOP(x_hsubpd, "hsubpd %%xmm1, %%xmm0")
XOP(x_movddup, "movddup %%xmm1, %%xmm0") XOP(x_movshdup, "movshdup %%xmm1, %%xmm0")
XOP(x_movsldup, "movsldup %%xmm1, %%xmm0")
XOP(x_rcpps, "rcpps %%xmm1, %%xmm0") XOP(x_rsqrtps, "rsqrtps %%xmm1, %%xmm0") XOP(x_rcpss, "rcpss %%xmm1, %%xmm0")

#define INT_OP(n) XOP(x_##n, #n " %%xmm1, %%xmm0")
INT_OP(punpcklbw) INT_OP(punpcklwd) INT_OP(punpckldq) INT_OP(packsswb) INT_OP(pcmpgtb) INT_OP(pcmpgtw)
INT_OP(pcmpgtd) INT_OP(packuswb) INT_OP(punpckhbw) INT_OP(punpckhwd) INT_OP(punpckhdq) INT_OP(packssdw)
INT_OP(punpcklqdq) INT_OP(punpckhqdq) INT_OP(pcmpeqb) INT_OP(pcmpeqw) INT_OP(pcmpeqd)
INT_OP(psrlw) INT_OP(psrld) INT_OP(psrlq) INT_OP(paddq) INT_OP(pmullw) INT_OP(psubusb) INT_OP(psubusw)
INT_OP(pminub) INT_OP(pand) INT_OP(paddusb) INT_OP(paddusw) INT_OP(pmaxub) INT_OP(pandn) INT_OP(pavgb)
INT_OP(psraw) INT_OP(psrad) INT_OP(pavgw) INT_OP(pmulhuw) INT_OP(pmulhw) INT_OP(psubsb) INT_OP(psubsw)
INT_OP(pminsw) INT_OP(por) INT_OP(paddsb) INT_OP(paddsw) INT_OP(pmaxsw) INT_OP(pxor) INT_OP(psllw)
INT_OP(pslld) INT_OP(psllq) INT_OP(pmuludq) INT_OP(pmaddwd) INT_OP(psadbw) INT_OP(psubb) INT_OP(psubw)
INT_OP(psubd) INT_OP(psubq) INT_OP(paddb) INT_OP(paddw) INT_OP(paddd)
XOP(x_pshufd1b, "pshufd $0x1b, %%xmm1, %%xmm0") XOP(x_pshufhw93, "pshufhw $0x93, %%xmm1, %%xmm0")
XOP(x_pshuflw4e, "pshuflw $0x4e, %%xmm1, %%xmm0")
XOP(x_psrlw3, "psrlw $3, %%xmm0") XOP(x_psraw15, "psraw $15, %%xmm0") XOP(x_psllw17, "psllw $17, %%xmm0")
XOP(x_psrld7, "psrld $7, %%xmm0") XOP(x_psrad33, "psrad $33, %%xmm0") XOP(x_pslld31, "pslld $31, %%xmm0")
XOP(x_psrlq1, "psrlq $1, %%xmm0") XOP(x_psllq40, "psllq $40, %%xmm0") XOP(x_psrldq5, "psrldq $5, %%xmm0")
XOP(x_pslldq9, "pslldq $9, %%xmm0") XOP(x_pslldq17, "pslldq $17, %%xmm0")
XOP(x_pinsrw5, "movd %%xmm1, %%eax\n pinsrw $5, %%eax, %%xmm0")

/* SSSE3 / SSE4.1 / SSE4.2 PCMPGTQ */
INT_OP(pshufb) INT_OP(phaddw) INT_OP(phaddd) INT_OP(phaddsw) INT_OP(pmaddubsw) INT_OP(phsubw) INT_OP(phsubd)
INT_OP(phsubsw) INT_OP(psignb) INT_OP(psignw) INT_OP(psignd) INT_OP(pmulhrsw) INT_OP(pabsb) INT_OP(pabsw) INT_OP(pabsd)
INT_OP(pmovsxbw) INT_OP(pmovsxbd) INT_OP(pmovsxbq) INT_OP(pmovsxwd) INT_OP(pmovsxwq) INT_OP(pmovsxdq)
INT_OP(pmovzxbw) INT_OP(pmovzxbd) INT_OP(pmovzxbq) INT_OP(pmovzxwd) INT_OP(pmovzxwq) INT_OP(pmovzxdq)
INT_OP(pmuldq) INT_OP(pcmpeqq) INT_OP(packusdw) INT_OP(pcmpgtq) INT_OP(pminsb) INT_OP(pminsd) INT_OP(pminuw)
INT_OP(pminud) INT_OP(pmaxsb) INT_OP(pmaxsd) INT_OP(pmaxuw) INT_OP(pmaxud) INT_OP(pmulld) INT_OP(phminposuw)
XOP(x_palignr5, "palignr $5, %%xmm1, %%xmm0") XOP(x_palignr17, "palignr $17, %%xmm1, %%xmm0")
XOP(x_pblendvb, "pblendvb %%xmm0, %%xmm1, %%xmm0") XOP(x_blendvps, "blendvps %%xmm0, %%xmm1, %%xmm0")
XOP(x_blendvpd, "blendvpd %%xmm0, %%xmm1, %%xmm0") XOP(x_blendps5, "blendps $5, %%xmm1, %%xmm0")
XOP(x_blendpd2, "blendpd $2, %%xmm1, %%xmm0") XOP(x_pblendw5a, "pblendw $0x5a, %%xmm1, %%xmm0")
XOP(x_mpsadbw5, "mpsadbw $5, %%xmm1, %%xmm0") XOP(x_mpsadbw2, "mpsadbw $2, %%xmm1, %%xmm0")
XOP(x_insertps9a, "insertps $0x9a, %%xmm1, %%xmm0") XOP(x_insertps31, "insertps $0x31, %%xmm1, %%xmm0")
XOP(x_roundps0, "roundps $0, %%xmm1, %%xmm0") XOP(x_roundps1, "roundps $1, %%xmm1, %%xmm0")
XOP(x_roundps2, "roundps $2, %%xmm1, %%xmm0") XOP(x_roundps3, "roundps $3, %%xmm1, %%xmm0")
XOP(x_roundps4, "roundps $4, %%xmm1, %%xmm0") XOP(x_roundps8, "roundps $8, %%xmm1, %%xmm0")
XOP(x_roundss1, "roundss $1, %%xmm1, %%xmm0") XOP(x_roundpd0, "roundpd $0, %%xmm1, %%xmm0")
XOP(x_roundpd3, "roundpd $3, %%xmm1, %%xmm0") XOP(x_roundsd4, "roundsd $4, %%xmm1, %%xmm0")
XOP(x_dppsf1, "dpps $0xf1, %%xmm1, %%xmm0") XOP(x_dpps3c, "dpps $0x3c, %%xmm1, %%xmm0")
XOP(x_dppd31, "dppd $0x31, %%xmm1, %%xmm0")
FOP(f_ptest, "ptest %%xmm1, %%xmm0")
GOP(g_pextrb9, "pextrb $9, %%xmm1, %k0") GOP(g_pextrd2, "pextrd $2, %%xmm1, %k0")
GOP(g_pextrq1, "pextrq $1, %%xmm1, %q0") GOP(g_extractps3, "extractps $3, %%xmm1, %k0")
IOP(i_pinsrb7, "pinsrb $7, %k1, %%xmm0") IOP(i_pinsrd2, "pinsrd $2, %k1, %%xmm0") IOP(i_pinsrq1, "pinsrq $1, %q1, %%xmm0")

/* SSE4.2 string compares (S kind) and CRC32 (C kind) */
#define SOP(fn, insn) static void fn(u32 *d, const u32 *s, u64 ax, u64 dx, u64 *rcx, u64 *fl) { \
  u64 c, f; __asm__ volatile("movups (%2), %%xmm0\n movups (%3), %%xmm1\n mov %4, %%rax\n mov %5, %%rdx\n mov $0x5555, %%ecx\n" insn \
    "\n pushfq\n popq %1\n movups %%xmm0, (%2)\n mov %%rcx, %0" \
    : "=&r"(c), "=&r"(f) : "r"(d), "r"(s), "r"(ax), "r"(dx) : "rax", "rcx", "rdx", "xmm0", "xmm1", "memory", "cc"); \
  *rcx = c; *fl = f & 0x8d5; }
#define SOPS(imm) SOP(s_pcmpistri##imm, "pcmpistri $" #imm ", %%xmm1, %%xmm0") SOP(s_pcmpestri##imm, "pcmpestri $" #imm ", %%xmm1, %%xmm0") \
  SOP(s_pcmpistrm##imm, "pcmpistrm $" #imm ", %%xmm1, %%xmm0") SOP(s_pcmpestrm##imm, "pcmpestrm $" #imm ", %%xmm1, %%xmm0") \
  SOP(s_pcmpestrq##imm, "pcmpestriq $" #imm ", %%xmm1, %%xmm0")
SOPS(0x00) SOPS(0x04) SOPS(0x08) SOPS(0x0c) SOPS(0x18) SOPS(0x3a) SOPS(0x44) SOPS(0x01) SOPS(0x0d) SOPS(0x1a)
SOPS(0x70) SOPS(0x4c) SOPS(0x36) SOPS(0x02) SOPS(0x07) SOPS(0x4b)
#define COP(fn, insn) static void fn(u64 *r, u64 init, u64 src) { u64 c = init; \
  __asm__ volatile(insn : "+r"(c) : "r"(src)); *r = c; }
COP(c_crc32b, "crc32b %b1, %k0") COP(c_crc32l, "crc32l %k1, %k0") COP(c_crc32q, "crc32q %q1, %q0")

GOP(g_cvtss2si, "cvtss2si %%xmm1, %k0") GOP(g_cvtss2si64, "cvtss2si %%xmm1, %q0")
GOP(g_cvttss2si, "cvttss2si %%xmm1, %k0") GOP(g_cvttss2si64, "cvttss2si %%xmm1, %q0")
GOP(g_cvtsd2si, "cvtsd2si %%xmm1, %k0") GOP(g_cvtsd2si64, "cvtsd2si %%xmm1, %q0")
GOP(g_cvttsd2si, "cvttsd2si %%xmm1, %k0") GOP(g_cvttsd2si64, "cvttsd2si %%xmm1, %q0")
GOP(g_movmskps, "movmskps %%xmm1, %k0") GOP(g_movmskpd, "movmskpd %%xmm1, %k0")
GOP(g_pmovmskb, "pmovmskb %%xmm1, %k0") GOP(g_pextrw6, "pextrw $6, %%xmm1, %k0")
GOP(g_movd, "movd %%xmm1, %k0") GOP(g_movq64, "movq %%xmm1, %q0")

FOP(f_comiss, "comiss %%xmm1, %%xmm0") FOP(f_ucomiss, "ucomiss %%xmm1, %%xmm0")
FOP(f_comisd, "comisd %%xmm1, %%xmm0") FOP(f_ucomisd, "ucomisd %%xmm1, %%xmm0")

IOP(i_cvtsi2ss, "cvtsi2ss %k1, %%xmm0") IOP(i_cvtsi2ss64, "cvtsi2ss %q1, %%xmm0")
IOP(i_cvtsi2sd, "cvtsi2sd %k1, %%xmm0") IOP(i_cvtsi2sd64, "cvtsi2sd %q1, %%xmm0")
IOP(i_movd, "movd %k1, %%xmm0") IOP(i_movq64, "movq %q1, %%xmm0")

typedef void (*xfn)(u32 *, const u32 *, u32 *);
typedef void (*gfn)(u64 *, const u32 *, u32 *);
typedef void (*ffn)(u64 *, const u32 *, const u32 *, u32 *);
typedef void (*ifn)(u32 *, u64, u32 *);

static u64 rng = 0x9e3779b97f4a7c15ull;
static u32 rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (u32)(rng >> 16); }

static const u32 F32V[] = {
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40000000, 0x40400000, 0x3dcccccd,
  0x7149f2ca, 0xf149f2ca, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x80800000, 0x00000001, 0x007fffff,
  0x80400000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0xff812345, 0x3eaaaaab,
  0x4b800000, 0x4b800001, 0x4f000000, 0xcf000000, 0x5f000000, 0xdf000001, 0x3f000000, 0x40200000,
  0x00c00000, 0x0ffffff0, 0x1fffffff, 0x3f7fffff, 0x34000001, 0x7e800000, 0x01000001, 0xc0a00000,
};
static const u64 F64V[] = {
  0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
  0x3ff8000000000000ull, 0x4000000000000000ull, 0x3fb999999999999aull, 0x7fefffffffffffffull,
  0xffefffffffffffffull, 0x0010000000000000ull, 0x8010000000000000ull, 0x0000000000000001ull,
  0x000fffffffffffffull, 0x8008000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
  0x7ff8000000000000ull, 0xfff8000000000001ull, 0x7ff0000000000001ull, 0xfff0000012345678ull,
  0x3fd5555555555555ull, 0x4340000000000000ull, 0x4340000000000001ull, 0x41e0000000000000ull,
  0xc1e0000000000000ull, 0x43e0000000000000ull, 0xc3e0000000000000ull, 0x3fe0000000000000ull,
  0x4004000000000000ull, 0x47efffffe0000000ull, 0x36a0000000000000ull, 0x3810000000000000ull,
  0x380fffffffffffffull, 0x7fe0000000000000ull, 0x0020000000000001ull, 0x3ca0000000000001ull,
  0x41dfffffffc00000ull, 0xc1e0000000200000ull, 0x3fefffffffffffffull, 0x47efffffefffffffull,
};
#define NF32 (sizeof F32V / sizeof F32V[0])
#define NF64 (sizeof F64V / sizeof F64V[0])
static const u32 MX[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0, 0xff80 };
#define NMX (sizeof MX / sizeof MX[0])

static void pr4(const u32 *v) { printf(" %x %x %x %x", v[0], v[1], v[2], v[3]); }

static void runX(const char *name, xfn f, const u32 *d0, const u32 *s, u32 mx) {
  u32 d[4]; memcpy(d, d0, 16); u32 m = mx;
  f(d, s, &m);
  printf("%s X %x |", name, mx); pr4(d0); pr4(s); printf(" |"); pr4(d); printf(" %x\n", m);
}

/* single-precision pairs: lanes hold different pairs */
static void singles(const char *name, xfn f, int scalar) {
  for (unsigned m = 0; m < NMX; m += scalar >= 2 ? 4 : scalar ? 2 : 1) {
    unsigned k = 0;
    for (unsigned i = 0; i < NF32; i++) for (unsigned j = 0; j < NF32; j += scalar == 3 ? 12 : scalar == 1 ? 3 : 4) {
      u32 d[4], s[4];
      for (int l = 0; l < 4; l++) {
        d[l] = F32V[i]; s[l] = F32V[(j + l) % NF32];
        if (scalar == 1 && l) { d[l] = rnd(); s[l] = rnd(); }
      }
      runX(name, f, d, s, MX[m]);
      k++;
    }
    for (int r = 0; r < (scalar >= 2 ? 30 : 100); r++) {
      u32 d[4], s[4];
      for (int l = 0; l < 4; l++) {
        d[l] = rnd(); s[l] = rnd();
        if (r & 1) { d[l] = (d[l] & 0x81ffffff) | 0x3e000000; s[l] = (s[l] & 0x81ffffff) | 0x3e000000; }
        if (r % 4 == 2) { /* around the underflow threshold: tininess before/after rounding, FTZ */
          d[l] = (rnd() & 0x807fffff) | ((rnd() % 3) << 23);
          s[l] = (rnd() & 1) ? (0x3f7ff000 | (rnd() & 0xfff)) : (0x3f800000 | (rnd() & 0xfff));
          if (r % 8 == 6) s[l] = 0x3f000000 | (rnd() & 0x7fffff);
        }
      }
      runX(name, f, d, s, MX[m]);
    }
  }
}

static void doubles(const char *name, xfn f, int scalar) {
  for (unsigned m = 0; m < NMX; m += scalar >= 2 ? 4 : scalar ? 2 : 1) {
    for (unsigned i = 0; i < NF64; i++) for (unsigned j = 0; j < NF64; j += scalar == 3 ? 8 : scalar == 1 ? 3 : 2) {
      u64 d[2], s[2];
      d[0] = F64V[i]; s[0] = F64V[j]; d[1] = F64V[(i + 7) % NF64]; s[1] = F64V[(j + 1) % NF64];
      if (scalar == 1) { d[1] = ((u64)rnd() << 32) | rnd(); s[1] = ((u64)rnd() << 32) | rnd(); }
      runX(name, f, (u32 *)d, (u32 *)s, MX[m]);
    }
    for (int r = 0; r < (scalar >= 2 ? 30 : 100); r++) {
      u64 d[2], s[2];
      for (int l = 0; l < 2; l++) {
        d[l] = ((u64)rnd() << 32) | rnd(); s[l] = ((u64)rnd() << 32) | rnd();
        if (r & 1) {
          d[l] = (d[l] & 0x800fffffffffffffull) | ((u64)(0x3c0 + (rnd() % 0x80)) << 52);
          s[l] = (s[l] & 0x800fffffffffffffull) | ((u64)(0x3c0 + (rnd() % 0x80)) << 52);
        }
        if (r % 4 == 2) {
          d[l] = ((u64)rnd() << 32 | rnd()) & 0x800fffffffffffffull; d[l] |= (u64)(rnd() % 3) << 52;
          s[l] = (rnd() & 1) ? 0x3feffffffff00000ull | rnd() % 0xfffff : 0x3ff0000000000000ull | rnd() % 0xfffff;
          if (r % 8 == 6) s[l] = 0x3fe0000000000000ull | (((u64)rnd() << 32 | rnd()) & 0xfffffffffffffull);
        }
      }
      runX(name, f, (u32 *)d, (u32 *)s, MX[m]);
    }
  }
}

static void ints(const char *name, xfn f) {
  static const u32 pat[] = { 0, 0xffffffff, 0x7f7f7f7f, 0x80808080, 0x7fff8000, 0x00ff01fe, 0x12345678, 0x8000ffff };
  for (int r = 0; r < 300; r++) {
    u32 d[4], s[4];
    for (int l = 0; l < 4; l++) {
      d[l] = r < 64 ? pat[(r + l) % 8] : rnd();
      s[l] = r < 64 ? pat[(r / 8 + 3 * l) % 8] : rnd();
    }
    if (r % 5 == 0) { s[0] = rnd() % 70; s[1] = r % 10 == 0 ? 1 : 0; }  /* shift counts */
    runX(name, f, d, s, 0x1f80);
  }
}

static void runG(const char *name, gfn f, int dbl) {
  for (unsigned m = 0; m < NMX; m++) {
    unsigned n = dbl ? NF64 : NF32;
    for (unsigned i = 0; i < n + 100; i++) {
      u32 s[4] = { rnd(), rnd(), rnd(), rnd() };
      if (i < n) { if (dbl) memcpy(s, &F64V[i], 8); else s[0] = F32V[i]; }
      else if (i & 1) { if (dbl) s[1] = (s[1] & 0x800fffff) | ((0x3d0 + rnd() % 0x80) << 20); else s[0] = (s[0] & 0x81ffffff) | 0x4a000000; }
      u64 r = 0; u32 mx = MX[m];
      f(&r, s, &mx);
      printf("%s G %x |", name, MX[m]); pr4(s); printf(" | %x %x %x\n", (u32)r, (u32)(r >> 32), mx);
    }
  }
}

static void runF(const char *name, ffn f, int dbl) {
  unsigned n = dbl ? NF64 : NF32;
  for (unsigned m = 0; m < NMX; m += 4) for (unsigned i = 0; i < n; i++) for (unsigned j = 0; j < n; j++) {
    u32 d[4] = { 0, 0, 0, 0 }, s[4] = { 0, 0, 0, 0 };
    if (dbl) { memcpy(d, &F64V[i], 8); memcpy(s, &F64V[j], 8); } else { d[0] = F32V[i]; s[0] = F32V[j]; }
    u64 r; u32 mx = MX[m];
    f(&r, d, s, &mx);
    printf("%s F %x |", name, MX[m]); pr4(d); pr4(s); printf(" | %x %x\n", (u32)r, mx);
  }
}

static void runI(const char *name, ifn f) {
  static const u64 iv[] = { 0, 1, 0xffffffffffffffffull, 0x7fffffff, 0x80000000, 0xffffffff80000000ull,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0x1000001, 0x1000003, 0x20000000000001ull, 0xfffffffffefffffdull,
    0x123456789abcdefull, 0x7ffffffffffffdffull };
  for (unsigned m = 0; m < NMX; m++) for (unsigned i = 0; i < 14 + 100; i++) {
    u64 g = i < 14 ? iv[i] : ((u64)rnd() << 32 | rnd()) >> (rnd() % 64);
    if (i >= 14 && (i & 1)) g = -g;
    u32 d[4] = { rnd(), rnd(), rnd(), rnd() }, d0[4]; memcpy(d0, d, 16);
    u32 mx = MX[m];
    f(d, g, &mx);
    printf("%s I %x |", name, MX[m]); pr4(d0); printf(" %x %x |", (u32)g, (u32)(g >> 32)); pr4(d); printf(" %x\n", mx);
  }
}

typedef void (*sfn)(u32 *, const u32 *, u64, u64, u64 *, u64 *);
static void runS(const char *name, sfn f, int explicit64) {
  for (int r = 0; r < 200; r++) {
    u32 d[4], s[4];
    unsigned char *db = (unsigned char *)d, *sb = (unsigned char *)s;
    for (int i = 0; i < 16; i++) {
      unsigned k = rnd();
      db[i] = r % 3 == 0 ? (u8)k : "abcd0az9"[k % 8] - (k % 19 == 0 ? 'a' : 0);
      k = rnd();
      sb[i] = r % 3 == 0 ? (u8)k : "abcdxyz!"[k % 8] - (k % 23 == 0 ? 'a' : 0);
    }
    if (r % 5 == 1) memcpy(sb + 3, db, 4);
    u64 ax = (u64)(long)((int)(rnd() % 41) - 20), dx = (u64)(long)((int)(rnd() % 41) - 20);
    if (explicit64 && r % 4 == 0) { ax = 0x8000000000000001ull; dx = (u64)-5; }
    if (explicit64 && r % 4 == 1) { ax = 0x100000003ull; dx = 0xffffffff00000002ull; }
    u32 d0[4]; memcpy(d0, d, 16);
    u64 c, fl;
    f(d, s, ax, dx, &c, &fl);
    printf("%s S 1f80 |", name); pr4(d0); pr4(s); printf(" %x %x %x %x | %x", (u32)ax, (u32)(ax >> 32), (u32)dx, (u32)(dx >> 32), (u32)c);
    pr4(d); printf(" %x\n", (u32)fl);
  }
}
typedef void (*cfn)(u64 *, u64, u64);
static void runC(const char *name, cfn f) {
  for (int r = 0; r < 300; r++) {
    u64 init = ((u64)rnd() << 32) | rnd(), src = ((u64)rnd() << 32) | rnd(), res;
    if (r < 4) init = r & 1 ? ~0ull : 0;
    f(&res, init, src);
    printf("%s C 0 | %x %x %x %x | %x %x\n", name, (u32)init, (u32)(init >> 32), (u32)src, (u32)(src >> 32), (u32)res, (u32)(res >> 32));
  }
}

int main(void) {
#define S(n, s) singles(#n, x_##n, s);
#define D(n, s) doubles(#n, x_##n, s);
  S(addps, 0) S(subps, 0) S(mulps, 0) S(divps, 0) S(minps, 0) S(maxps, 0) S(sqrtps, 0)
  S(addss, 1) S(subss, 1) S(mulss, 1) S(divss, 1) S(minss, 1) S(maxss, 1) S(sqrtss, 1)
  D(addpd, 0) D(subpd, 0) D(mulpd, 0) D(divpd, 0) D(minpd, 0) D(maxpd, 0) D(sqrtpd, 0)
  D(addsd, 1) D(subsd, 1) D(mulsd, 1) D(divsd, 1) D(minsd, 1) D(maxsd, 1) D(sqrtsd, 1)
  S(cmp0ps, 2) S(cmp1ps, 2) S(cmp2ps, 2) S(cmp3ps, 2) S(cmp4ps, 2) S(cmp5ps, 2) S(cmp6ps, 2) S(cmp7ps, 2)
  S(cmp1ss, 1) S(cmp4ss, 1)
  D(cmp0pd, 2) D(cmp1pd, 2) D(cmp2pd, 2) D(cmp3pd, 2) D(cmp4pd, 2) D(cmp5pd, 2) D(cmp6pd, 2) D(cmp7pd, 2)
  D(cmp2sd, 1) D(cmp7sd, 1)
  S(cvtps2pd, 0) S(cvtss2sd, 1) D(cvtpd2ps, 0) D(cvtsd2ss, 1) S(cvtdq2ps, 0) S(cvtps2dq, 0) S(cvttps2dq, 0)
  S(cvtdq2pd, 0) D(cvtpd2dq, 0) D(cvttpd2dq, 0)
  S(andps, 3) S(andnps, 3) S(orps, 3) D(xorpd, 3) S(unpcklps, 3) S(unpckhps, 3) D(unpcklpd, 3) D(unpckhpd, 3)
  S(shufps1b, 3) S(shufpse4, 3) D(shufpd1, 3) D(shufpd2, 3) S(movss, 3) D(movsd, 3) S(movhlps, 3) S(movlhps, 3)
  D(movq, 3) S(addsubps, 0) D(addsubpd, 0) S(haddps, 0) D(hsubpd, 0) D(movddup, 3) S(movshdup, 3) S(movsldup, 3)
#define N(n) ints(#n, x_##n);
  N(punpcklbw) N(punpcklwd) N(punpckldq) N(packsswb) N(pcmpgtb) N(pcmpgtw) N(pcmpgtd) N(packuswb) N(punpckhbw)
  N(punpckhwd) N(punpckhdq) N(packssdw) N(punpcklqdq) N(punpckhqdq) N(pcmpeqb) N(pcmpeqw) N(pcmpeqd)
  N(psrlw) N(psrld) N(psrlq) N(paddq) N(pmullw) N(psubusb) N(psubusw) N(pminub) N(pand) N(paddusb) N(paddusw)
  N(pmaxub) N(pandn) N(pavgb) N(psraw) N(psrad) N(pavgw) N(pmulhuw) N(pmulhw) N(psubsb) N(psubsw) N(pminsw)
  N(por) N(paddsb) N(paddsw) N(pmaxsw) N(pxor) N(psllw) N(pslld) N(psllq) N(pmuludq) N(pmaddwd) N(psadbw)
  N(psubb) N(psubw) N(psubd) N(psubq) N(paddb) N(paddw) N(paddd)
  N(pshufd1b) N(pshufhw93) N(pshuflw4e) N(psrlw3) N(psraw15) N(psllw17) N(psrld7) N(psrad33) N(pslld31)
  N(psrlq1) N(psllq40) N(psrldq5) N(pslldq9) N(pslldq17) N(pinsrw5)
  N(pshufb) N(phaddw) N(phaddd) N(phaddsw) N(pmaddubsw) N(phsubw) N(phsubd) N(phsubsw) N(psignb) N(psignw)
  N(psignd) N(pmulhrsw) N(pabsb) N(pabsw) N(pabsd) N(pmovsxbw) N(pmovsxbd) N(pmovsxbq) N(pmovsxwd) N(pmovsxwq)
  N(pmovsxdq) N(pmovzxbw) N(pmovzxbd) N(pmovzxbq) N(pmovzxwd) N(pmovzxwq) N(pmovzxdq) N(pmuldq) N(pcmpeqq)
  N(packusdw) N(pcmpgtq) N(pminsb) N(pminsd) N(pminuw) N(pminud) N(pmaxsb) N(pmaxsd) N(pmaxuw) N(pmaxud)
  N(pmulld) N(phminposuw) N(palignr5) N(palignr17) N(pblendvb) N(blendvps) N(blendvpd) N(blendps5) N(blendpd2)
  N(pblendw5a) N(mpsadbw5) N(mpsadbw2) N(insertps9a) N(insertps31)
  S(roundps0, 0) S(roundps1, 0) S(roundps2, 0) S(roundps3, 0) S(roundps4, 0) S(roundps8, 0) S(roundss1, 1)
  D(roundpd0, 0) D(roundpd3, 0) D(roundsd4, 1) S(dppsf1, 0) S(dpps3c, 0) D(dppd31, 0)
#define G(n, d) runG(#n, g_##n, d);
  G(pextrb9, 0) G(pextrd2, 0) G(pextrq1, 1) G(extractps3, 0)
  G(cvtss2si, 0) G(cvtss2si64, 0) G(cvttss2si, 0) G(cvttss2si64, 0)
  G(cvtsd2si, 1) G(cvtsd2si64, 1) G(cvttsd2si, 1) G(cvttsd2si64, 1)
  G(movmskps, 0) G(movmskpd, 1) G(pmovmskb, 0) G(pextrw6, 0) G(movd, 0) G(movq64, 1)
#define F(n, d) runF(#n, f_##n, d);
#define SS(imm) runS("pcmpistri" #imm, s_pcmpistri##imm, 0); runS("pcmpestri" #imm, s_pcmpestri##imm, 0); \
  runS("pcmpistrm" #imm, s_pcmpistrm##imm, 0); runS("pcmpestrm" #imm, s_pcmpestrm##imm, 0); runS("pcmpestrq" #imm, s_pcmpestrq##imm, 1);
  SS(0x00) SS(0x04) SS(0x08) SS(0x0c) SS(0x18) SS(0x3a) SS(0x44) SS(0x01) SS(0x0d) SS(0x1a) SS(0x70) SS(0x4c)
  SS(0x36) SS(0x02) SS(0x07) SS(0x4b)
  runC("crc32b", c_crc32b); runC("crc32l", c_crc32l); runC("crc32q", c_crc32q);
  F(comiss, 0) F(ucomiss, 0) F(comisd, 1) F(ucomisd, 1) F(ptest, 1)
#define I(n) runI(#n, i_##n);
  I(pinsrb7) I(pinsrd2) I(pinsrq1) I(cvtsi2ss) I(cvtsi2ss64) I(cvtsi2sd) I(cvtsi2sd64) I(movd) I(movq64)
  return 0;
}
