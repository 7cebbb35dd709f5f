/*
 * x87: fld/fst in all formats, fadd fsub fsubr fmul fdiv fdivr fsqrt frndint fprem fscale
 * fabs fchs under the four rounding modes (fldcw) and two precisions; fcom/fucom/fcomi
 * condition codes; fild/fist/fistp/fisttp. Results are printed as 80-bit and 64-bit bit
 * patterns with the status word; C0/C2/C3 are masked where the SDM leaves them undefined.
 * Status bits that emulators commonly get wrong (DE, C1 as round-up indicator, fprem1's
 * quotient bits) are printed in side blocks ("<op>.fsw", "<op>.de") of their own, so a
 * comparison against an emulator can name exactly what it skips. Transcendentals (fsin, fyl2x, ...) are left out: their
 * last bits are implementation-specific.
 */
#include "exerciser.h"

struct f80 { u64 mant; u16 exp; } __attribute__((packed));

static const u64 values[] = {
	0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
	0x3ff8000000000000ull, 0x400921fb54442d18ull, 0x7fefffffffffffffull, 0x0010000000000000ull,
	0x0000000000000001ull, 0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
	0x3fd5555555555555ull, 0x4024000000000000ull, 0xc1e0000000100000ull, 0x41dfffffffc00000ull,
	0x43e0000000000000ull, 0xc3e0000000000001ull, 0x3fe0000000000000ull, 0x3ff0000000000001ull,
	0x4004000000000000ull, 0xc00c000000000000ull, 0x3f1a36e2eb1c432dull, 0x4197d78400000000ull,
};
#define NV ((int)ARRAY_SIZE(values))

/* The FPU control word: all exceptions masked, precision (PC) and rounding (RC). */
static u16 cw_for(int rc, int pc) { return (u16)(0x007f | (pc << 8) | (rc << 10)); }

#define DEF_BIN(name, insn)                                                                   \
	static void name(u16 cw, const u64 *a, const u64 *b, struct f80 *r80, u64 *r64, u16 *sw) \
	{                                                                                     \
		asm volatile("fninit\n\tfldcw %[cw]\n\tfldl %[a]\n\t" insn " %[b]\n\tfnstsw %[sw]\n\tfstl %[r64]\n\tfstpt %[r80]" \
			     : [r80] "=m"(*r80), [r64] "=m"(*r64), [sw] "=m"(*sw)                     \
			     : [cw] "m"(cw), [a] "m"(*a), [b] "m"(*b));                               \
	}
DEF_BIN(x_fadd, "faddl")
DEF_BIN(x_fsub, "fsubl")
DEF_BIN(x_fsubr, "fsubrl")
DEF_BIN(x_fmul, "fmull")
DEF_BIN(x_fdiv, "fdivl")
DEF_BIN(x_fdivr, "fdivrl")

/* st0 = a, st1 = b, then a two-operand stack op. */
#define DEF_STK(name, insn)                                                                   \
	static void name(u16 cw, const u64 *a, const u64 *b, struct f80 *r80, u64 *r64, u16 *sw) \
	{                                                                                     \
		asm volatile("fninit\n\tfldcw %[cw]\n\tfldl %[b]\n\tfldl %[a]\n\t" insn "\n\tfnstsw %[sw]\n\tfstl %[r64]\n\tfstpt %[r80]\n\tfninit" \
			     : [r80] "=m"(*r80), [r64] "=m"(*r64), [sw] "=m"(*sw)                     \
			     : [cw] "m"(cw), [a] "m"(*a), [b] "m"(*b));                               \
	}
DEF_STK(x_fsqrt, "fsqrt")
DEF_STK(x_frndint, "frndint")
DEF_STK(x_fprem, "fprem")
DEF_STK(x_fprem1, "fprem1")
DEF_STK(x_fscale, "fscale")
DEF_STK(x_fabs, "fabs")
DEF_STK(x_fchs, "fchs")
DEF_STK(x_fxtract, "fxtract")
DEF_STK(x_faddp, "faddp")
DEF_STK(x_fmulp, "fmulp %%st, %%st(1)")

