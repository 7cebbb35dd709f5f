/*
 * String instructions: movs cmps scas lods stos in every size, with no prefix, rep,
 * repe and repne, both directions (DF), counts 0..17 and data that matches or differs
 * at a chosen position. Printed per case: RSI/RDI as offsets into the buffers, RCX, RAX,
 * the arithmetic flags (cmps/scas) and a CRC of the destination buffer.
 */
#include "exerciser.h"

#define BUF 512
static u8 src[BUF] __aligned(16), dst[BUF] __aligned(16);

typedef void (*str_fn)(ulong *si, ulong *di, ulong *cx, ulong *ax, ulong *fl);

#define DEF_STR(name, text)                                                                  \
	static void name(ulong *si, ulong *di, ulong *cx, ulong *ax, ulong *fl)              \
	{                                                                                    \
		asm volatile("push %[f]\n\tpopf\n\t" text "\n\tpushf\n\tpop %[f]\n\tcld"          \
			     : "+S"(*si), "+D"(*di), "+c"(*cx), "+a"(*ax), [f] "+r"(*fl)            \
			     :                                                                      \
			     : "cc", "memory");                                                     \
	}

#define DEF_SIZES(op)                                                                        \
	DEF_STR(op##b, #op "b") DEF_STR(op##w, #op "w") DEF_STR(op##l, #op "l")                 \
	DEF_STR(rep_##op##b, "rep " #op "b") DEF_STR(rep_##op##w, "rep " #op "w")               \
	DEF_STR(rep_##op##l, "rep " #op "l")
#define DEF_CMP_SIZES(op)                                                                    \
	DEF_STR(op##b, #op "b") DEF_STR(op##w, #op "w") DEF_STR(op##l, #op "l")                 \
	DEF_STR(repe_##op##b, "repe " #op "b") DEF_STR(repe_##op##w, "repe " #op "w")           \
	DEF_STR(repe_##op##l, "repe " #op "l") DEF_STR(repne_##op##b, "repne " #op "b")         \
	DEF_STR(repne_##op##w, "repne " #op "w") DEF_STR(repne_##op##l, "repne " #op "l")

DEF_SIZES(movs)
DEF_SIZES(stos)
DEF_SIZES(lods)
DEF_CMP_SIZES(cmps)
DEF_CMP_SIZES(scas)
#ifdef __x86_64__
DEF_STR(movsq, "movsq") DEF_STR(rep_movsq, "rep movsq") DEF_STR(stosq, "stosq") DEF_STR(rep_stosq, "rep stosq")
DEF_STR(lodsq, "lodsq") DEF_STR(rep_lodsq, "rep lodsq") DEF_STR(cmpsq, "cmpsq") DEF_STR(repe_cmpsq, "repe cmpsq")
DEF_STR(repne_cmpsq, "repne cmpsq") DEF_STR(scasq, "scasq") DEF_STR(repe_scasq, "repe scasq")
DEF_STR(repne_scasq, "repne scasq")
#endif

struct str_op {
	const char *name;
	str_fn fn;
	int size;
};

#define OP(n, s) { #n, n, s }
static const struct str_op ops[] = {
	OP(movsb, 1), OP(movsw, 2), OP(movsl, 4), OP(rep_movsb, 1), OP(rep_movsw, 2), OP(rep_movsl, 4),
	OP(stosb, 1), OP(stosw, 2), OP(stosl, 4), OP(rep_stosb, 1), OP(rep_stosw, 2), OP(rep_stosl, 4),
	OP(lodsb, 1), OP(lodsw, 2), OP(lodsl, 4), OP(rep_lodsb, 1), OP(rep_lodsw, 2), OP(rep_lodsl, 4),
	OP(cmpsb, 1), OP(cmpsw, 2), OP(cmpsl, 4), OP(repe_cmpsb, 1), OP(repe_cmpsw, 2), OP(repe_cmpsl, 4),
	OP(repne_cmpsb, 1), OP(repne_cmpsw, 2), OP(repne_cmpsl, 4),
	OP(scasb, 1), OP(scasw, 2), OP(scasl, 4), OP(repe_scasb, 1), OP(repe_scasw, 2), OP(repe_scasl, 4),
	OP(repne_scasb, 1), OP(repne_scasw, 2), OP(repne_scasl, 4),
#ifdef __x86_64__
	OP(movsq, 8), OP(rep_movsq, 8), OP(stosq, 8), OP(rep_stosq, 8), OP(lodsq, 8), OP(rep_lodsq, 8),
	OP(cmpsq, 8), OP(repe_cmpsq, 8), OP(repne_cmpsq, 8), OP(scasq, 8), OP(repe_scasq, 8),
	OP(repne_scasq, 8),
#endif
};

static const unsigned counts[] = { 0, 1, 2, 5, 17 };

int main(void)
{
	printf("ex-string %d-bit\n", (int)sizeof(long) * 8);
	for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
		struct block blk;
		struct lcg g = { 2024 + o };
		block_begin(&blk, ops[o].name);
		for (int df = 0; df < 2; df++) {
			for (unsigned ci = 0; ci < ARRAY_SIZE(counts); ci++) {
				for (int pat = 0; pat < 4; pat++) {
					/* pat 0: equal buffers; 1..3: first difference at element 0, 1, count-1. */
					for (int i = 0; i < BUF; i++)
						src[i] = dst[i] = (u8)(i * 7 + 3);
					int diff = pat == 0 ? -1 : pat == 1 ? 0 : pat == 2 ? 1 : (int)counts[ci] - 1;
					ulong base = BUF / 2;
					if (diff >= 0) {
						long at = df ? (long)base - diff * ops[o].size : (long)base + diff * ops[o].size;
						dst[at] ^= 0x40;
					}
					ulong si = (ulong)src + base, di = (ulong)dst + base, cx = counts[ci];
					ulong ax = (ulong)lcg_next(&g);
					/* scas compares against the accumulator: make it equal to the first element sometimes. */
					if (pat == 0)
						memcpy(&ax, dst + base, sizeof(ax) < (size_t)ops[o].size ? sizeof(ax) : (size_t)ops[o].size);
					ulong ax0 = ax;
					ulong fl = 0x2 | (df ? DF : 0);
					ops[o].fn(&si, &di, &cx, &ax, &fl);
					block_add(&blk, "df=%d n=%u p=%d ax=%lx -> si=%ld di=%ld cx=%lu ax=%lx fl=%lx dst=%08x",
						  df, counts[ci], pat, ax0, (long)(si - (ulong)src) - (long)base,
						  (long)(di - (ulong)dst) - (long)base, cx, ax, fl & (ARITH | DF),
						  crc32_update(0, dst, BUF));
				}
			}
		}
		block_end(&blk);
	}
	printf("ex-string done\n");
	return 0;
}
