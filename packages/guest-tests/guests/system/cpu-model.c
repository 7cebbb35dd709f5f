/*
 * -cpu as the guest sees it: the vendor string of leaf 0, family/model/stepping of leaf 1
 * and a few feature bits that the test's -cpu line turns on and off (a model, then
 * -feat, +feat, feat=off and vendor=). The manifest checks the printed lines.
 */
#include "libc.h"
#include "x86/processor.h"

static int bit(u32 reg, int b) { return (reg >> b) & 1; }

int main(void)
{
	struct cpuid v = cpuid(0);
	char vendor[13];
	memcpy(vendor, &v.b, 4);
	memcpy(vendor + 4, &v.d, 4);
	memcpy(vendor + 8, &v.c, 4);
	vendor[12] = 0;
	printf("cpu: vendor %s\n", vendor);
	struct cpuid f = cpuid(1);
	u32 family = (f.a >> 8) & 0xf, model = (f.a >> 4) & 0xf;
	if (family == 0xf)
		family += (f.a >> 20) & 0xff;
	if (family >= 6)
		model |= ((f.a >> 16) & 0xf) << 4;
	printf("cpu: family %u model %u stepping %u\n", family, model, f.a & 0xf);
	struct cpuid e = cpuid(0x80000001);
	printf("cpu: pni %d cx16 %d popcnt %d sse2 %d nx %d lm %d\n", bit(f.c, 0), bit(f.c, 13), bit(f.c, 23), bit(f.d, 26), bit(e.d, 20), bit(e.d, 29));
	return report_summary();
}