/* Status word bits: DE (denormal operand) and the condition codes. */
#define FSW_DE 0x0002
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_C3 0x4000
/*
 * Arithmetic: C0, C2, C3 are undefined (SDM); C1 (rounded up) is defined but printed in the
 * "<op>.fsw" block with DE, as emulators commonly do not track it. fprem/fprem1 define all
 * four (C1 is quotient bit Q0 there).
 */
#define ARITH_SW (0xffff & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3 | FSW_DE))
#define PREM_SW (0xffff & ~FSW_DE)
/* fprem1's quotient bits (C0 C3 C1 = Q2 Q1 Q0) go to the side block: QEMU gets them wrong. */
#define PREM1_SW (0xffff & ~(FSW_DE | FSW_C0 | FSW_C1 | FSW_C3))

typedef void (*x87_fn)(u16 cw, const u64 *a, const u64 *b, struct f80 *r80, u64 *r64, u16 *sw);
static const struct { const char *name; x87_fn fn; u16 mask; } ops[] = {
	{ "fadd", x_fadd, ARITH_SW }, { "fsub", x_fsub, ARITH_SW }, { "fsubr", x_fsubr, ARITH_SW },
	{ "fmul", x_fmul, ARITH_SW }, { "fdiv", x_fdiv, ARITH_SW }, { "fdivr", x_fdivr, ARITH_SW },
	{ "fsqrt", x_fsqrt, ARITH_SW }, { "frndint", x_frndint, ARITH_SW }, { "fprem", x_fprem, PREM_SW },
	{ "fprem1", x_fprem1, PREM1_SW }, { "fscale", x_fscale, ARITH_SW }, { "fabs", x_fabs, ARITH_SW },
	{ "fchs", x_fchs, ARITH_SW }, { "fxtract", x_fxtract, ARITH_SW }, { "faddp", x_faddp, ARITH_SW },
	{ "fmulp", x_fmulp, ARITH_SW },
};

static void arith(void)
{
	for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
		struct block blk, de;
		char nde[32];
		struct lcg g = { 0x87 + o };
		block_begin(&blk, ops[o].name);
		snprintf(nde, sizeof(nde), "%s.fsw", ops[o].name);
		block_begin(&de, nde);
		for (int i = 0; i < 60; i++) {
			u64 a = i < NV ? values[i] : values[lcg_next(&g) % NV] ^ (lcg_next(&g) >> 20);
			u64 b = values[(i * 7 + 3) % NV];
			if (i >= NV && (i & 1))
				b = lcg_next(&g) >> 2;
			u64 side = 0;
			for (int rc = 0; rc < 4; rc++)
				for (int pc = 2; pc <= 3; pc++) {
					struct f80 r80;
					u64 r64;
					u16 sw;
					ops[o].fn(cw_for(rc, pc), &a, &b, &r80, &r64, &sw);
					block_add(&blk, "%llx %llx %d%d -> %04x%016llx %llx %04x", (unsigned long long)a,
						  (unsigned long long)b, rc, pc, r80.exp, (unsigned long long)r80.mant,
						  (unsigned long long)r64, sw & ops[o].mask);
					/* The status word bits the main block leaves out (besides undefined ones). */
					u16 extra = sw & (FSW_DE | FSW_C0 | FSW_C1 | FSW_C3) & ~ops[o].mask;
					if (ops[o].mask == ARITH_SW)
						extra &= FSW_DE | FSW_C1;
					side = side << 4 | (extra & FSW_DE ? 1 : 0) | (extra & FSW_C1 ? 2 : 0) |
					       (extra & FSW_C0 ? 4 : 0) | (extra & FSW_C3 ? 8 : 0);
				}
			block_add(&de, "%d %llx", i, (unsigned long long)side);
		}
		block_end(&blk);
		block_end(&de);
	}
}

