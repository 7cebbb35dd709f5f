/*
 * A virtio-blk driver of our own on bare metal: PCI enumeration, the modern capabilities,
 * feature negotiation (VERSION_1, INDIRECT_DESC, FLUSH, RO), one request queue with MSI-X
 * completion interrupts, then INTx through the IOAPIC once MSI-X is off. It reads sector 0
 * (the host wrote a known pattern), writes sector 1 through an indirect table, flushes,
 * discards sector 3, asks for the serial (GET_ID) and reads past the end. A read-only
 * drive (VIRTIO_BLK_F_RO) must refuse the write with IOERR. The host checks the image.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"
#include "x86/setup.h"
#include "x86/virtio.h"

#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define MSIX_VECTOR 0x50
#define INTX_VECTOR 0x51

struct blk_req_hdr { u32 type, reserved; u64 sector; };
struct blk_discard { u64 sector; u32 num_sectors, flags; };

static u8 ring_mem[16384] __attribute__((aligned(4096)));
static struct blk_req_hdr hdr __attribute__((aligned(16)));
static struct blk_discard discard_seg __attribute__((aligned(16)));
static struct vring_desc indirect[4] __attribute__((aligned(16)));
static u8 data[512] __attribute__((aligned(512)));
static u8 big[65536] __attribute__((aligned(4096)));
static volatile u8 status;
static struct virtio_dev dev;
static struct virtq vq;
static volatile int msix_irqs, intx_irqs;
static bool use_intx;

static void msix_isr(struct ex_regs *regs)
{
	(void)regs;
	msix_irqs++;
	apic_eoi();
}

static void intx_isr(struct ex_regs *regs)
{
	(void)regs;
	/* Reading the ISR acknowledges the interrupt and lowers INTx. */
	if (*dev.isr & 1)
		intx_irqs++;
	apic_eoi();
}

/* Submits the chain at descriptor 0 and waits (halting, interrupts on) for its completion. */
static bool run_request(void)
{
	u16 before = virtq_used_idx(&vq);
	status = 0xff;
	virtq_submit(&vq, 0);
	virtq_kick(&vq);
	for (u32 n = 0; n < 2000000; n++) {
		irq_disable();
		if (virtq_used_idx(&vq) != before)
			break;
		safe_halt();
	}
	irq_enable();
	u32 id, len;
	if (!virtq_get_used(&vq, &id, &len))
		return false;
	return id == 0;
}

/* header -> [data] -> status, direct descriptors. */
static u8 request(u32 type, u64 sector, void *buf, u32 len, bool device_writes)
{
	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = sector;
	int i = 0;
	vq.desc[i] = (struct vring_desc){ (ulong)&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1 };
	i++;
	if (len) {
		vq.desc[i] = (struct vring_desc){ (ulong)buf, len, VRING_DESC_F_NEXT | (device_writes ? VRING_DESC_F_WRITE : 0), i + 1 };
		i++;
	}
	vq.desc[i] = (struct vring_desc){ (ulong)&status, 1, VRING_DESC_F_WRITE, 0 };
	if (!run_request())
		return 0xee;
	return status;
}

