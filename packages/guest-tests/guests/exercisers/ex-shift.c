/*
 * Shifts and rotates: shl shr sar rol ror rcl rcr (by CL) and shld shrd, every operand
 * size, counts 0..64, CF in both states. Flag masks follow the SDM:
 *  - masked count 0: nothing changes (all flags defined);
 *  - shl/shr/sar: AF undefined; OF undefined unless count == 1; CF undefined when the
 *    count is >= the operand width (8/16-bit operands);
 *  - rol/ror/rcl/rcr: only CF and OF written; OF undefined unless count == 1;
 *  - shld/shrd: count > width leaves result and flags undefined (skipped); AF undefined,
 *    OF undefined unless count == 1.
 */
#include "exerciser.h"

#define SFX_b "b"
#define SFX_w "w"
#define SFX_l "l"
#define SFX_q "q"
#define CON_b "q"
#define CON_w "r"
#define CON_l "r"
#define CON_q "r"

#define DEF_SH(op, sz, T)                                                                     \
	static void op##_##sz(T *a, T b, u8 cnt, ulong *fl)                                   \
	{                                                                                     \
		(void)b;                                                                      \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " %%cl, %[a]\n\tpushf\n\tpop %[f]" \
			     : [a] "+" CON_##sz(*a), [f] "+r"(*fl)                                  \
			     : "c"(cnt)                                                             \
			     : "cc");                                                               \
	}
#define DEF_DSH(op, sz, T)                                                                    \
	static void op##_##sz(T *a, T b, u8 cnt, ulong *fl)                                   \
	{                                                                                     \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " %%cl, %[b], %[a]\n\tpushf\n\tpop %[f]" \
			     : [a] "+r"(*a), [f] "+r"(*fl)                                          \
			     : [b] "r"(b), "c"(cnt)                                                 \
			     : "cc");                                                               \
	}

#define SIZES32(DEF, op) DEF(op, b, u8) DEF(op, w, u16) DEF(op, l, u32)
#ifdef __x86_64__
#define SIZES(DEF, op) SIZES32(DEF, op) DEF(op, q, u64)
#define DSIZES(DEF, op) DEF(op, w, u16) DEF(op, l, u32) DEF(op, q, u64)
#else
#define SIZES(DEF, op) SIZES32(DEF, op)
#define DSIZES(DEF, op) DEF(op, w, u16) DEF(op, l, u32)
#endif

SIZES(DEF_SH, shl)
SIZES(DEF_SH, shr)
SIZES(DEF_SH, sar)
SIZES(DEF_SH, rol)
SIZES(DEF_SH, ror)
SIZES(DEF_SH, rcl)
SIZES(DEF_SH, rcr)
DSIZES(DEF_DSH, shld)
DSIZES(DEF_DSH, shrd)

enum kind { SHIFT, ROTATE, DOUBLE };

static ulong defined_flags(enum kind k, unsigned width, unsigned count)
{
	unsigned c = count & (width == 64 ? 63 : 31);
	if (c == 0)
		return ARITH;
	ulong m;
	switch (k) {
	case SHIFT:
		m = ARITH & ~AF;
		if (c >= width)
			m &= ~CF;
		break;
	case ROTATE:
		m = ARITH;
		break;
	default:
		m = ARITH & ~AF;
		break;
	}
	if (c != 1)
		m &= ~OF;
	return m;
}