/* fcom/fucom set C0 C2 C3 in the status word; fcomi/fucomi set ZF PF CF. */
static void compares(void)
{
	struct block blk, de, osa;
	block_begin(&blk, "fcom");
	block_begin(&de, "fcom.de");
	block_begin(&osa, "fcomi.osa");
	for (int i = 0; i < NV; i++)
		for (int j = 0; j < NV; j += 3) {
			u16 sw1, sw2;
			ulong f1, f2;
			asm volatile("fninit\n\tfldl %[b]\n\tfldl %[a]\n\tfcompp\n\tfnstsw %[s]" : [s] "=m"(sw1) : [a] "m"(values[i]), [b] "m"(values[j]));
			asm volatile("fninit\n\tfldl %[b]\n\tfldl %[a]\n\tfucompp\n\tfnstsw %[s]" : [s] "=m"(sw2) : [a] "m"(values[i]), [b] "m"(values[j]));
			asm volatile("fninit\n\tfldl %[b]\n\tfldl %[a]\n\tpush %[in]\n\tpopf\n\tfcomi %%st(1), %%st\n\tpushf\n\tpop %[f]\n\tfninit" : [f] "=r"(f1) : [a] "m"(values[i]), [b] "m"(values[j]), [in] "r"((ulong)(0x2 | ARITH)) : "cc");
			asm volatile("fninit\n\tfldl %[b]\n\tfldl %[a]\n\tpush %[in]\n\tpopf\n\tfucomip %%st(1), %%st\n\tpushf\n\tpop %[f]\n\tfninit" : [f] "=r"(f2) : [a] "m"(values[i]), [b] "m"(values[j]), [in] "r"((ulong)(0x2 | ARITH)) : "cc");
			block_add(&blk, "%llx %llx -> %04x %04x %lx %lx", (unsigned long long)values[i],
				  (unsigned long long)values[j], sw1 & ~FSW_DE, sw2 & ~FSW_DE, f1 & (ZF | PF | CF), f2 & (ZF | PF | CF));
			block_add(&de, "%d %d %x %x", i, j, sw1 & FSW_DE, sw2 & FSW_DE);
			/* FCOMI/FUCOMI clear OF, SF and AF. */
			block_add(&osa, "%d %d %lx %lx", i, j, f1 & (OF | SF | AF), f2 & (OF | SF | AF));
		}
	block_end(&blk);
	block_end(&de);
	block_end(&osa);

	block_begin(&blk, "ftst_fxam");
	block_begin(&de, "ftst_fxam.de");
	for (int i = 0; i < NV; i++) {
		u16 sw1, sw2;
		asm volatile("fninit\n\tfldl %[a]\n\tftst\n\tfnstsw %[s1]\n\tfxam\n\tfnstsw %[s2]\n\tfninit" : [s1] "=m"(sw1), [s2] "=m"(sw2) : [a] "m"(values[i]));
		block_add(&blk, "%llx -> %04x %04x", (unsigned long long)values[i], sw1 & ~FSW_DE, sw2 & ~FSW_DE);
		block_add(&de, "%d %x %x", i, sw1 & FSW_DE, sw2 & FSW_DE);
	}
	block_end(&blk);
	block_end(&de);
}