int main(void)
{
	handle_exception(MSIX_VECTOR, msix_isr);
	handle_exception(INTX_VECTOR, intx_isr);
	apic_enable();
	irq_enable();

	int slot = pci_find(VIRTIO_VENDOR, 0x1042, 0x1001);
	report(slot >= 0, "virtio-blk found on PCI bus 0");
	if (slot < 0)
		return report_summary();
	report(virtio_probe(&dev, slot), "modern capabilities: common, notify, ISR, device config");
	report(dev.msix_table != 0, "MSI-X capability and table");

	u64 offered = virtio_device_features(&dev);
	report(offered & (1ull << VIRTIO_F_VERSION_1), "VIRTIO_F_VERSION_1 offered");
	report(offered & (1ull << VIRTIO_F_INDIRECT_DESC), "VIRTIO_RING_F_INDIRECT_DESC offered");
	bool ro = (offered & (1ull << VIRTIO_BLK_F_RO)) != 0;
	printf("read-only: %s\n", ro ? "yes" : "no");
	u64 want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_BLK_F_FLUSH) |
		   (offered & ((1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_DISCARD)));
	report(virtio_negotiate(&dev, want), "FEATURES_OK with VERSION_1");
	u64 capacity = *(volatile u32 *)dev.devcfg | ((u64)*(volatile u32 *)(dev.devcfg + 4) << 32);
	printf("capacity: %llu sectors\n", (unsigned long long)capacity);

	/* MSI-X: entry 0 -> vector MSIX_VECTOR on this CPU; config changes get no vector. */
	virtio_msix_vector(&dev, 0, MSIX_VECTOR);
	virtio_msix_enable(&dev, true);
	dev.common->msix_config = VIRTIO_NO_VECTOR;
	u16 qsize = virtq_setup(&dev, &vq, 0, 8, ring_mem, 0);
	report(qsize == 8, "queue 0 set up with 8 entries");
	dev.common->queue_select = 0;
	report(dev.common->queue_msix_vector == 0, "queue 0 uses MSI-X vector 0");
	dev.common->device_status = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK;

	/* -append bench: only stream the whole disk in 64 KiB requests, read then write (npm run bench). */
	struct multiboot_info *mbi = multiboot_info;
	const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)(ulong)mbi->cmdline : "";
	bool bench = false;
	for (const char *p = cmd; *p && !bench; p++)
		bench = strncmp(p, "bench", 5) == 0;
	if (bench) {
		u32 chunk = sizeof(big) / 512, rd = 0, wr = 0;
		bool ok = true;
		for (u64 sct = 0; sct + chunk <= capacity && ok; sct += chunk, rd++)
			ok = request(VIRTIO_BLK_T_IN, sct, big, sizeof(big), true) == 0;
		for (u64 sct = 0; sct + chunk <= capacity && ok && !ro; sct += chunk, wr++)
			ok = request(VIRTIO_BLK_T_OUT, sct, big, sizeof(big), false) == 0;
		report(ok, "bench: read %u KiB, wrote %u KiB", rd * 64, wr * 64);
		return report_summary();
	}

	memset(data, 0, sizeof(data));
	u8 s = request(VIRTIO_BLK_T_IN, 0, data, 512, true);
	report(s == 0, "read sector 0: status %d", s);
	char sig[17];
	memcpy(sig, data, 16);
	sig[16] = 0;
	printf("sector 0 says: %s\n", sig);
	bool pattern = true;
	for (int i = 32; i < 512; i++)
		pattern &= data[i] == (u8)(i * 7);
	report(pattern, "sector 0 pattern");
	report(msix_irqs > 0, "completion interrupt through MSI-X");

	/* Write sector 1 through an indirect descriptor table. */
	for (int i = 0; i < 512; i++)
		data[i] = (u8)(0xa5 ^ i);
	memcpy(data, "written by guest", 16);
	hdr = (struct blk_req_hdr){ VIRTIO_BLK_T_OUT, 0, 1 };
	indirect[0] = (struct vring_desc){ (ulong)&hdr, sizeof(hdr), VRING_DESC_F_NEXT, 1 };
	indirect[1] = (struct vring_desc){ (ulong)data, 512, VRING_DESC_F_NEXT, 2 };
	indirect[2] = (struct vring_desc){ (ulong)&status, 1, VRING_DESC_F_WRITE, 0 };
	vq.desc[0] = (struct vring_desc){ (ulong)indirect, 3 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0 };
	bool done = run_request();
	if (ro)
		report(done && status == 1, "read-only drive: write refused with IOERR (status %d)", status);
	else
		report(done && status == 0, "write sector 1 through an indirect table: status %d", status);

	s = request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	report(s == 0, "flush: status %d", s);

	if (!ro && (offered & (1ull << VIRTIO_BLK_F_DISCARD))) {
		discard_seg = (struct blk_discard){ 3, 1, 0 };
		s = request(VIRTIO_BLK_T_DISCARD, 0, &discard_seg, sizeof(discard_seg), false);
		report(s == 0, "discard sector 3: status %d", s);
	}

	char id[21];
	memset(id, 0, sizeof(id));
	s = request(VIRTIO_BLK_T_GET_ID, 0, id, 20, true);
	report(s == 0, "get-id: status %d", s);
	printf("serial: %s\n", id);

	s = request(VIRTIO_BLK_T_IN, capacity, data, 512, true);
	report(s == 1, "read past the end: IOERR (status %d)", s);

	/* MSI-X off: the same completion arrives as INTx, routed by INTERRUPT_LINE through the IOAPIC. */
	u8 line = pci_read8(slot, 0, PCI_INTERRUPT_LINE);
	u8 pin = pci_read8(slot, 0, PCI_INTERRUPT_PIN);
	report(pin == 1 && line >= 3 && line < 16, "INTx: pin INTA, line %s", line == 10 || line == 11 ? "10 or 11" : "unexpected");
	virtio_msix_enable(&dev, false);
	ioapic_route(line, INTX_VECTOR, apic_id(), true, false);
	use_intx = true;
	int before = intx_irqs;
	memset(data, 0, sizeof(data));
	s = request(VIRTIO_BLK_T_IN, 1, data, 512, true);
	report(s == 0 && intx_irqs > before, "read sector 1 with an INTx completion");
	if (!ro)
		report(memcmp(data, "written by guest", 16) == 0 && data[100] == (u8)(0xa5 ^ 100), "sector 1 reads back what was written");
	ioapic_route(line, INTX_VECTOR, apic_id(), true, true);

	return report_summary();
}
