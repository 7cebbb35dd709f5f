#include "acpi.h"
#include "processor.h"

static bool checksum_ok(const void *p, u32 len)
{
	u8 sum = 0;
	for (u32 i = 0; i < len; i++)
		sum += ((const u8 *)p)[i];
	return sum == 0;
}

static const void *scan_rsdp(ulong start, ulong end)
{
	for (ulong a = start; a < end; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8) && checksum_ok((const void *)a, 20))
			return (const void *)a;
	return NULL;
}

const void *acpi_find_rsdp(void)
{
	ulong ebda = (ulong)(*(volatile u16 *)0x40e) << 4;
	const void *r = NULL;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = scan_rsdp(ebda, ebda + 1024);
	return r ? r : scan_rsdp(0xe0000, 0x100000);
}

const struct acpi_table_header *acpi_find_table(const char *sig)
{
	const u8 *rsdp = acpi_find_rsdp();
	if (!rsdp)
		return NULL;
	const struct acpi_table_header *rsdt = (const void *)(ulong)*(const u32 *)(rsdp + 16);
	if (memcmp(rsdt->signature, "RSDT", 4) || !checksum_ok(rsdt, rsdt->length))
		return NULL;
	const u32 *entries = (const u32 *)(rsdt + 1);
	u32 n = (rsdt->length - sizeof(*rsdt)) / 4;
	for (u32 i = 0; i < n; i++) {
		const struct acpi_table_header *t = (const void *)(ulong)entries[i];
		if (!memcmp(t->signature, sig, 4))
			return t;
	}
	return NULL;
}

int acpi_count_cpus(void)
{
	const struct acpi_table_header *madt = acpi_find_table("APIC");
	if (!madt)
		return -1;
	const u8 *p = (const u8 *)madt + 44, *end = (const u8 *)madt + madt->length;
	int n = 0;
	for (; p + 2 <= end && p[1] >= 2; p += p[1])
		if (p[0] == 0 && (p[4] & 1)) /* processor local APIC, enabled */
			n++;
	return n;
}

/* AML: NameOp "_S5_" PackageOp PkgLength NumElements, then SLP_TYPa as a data object. */
static int s5_slp_typa(const struct acpi_table_header *dsdt)
{
	const u8 *p = (const u8 *)(dsdt + 1), *end = (const u8 *)dsdt + dsdt->length;
	for (; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		const u8 *q = p + 5;
		q += ((q[0] >> 6) & 3) + 1; /* PkgLength */
		q++;			     /* NumElements */
		if (*q == 0x0a)		     /* BytePrefix */
			return q[1];
		if (*q == 0x00 || *q == 0x01) /* ZeroOp / OneOp */
			return *q;
		return -1;
	}
	return -1;
}

void acpi_poweroff(void)
{
	const u8 *fadt = (const u8 *)acpi_find_table("FACP");
	if (!fadt)
		return;
	const struct acpi_table_header *dsdt = (const void *)(ulong)*(const u32 *)(fadt + 40);
	u32 smi_cmd = *(const u32 *)(fadt + 48);
	u8 acpi_enable = fadt[52];
	u32 pm1a_cnt = *(const u32 *)(fadt + 64);
	int typ = s5_slp_typa(dsdt);
	if (!pm1a_cnt || typ < 0)
		return;
	if (!(inw((u16)pm1a_cnt) & 1) && smi_cmd && acpi_enable) {
		outb((u16)smi_cmd, acpi_enable);
		for (int i = 0; i < 1000 && !(inw((u16)pm1a_cnt) & 1); i++)
			outb(0x80, 0);
	}
	outw((u16)pm1a_cnt, (u16)((typ << 10) | (1u << 13)));
	for (int i = 0; i < 100000; i++)
		outb(0x80, 0);
}