/* Integer conversions: fild (16/32/64), fist/fistp (16/32/64) under each rounding mode, fisttp. */
static void integers(void)
{
	struct block blk, de;
	struct lcg g = { 0x1f1f };
	block_begin(&blk, "fild");
	for (int i = 0; i < 60; i++) {
		u64 v = operand(&g, i);
		s16 w = (s16)v;
		s32 l = (s32)v;
		s64 q = (s64)v;
		struct f80 a, b, c;
		asm volatile("fninit\n\tfilds %[w]\n\tfstpt %[a]\n\tfildl %[l]\n\tfstpt %[b]\n\tfildll %[q]\n\tfstpt %[c]"
			     : [a] "=m"(a), [b] "=m"(b), [c] "=m"(c) : [w] "m"(w), [l] "m"(l), [q] "m"(q));
		block_add(&blk, "%llx -> %04x%016llx %04x%016llx %04x%016llx", (unsigned long long)v, a.exp,
			  (unsigned long long)a.mant, b.exp, (unsigned long long)b.mant, c.exp, (unsigned long long)c.mant);
	}
	block_end(&blk);

	block_begin(&blk, "fist");
	block_begin(&de, "fist.de");
	for (int i = 0; i < NV + 40; i++) {
		u64 d = i < NV ? values[i] : values[lcg_next(&g) % NV] ^ (lcg_next(&g) >> 30);
		for (int rc = 0; rc < 4; rc++) {
			u16 cw = cw_for(rc, 3), sw;
			s16 w;
			s32 l;
			s64 q, t;
			asm volatile("fninit\n\tfldcw %[cw]\n\tfldl %[d]\n\tfists %[w]\n\tfistl %[l]\n\tfistpll %[q]\n\tfldl %[d]\n\tfisttpll %[t]\n\tfnstsw %[sw]"
				     : [w] "=m"(w), [l] "=m"(l), [q] "=m"(q), [t] "=m"(t), [sw] "=m"(sw)
				     : [cw] "m"(cw), [d] "m"(d));
			block_add(&blk, "%llx %d -> %x %x %llx %llx %04x", (unsigned long long)d, rc, (u16)w, (u32)l,
				  (unsigned long long)q, (unsigned long long)t, sw & ~FSW_DE);
			block_add(&de, "%d %d %x", i, rc, sw & FSW_DE);
		}
	}
	block_end(&blk);
	block_end(&de);

	/* Loads and stores in single, double and extended format, and the constants. */
	block_begin(&blk, "fld_fst");
	block_begin(&de, "fld_fst.de");
	for (int i = 0; i < NV; i++) {
		for (int rc = 0; rc < 4; rc++) {
			u16 cw = cw_for(rc, 3), sw;
			u32 s;
			u64 d;
			struct f80 e;
			asm volatile("fninit\n\tfldcw %[cw]\n\tfldl %[v]\n\tfsts %[s]\n\tfstpt %[e]\n\tflds %[s]\n\tfstpl %[d]\n\tfnstsw %[sw]"
				     : [s] "=m"(s), [d] "=m"(d), [e] "=m"(e), [sw] "=m"(sw) : [cw] "m"(cw), [v] "m"(values[i]));
			block_add(&blk, "%llx %d -> %x %llx %04x%016llx %04x", (unsigned long long)values[i], rc, s,
				  (unsigned long long)d, e.exp, (unsigned long long)e.mant, sw & ~FSW_DE);
			block_add(&de, "%d %d %x", i, rc, sw & FSW_DE);
		}
	}
	block_end(&de);
	{
		struct f80 k[7];
		asm volatile("fninit\n\tfld1\n\tfstpt %0\n\tfldl2t\n\tfstpt %1\n\tfldl2e\n\tfstpt %2\n\tfldpi\n\tfstpt %3\n\t"
			     "fldlg2\n\tfstpt %4\n\tfldln2\n\tfstpt %5\n\tfldz\n\tfstpt %6"
			     : "=m"(k[0]), "=m"(k[1]), "=m"(k[2]), "=m"(k[3]), "=m"(k[4]), "=m"(k[5]), "=m"(k[6]));
		for (int i = 0; i < 7; i++)
			block_add(&blk, "const%d %04x%016llx", i, k[i].exp, (unsigned long long)k[i].mant);
	}
	block_end(&blk);

	/* The environment after fninit, and the tag word after some pushes (fnstenv). */
	struct { u16 cw, r0, sw, r1, tw, r2; } __attribute__((packed)) env[2];
	u32 envbuf[7];
	asm volatile("fninit\n\tfnstenv %0" : "=m"(envbuf));
	memcpy(&env[0], envbuf, 12);
	asm volatile("fninit\n\tfld1\n\tfldz\n\tfnstenv %0\n\tfninit" : "=m"(envbuf));
	memcpy(&env[1], envbuf, 12);
	block_begin(&blk, "fnstenv");
	for (int i = 0; i < 2; i++)
		block_add(&blk, "%d cw=%04x sw=%04x tw=%04x", i, env[i].cw, env[i].sw, env[i].tw);
	block_end(&blk);
}

int main(void)
{
	printf("ex-x87 %d-bit\n", (int)sizeof(long) * 8);
	arith();
	compares();
	integers();
	printf("ex-x87 done\n");
	return 0;
}