#define RUN(op, sz, T, k)                                                                    \
	do {                                                                                 \
		struct block blk;                                                            \
		struct lcg g = { 4321 };                                                     \
		unsigned width = sizeof(T) * 8;                                              \
		block_begin(&blk, #op "_" #sz);                                              \
		for (int i = 0; i < 10; i++) {                                               \
			T a0 = (T)operand(&g, i * 3 + 5 + (i > 6 ? 40 : 0));                  \
			T b = (T)operand(&g, i + 17);                                        \
			for (unsigned cnt = 0; cnt <= 64; cnt++) {                           \
				unsigned c = cnt & (width == 64 ? 63 : 31);                  \
				if ((k) == DOUBLE && c > width)                              \
					continue;                                            \
				for (int f = 0; f < 2; f++) {                                \
					T a = a0;                                            \
					ulong fin = f ? 0x2 | ARITH : 0x2, fl = fin;         \
					op##_##sz(&a, b, (u8)cnt, &fl);                      \
					block_add(&blk, "%llx %llx %u %lx -> %llx %lx",        \
						  (unsigned long long)a0, (unsigned long long)b, cnt, fin, \
						  (unsigned long long)a, fl & defined_flags(k, width, cnt)); \
				}                                                            \
			}                                                                    \
		}                                                                            \
		block_end(&blk);                                                             \
	} while (0)

#define RUN_SIZES32(op, k) RUN(op, b, u8, k); RUN(op, w, u16, k); RUN(op, l, u32, k)
#ifdef __x86_64__
#define RUN_SIZES(op, k) RUN_SIZES32(op, k); RUN(op, q, u64, k)
#define RUN_DSIZES(op) RUN(op, w, u16, DOUBLE); RUN(op, l, u32, DOUBLE); RUN(op, q, u64, DOUBLE)
#else
#define RUN_SIZES(op, k) RUN_SIZES32(op, k)
#define RUN_DSIZES(op) RUN(op, w, u16, DOUBLE); RUN(op, l, u32, DOUBLE)
#endif

/* The by-1 (D0/D1) and by-imm8 (C0/C1) encodings, 32-bit operand. */
#define DEF_IMM(op)                                                                            \
	static void op##_imm(u32 *r, ulong *fl)                                                \
	{                                                                                      \
		asm volatile("push %[f0]\n\tpopf\n\t" #op "l %[a0]\n\tpushf\n\tpop %[f0]\n\t"      \
			     "push %[f1]\n\tpopf\n\t" #op "l $7, %[a1]\n\tpushf\n\tpop %[f1]\n\t"  \
			     "push %[f2]\n\tpopf\n\t" #op "b $13, %b[a2]\n\tpushf\n\tpop %[f2]"     \
			     : [a0] "+r"(r[0]), [a1] "+r"(r[1]), [a2] "+q"(r[2]), [f0] "+r"(fl[0]),       \
			       [f1] "+r"(fl[1]), [f2] "+r"(fl[2])                                          \
			     :                                                                             \
			     : "cc");                                                                      \
	}
DEF_IMM(shl) DEF_IMM(shr) DEF_IMM(sar) DEF_IMM(rol) DEF_IMM(ror) DEF_IMM(rcl) DEF_IMM(rcr)

#define RUN_IMM(op, k)                                                                         \
	do {                                                                                   \
		struct block blk;                                                              \
		struct lcg g = { 777 };                                                        \
		block_begin(&blk, #op "_imm");                                                 \
		for (int i = 0; i < 40; i++) {                                                 \
			u32 a = (u32)operand(&g, i);                                           \
			u32 r[3] = { a, a, a };                                                \
			ulong fin = (i & 1) ? 0x2 | ARITH : 0x2;                               \
			ulong fl[3] = { fin, fin, fin };                                       \
			op##_imm(r, fl);                                                       \
			block_add(&blk, "%x %lx -> %x %lx %x %lx %x %lx", a, fin, r[0], fl[0] & defined_flags(k, 32, 1), \
				  r[1], fl[1] & defined_flags(k, 32, 7), r[2], fl[2] & defined_flags(k, 8, 13)); \
		}                                                                              \
		block_end(&blk);                                                               \
	} while (0)

int main(void)
{
	printf("ex-shift %d-bit\n", (int)sizeof(long) * 8);
	RUN_IMM(shl, SHIFT);
	RUN_IMM(shr, SHIFT);
	RUN_IMM(sar, SHIFT);
	RUN_IMM(rol, ROTATE);
	RUN_IMM(ror, ROTATE);
	RUN_IMM(rcl, ROTATE);
	RUN_IMM(rcr, ROTATE);
	RUN_SIZES(shl, SHIFT);
	RUN_SIZES(shr, SHIFT);
	RUN_SIZES(sar, SHIFT);
	RUN_SIZES(rol, ROTATE);
	RUN_SIZES(ror, ROTATE);
	RUN_SIZES(rcl, ROTATE);
	RUN_SIZES(rcr, ROTATE);
	RUN_DSIZES(shld);
	RUN_DSIZES(shrd);
	printf("ex-shift done\n");
	return 0;
}
