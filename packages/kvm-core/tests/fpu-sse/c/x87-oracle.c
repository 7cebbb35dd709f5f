/*
 * Host oracle for the x87 differential tests. Each case runs
 *   FNINIT; FLDCW cw; FLD m80 b; FLD m80 a; <instruction>; FNSTENV; FSTP m80 r0; FSTP m80 r1
 * on the host CPU (memory operand `mem` preloaded with `m`) and prints the FCW, inputs,
 * FSW and full tag word from the FNSTENV image, both popped results, the memory operand
 * after the instruction and EFLAGS (ZF PF CF). All exceptions are masked.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint16_t u16; typedef uint32_t u32; typedef uint64_t u64;
struct f80 { u64 m; u16 se; } __attribute__((packed));
struct ctx { u16 cw; struct f80 a, b, r0, r1; u64 mem; u32 env[7]; u64 fl; };

#define X87OP(fn, insn) static void fn(struct ctx *c) { u64 fl; __asm__ volatile( \
  "fninit\n fldcw %[cw]\n fldt %[b]\n fldt %[a]\n" insn "\n pushfq\n popq %[fl]\n fnstenv %[env]\n fnclex\n fstpt %[r0]\n fstpt %[r1]\n" \
  : [env] "=m"(c->env), [r0] "=m"(c->r0), [r1] "=m"(c->r1), [mem] "+m"(c->mem), [fl] "=r"(fl) \
  : [cw] "m"(c->cw), [a] "m"(c->a), [b] "m"(c->b) : "memory", "cc"); c->fl = fl & 0x45; }

X87OP(o_fadd, "fadd %%st(1), %%st") X87OP(o_fsub, "fsub %%st(1), %%st") X87OP(o_fsubr, "fsubr %%st(1), %%st")
X87OP(o_fmul, "fmul %%st(1), %%st") X87OP(o_fdiv, "fdiv %%st(1), %%st") X87OP(o_fdivr, "fdivr %%st(1), %%st")
X87OP(o_faddp, "faddp %%st, %%st(1)") X87OP(o_fsubp_st1, ".byte 0xde, 0xe9") X87OP(o_fdivp_st1, ".byte 0xde, 0xf9")
X87OP(o_fsqrt, "fsqrt") X87OP(o_frndint, "frndint") X87OP(o_fscale, "fscale") X87OP(o_fprem, "fprem")
X87OP(o_fprem1, "fprem1") X87OP(o_fxtract, "fxtract") X87OP(o_fcom, "fcom %%st(1)") X87OP(o_fucom, "fucom %%st(1)")
X87OP(o_fcompp, "fcompp") X87OP(o_fxam, "fxam") X87OP(o_ftst, "ftst") X87OP(o_fcomi, "fcomi %%st(1), %%st")
X87OP(o_fucomip, "fucomip %%st(1), %%st") X87OP(o_fchs, "fchs") X87OP(o_fabs, "fabs") X87OP(o_fxch, "fxch %%st(1)")
X87OP(o_fsts, "fsts %[mem]") X87OP(o_fstl, "fstl %[mem]") X87OP(o_fists, "fists %[mem]") X87OP(o_fistl, "fistl %[mem]")
X87OP(o_fistpll, "fistpll %[mem]") X87OP(o_fisttpl, "fisttpl %[mem]") X87OP(o_fisttpll, "fisttpll %[mem]")
X87OP(o_flds, "flds %[mem]") X87OP(o_fldl, "fldl %[mem]") X87OP(o_fadds, "fadds %[mem]") X87OP(o_fmull, "fmull %[mem]")
X87OP(o_fdivrl, "fdivrl %[mem]") X87OP(o_fiaddl, "fiaddl %[mem]") X87OP(o_fisubs, "fisubs %[mem]")
X87OP(o_fildll, "fildll %[mem]") X87OP(o_fildl, "fildl %[mem]") X87OP(o_fcoms, "fcoms %[mem]")
X87OP(o_fld1, "fld1") X87OP(o_fldpi, "fldpi") X87OP(o_fldl2e, "fldl2e") X87OP(o_fldl2t, "fldl2t")
X87OP(o_fldlg2, "fldlg2") X87OP(o_fldln2, "fldln2") X87OP(o_fldz, "fldz") X87OP(o_fincstp, "fincstp")
X87OP(o_ffree, "ffree %%st(1)") X87OP(o_fstp_st1, "fstp %%st(1)") X87OP(o_fld_st1, "fld %%st(1)")
X87OP(o_fbstp, "fbstp %[mem]")
X87OP(o_fcmovb_c1, "stc\n fcmovb %%st(1), %%st") X87OP(o_fcmovb_c0, "clc\n fcmovb %%st(1), %%st")
X87OP(o_fcmovnbe_c1, "stc\n fcmovnbe %%st(1), %%st") X87OP(o_fcmove_z1, "cmp %%esp, %%esp\n fcmove %%st(1), %%st")
X87OP(o_fcmovnu_z1, "cmp %%esp, %%esp\n fcmovnu %%st(1), %%st") X87OP(o_fcmovbe_z1, "cmp %%esp, %%esp\n fcmovbe %%st(1), %%st")
X87OP(o_fsin, "fsin") X87OP(o_fcos, "fcos") X87OP(o_fptan, "fptan") X87OP(o_fsincos, "fsincos")
X87OP(o_fpatan, "fpatan") X87OP(o_f2xm1, "f2xm1") X87OP(o_fyl2x, "fyl2x") X87OP(o_fyl2xp1, "fyl2xp1")

static const struct f80 V[] = {
  {0, 0}, {0, 0x8000}, {0x8000000000000000ull, 0x3fff}, {0x8000000000000000ull, 0xbfff},
  {0xc000000000000000ull, 0x3fff}, {0xc000000000000000ull, 0x4000}, {0xcccccccccccccccdull, 0x3ffb},
  {0xc90fdaa22168c235ull, 0x4000}, {0xffffffffffffffffull, 0x7ffe}, {0xffffffffffffffffull, 0xfffe},
  {0x8000000000000000ull, 0x0001}, {0x0000000000000001ull, 0x0000}, {0x4000000000000000ull, 0x8000},
  {0x8000000000000000ull, 0x7fff}, {0x8000000000000000ull, 0xffff}, {0xc000000000000000ull, 0x7fff},
  {0xc000000000001234ull, 0xffff}, {0x8000000000000001ull, 0x7fff}, {0xa000000000000000ull, 0xffff},
  {0xc000000000000000ull, 0xffff}, {0x4000000000000000ull, 0x3fff}, {0x8000000000000000ull, 0x403e},
  {0xffffffffffffffffull, 0x403e}, {0x8000000000000000ull, 0x3ffe}, {0xa000000000000000ull, 0x4000},
  {0x8000000000000001ull, 0x3fff}, {0x8000008000000000ull, 0x3fff}, {0x8000000000000400ull, 0x3fff},
  {0xffffff8000000000ull, 0x3fff}, {0xfffffffffffff800ull, 0x4016}, {0x8000000000000000ull, 0x3f81},
  {0x8000000000000000ull, 0x3c01}, {0xc123456789abcdefull, 0x3c00}, {0xfedcba9876543210ull, 0x407e},
  {0x8000000000000000ull, 0x401d}, {0xbfffffffffffffffull, 0x401e}, {0x8000000000000000ull, 0xc01e},
  {0x8000000000000000ull, 0x400e}, {0xfffe000000000000ull, 0x400d}, {0x8000000000000000ull, 0x43fe},
  {0, 0x7fff}, {0x4000000000000000ull, 0x7fff}, {0x8000000000000000ull, 0x0000}, {0xc000000000000001ull, 0x8000},
};
#define NV (sizeof V / sizeof V[0])

static u64 rng = 0x2545f4914f6cdd1dull;
static u64 rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static struct f80 rv(void) {
  struct f80 v; v.m = rnd() | 0x8000000000000000ull; v.se = (u16)(0x3f00 + rnd() % 0x200) | (rnd() & 1 ? 0x8000 : 0);
  return v;
}
static const u64 MEMV[] = { 0, 0x3f800000, 0xbf800001, 0x7f800001, 0x00000001, 0x7fc00000, 0x3ff0000000000001ull,
  0x000fffffffffffffull, 0x7ff0000000000001ull, 0xfff8000000000000ull, 0x7fff, 0x80000000, 0xffffffff, 0x123456789abull,
  0x8000000000000000ull, 0x43e0000000000000ull };
#define NM (sizeof MEMV / sizeof MEMV[0])

static void pf(struct f80 v) { printf(" %x %x %x", v.se, (u32)(v.m >> 32), (u32)v.m); }
static void run(const char *name, void (*f)(struct ctx *), u16 cw, struct f80 a, struct f80 b, u64 m) {
  struct ctx c; memset(&c, 0, sizeof c); c.cw = cw; c.a = a; c.b = b; c.mem = m;
  f(&c);
  printf("%s %x |", name, cw); pf(a); pf(b); printf(" %x %x |", (u32)m, (u32)(m >> 32));
  printf(" %x %x", c.env[1] & 0xffff, c.env[2] & 0xffff); pf(c.r0); pf(c.r1);
  printf(" %x %x %x\n", (u32)c.mem, (u32)(c.mem >> 32), (u32)c.fl);
}

static const u16 CWS[] = { 0x37f, 0xf7f, 0xb7f, 0x77f, 0x07f, 0x27f, 0xa7f, 0x47f };
#define NCW (sizeof CWS / sizeof CWS[0])

static void pairs(const char *name, void (*f)(struct ctx *), int ncw, int nrand) {
  for (int k = 0; k < ncw; k++) {
    for (unsigned i = 0; i < NV; i++) for (unsigned j = 0; j < NV; j++) run(name, f, CWS[k], V[i], V[j], MEMV[(i + j) % NM]);
    for (int r = 0; r < nrand; r++) run(name, f, CWS[k], rv(), rv(), MEMV[r % NM]);
  }
}
static void singles(const char *name, void (*f)(struct ctx *), int ncw) {
  for (int k = 0; k < ncw; k++) {
    for (unsigned i = 0; i < NV; i++) for (unsigned m = 0; m < NM; m++) run(name, f, CWS[k], V[i], V[(i * 7 + m) % NV], MEMV[m]);
    for (int r = 0; r < 200; r++) run(name, f, CWS[k], rv(), V[r % NV], rnd() >> (rnd() % 64));
  }
}

int main(void) {
#define P(n, k, r) pairs(#n, o_##n, k, r);
#define S(n, k) singles(#n, o_##n, k);
  P(fadd, 8, 300) P(fsub, 8, 300) P(fsubr, 2, 100) P(fmul, 8, 300) P(fdiv, 8, 300) P(fdivr, 2, 100)
  P(faddp, 1, 0) P(fsubp_st1, 1, 0) P(fdivp_st1, 1, 0)
  P(fscale, 2, 100) P(fprem, 1, 300) P(fprem1, 1, 300) P(fcom, 1, 100) P(fucom, 1, 100) P(fcompp, 1, 0)
  P(fcomi, 1, 0) P(fucomip, 1, 0) P(fxch, 1, 0)
  S(fsqrt, 8) S(frndint, 4) S(fxtract, 1) S(fxam, 1) S(ftst, 1) S(fchs, 1) S(fabs, 1)
  S(fsts, 4) S(fstl, 4) S(fists, 4) S(fistl, 4) S(fistpll, 4) S(fisttpl, 1) S(fisttpll, 1)
  S(flds, 1) S(fldl, 1) S(fadds, 4) S(fmull, 4) S(fdivrl, 2) S(fiaddl, 2) S(fisubs, 2) S(fildll, 1) S(fildl, 1)
  S(fcoms, 1) S(fld1, 1) S(fldpi, 4) S(fldl2e, 4) S(fldl2t, 4) S(fldlg2, 4) S(fldln2, 4) S(fldz, 1)
  S(fincstp, 1) S(ffree, 1) S(fstp_st1, 1) S(fld_st1, 1) S(fbstp, 1)
  P(fcmovb_c1, 1, 0) P(fcmovb_c0, 1, 0) P(fcmovnbe_c1, 1, 0) P(fcmove_z1, 1, 0) P(fcmovnu_z1, 1, 0) P(fcmovbe_z1, 1, 0)
  /* unmasked exceptions: the flags, ES/B, and what is (not) written; FNSTENV does not wait, FNCLEX clears */
  for (unsigned k = 0; k < 3; k++) {
    static const u16 U[] = { 0x360, 0x367, 0x37b };
    for (unsigned i = 0; i < NV; i++) for (unsigned j = 0; j < NV; j++) {
      run("fmul", o_fmul, U[k], V[i], V[j], MEMV[(i + j) % NM]);
      run("fdiv", o_fdiv, U[k], V[i], V[j], MEMV[(i + j) % NM]);
      run("fadd", o_fadd, U[k], V[i], V[j], MEMV[(i + j) % NM]);
      run("fscale", o_fscale, U[k], V[i], V[j], MEMV[(i + j) % NM]);
    }
    for (unsigned i = 0; i < NV; i++) for (unsigned m = 0; m < NM; m++) {
      run("fsts", o_fsts, U[k], V[i], V[0], MEMV[m]); run("fistl", o_fistl, U[k], V[i], V[0], MEMV[m]);
      run("fadds", o_fadds, U[k], V[i], V[0], MEMV[m]); run("flds", o_flds, U[k], V[i], V[0], MEMV[m]);
      run("fsqrt", o_fsqrt, U[k], V[i], V[0], MEMV[m]);
    }
  }
  /* transcendentals: compared with a tolerance (JS Math on doubles) */
  for (int r = 0; r < 300; r++) {
    struct f80 a = rv(), b = rv();
    a.se = (a.se & 0x8000) | (0x3ff0 + r % 21);
    run("fsin", o_fsin, 0x37f, a, b, 0); run("fcos", o_fcos, 0x37f, a, b, 0); run("fptan", o_fptan, 0x37f, a, b, 0);
    run("fsincos", o_fsincos, 0x37f, a, b, 0); run("fpatan", o_fpatan, 0x37f, a, b, 0);
    struct f80 c = a; c.se = (c.se & 0x8000) | 0x3ffd; run("f2xm1", o_f2xm1, 0x37f, c, b, 0);
    struct f80 p = a; p.se &= 0x7fff; run("fyl2x", o_fyl2x, 0x37f, p, b, 0);
    struct f80 q = a; q.se = (q.se & 0x8000) | 0x3ffc; run("fyl2xp1", o_fyl2xp1, 0x37f, q, b, 0);
  }
  return 0;
}
