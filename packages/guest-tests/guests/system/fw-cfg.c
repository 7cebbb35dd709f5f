/*
 * QEMU's fw_cfg through its I/O ports (selector 0x510, data 0x511): the "QEMU" signature,
 * the interface ID, the number of CPUs, the RAM size, and the file directory (big-endian
 * entries) with etc/e820 read back as the firmware would.
 */
#include "libc.h"
#include "x86/processor.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19

static void fw_select(u16 key) { outw(0x510, key); }
static void fw_read(void *buf, u32 len)
{
	u8 *p = buf;
	for (u32 i = 0; i < len; i++)
		p[i] = inb(0x511);
}
static u32 be32(u32 v) { return __builtin_bswap32(v); }
static u16 be16(u16 v) { return __builtin_bswap16(v); }

struct fw_cfg_file {
	u32 size;
	u16 select;
	u16 reserved;
	char name[56];
};

int main(void)
{
	char sig[5] = { 0 };
	fw_select(FW_CFG_SIGNATURE);
	fw_read(sig, 4);
	report(!memcmp(sig, "QEMU", 4), "signature '%s'", sig);

	u32 id;
	fw_select(FW_CFG_ID);
	fw_read(&id, 4);
	report(id & 1, "ID: the traditional I/O interface");

	u16 cpus, max_cpus;
	fw_select(FW_CFG_NB_CPUS);
	fw_read(&cpus, 2);
	fw_select(FW_CFG_MAX_CPUS);
	fw_read(&max_cpus, 2);
	report(cpus == 2 && max_cpus >= cpus, "NB_CPUS %u (MAX_CPUS >= it)", cpus);

	u64 ram;
	fw_select(FW_CFG_RAM_SIZE);
	fw_read(&ram, 8);
	report(ram == 128ull << 20, "RAM_SIZE %llu MiB", (unsigned long long)(ram >> 20));

	/* A read past an item's end returns 0. */
	fw_select(FW_CFG_SIGNATURE);
	fw_read(sig, 4);
	u8 past;
	fw_read(&past, 1);
	report(past == 0, "reading past the end gives 0");

	u32 count;
	fw_select(FW_CFG_FILE_DIR);
	fw_read(&count, 4);
	count = be32(count);
	struct fw_cfg_file f, e820 = { 0 };
	bool sorted = true;
	char prev[56] = "";
	for (u32 i = 0; i < count; i++) {
		fw_read(&f, sizeof(f));
		if (strcmp(prev, f.name) > 0)
			sorted = false;
		memcpy(prev, f.name, sizeof(prev));
		if (!strcmp(f.name, "etc/e820"))
			e820 = f;
	}
	report(count >= 1 && sorted, "file directory: %s entries sorted by name", count >= 1 ? "its" : "no");
	u32 size = be32(e820.size);
	report(size > 0 && size % 20 == 0 && be16(e820.select) >= 0x20, "etc/e820: %u bytes at a file selector", size);

	/* The e820 entries (addr u64, size u64, type u32): RAM from 0 and at 1 MiB, ~128 MiB in all. */
	u64 total = 0;
	bool low = false, high = false;
	fw_select(be16(e820.select));
	for (u32 off = 0; off + 20 <= size; off += 20) {
		struct { u64 addr, len; u32 type; } __attribute__((packed)) e;
		fw_read(&e, 20);
		if (e.type != 1)
			continue;
		total += e.len;
		if (e.addr == 0)
			low = true;
		if (e.addr <= 0x100000 && e.addr + e.len > 0x100000)
			high = true;
	}
	report(low && high && total >= 127ull << 20 && total <= 128ull << 20, "etc/e820 RAM from 0 and across 1 MiB, %llu KiB", (unsigned long long)(total >> 10));
	return report_summary();
}
