/*
 * A virtio-net driver of our own on bare metal, for a pair of guests on one netdev: the
 * guest whose MAC ends in an odd byte is the requester, the other the responder. The
 * requester broadcasts an ARP request for 10.0.0.2 (retransmitting until answered); the
 * responder answers each request with an ARP reply from its MAC; the requester then
 * sends a "done" frame (ethertype 0x88b5) a few times and both exit. Receive buffers are
 * posted on queue 0, frames leave on queue 1, each behind a 12-byte virtio_net_hdr.
 */
#include "libc.h"
#include "x86/setup.h"
#include "x86/virtio.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define NET_HDR 12
#define RX_BUFS 8
#define BUF_SIZE 1536
#define ETH_P_ARP 0x0806
#define ETH_P_DONE 0x88b5
#define ETH_P_BENCH 0x88b6
/* -append bench: after the ARP exchange the requester streams this many full-size frames. */
#define BENCH_FRAMES 4000

static u8 rx_ring[16384] __attribute__((aligned(4096)));
static u8 tx_ring[16384] __attribute__((aligned(4096)));
static u8 rx_buf[RX_BUFS][BUF_SIZE] __attribute__((aligned(16)));
static u8 tx_buf[BUF_SIZE] __attribute__((aligned(16)));
static struct virtio_dev dev;
static struct virtq rxq, txq;
static u8 mac[6];
static const u8 ip_requester[4] = { 10, 0, 0, 1 };
static const u8 ip_responder[4] = { 10, 0, 0, 2 };

static void post_rx(u16 i)
{
	rxq.desc[i] = (struct vring_desc){ (ulong)rx_buf[i], BUF_SIZE, VRING_DESC_F_WRITE, 0 };
	virtq_submit(&rxq, i);
}

static void put16(u8 *p, u16 v) { p[0] = v >> 8; p[1] = v; }
static u16 get16(const u8 *p) { return (p[0] << 8) | p[1]; }

/* Sends `len` bytes of frame (after the header in tx_buf) and waits for the device to take it. */
static bool send_frame(u32 len)
{
	memset(tx_buf, 0, NET_HDR);
	txq.desc[0] = (struct vring_desc){ (ulong)tx_buf, NET_HDR + len, 0, 0 };
	u16 before = virtq_used_idx(&txq);
	virtq_submit(&txq, 0);
	virtq_kick(&txq);
	for (u32 n = 0; n < 50000000 && virtq_used_idx(&txq) == before; n++)
		cpu_relax();
	u32 id, l;
	return virtq_get_used(&txq, &id, &l);
}

/* An ARP packet (RFC 826) for IPv4 over Ethernet. */
static u32 build_arp(u16 op, const u8 *dst_mac, const u8 *sender_ip, const u8 *target_mac, const u8 *target_ip)
{
	u8 *f = tx_buf + NET_HDR;
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, ETH_P_ARP);
	u8 *a = f + 14;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, mac, 6);
	memcpy(a + 14, sender_ip, 4);
	memcpy(a + 18, target_mac, 6);
	memcpy(a + 24, target_ip, 4);
	memset(f + 42, 0, 18); /* pad to the 60-byte minimum */
	return 60;
}

/* The next received frame (pointer past the header) or 0; `*slot` is its buffer, to repost. */
static u8 *recv_frame(u32 *len, u16 *slot)
{
	u32 id, l;
	if (!virtq_get_used(&rxq, &id, &l))
		return 0;
	*slot = id;
	*len = l >= NET_HDR ? l - NET_HDR : 0;
	return rx_buf[id] + NET_HDR;
}

static void print_mac(const char *what, const u8 *m)
{
	printf("%s %02x:%02x:%02x:%02x:%02x:%02x\n", what, m[0], m[1], m[2], m[3], m[4], m[5]);
}

int main(void)
{
	int slot = pci_find(VIRTIO_VENDOR, 0x1041, 0x1000);
	report(slot >= 0, "virtio-net found on PCI bus 0");
	if (slot < 0)
		return report_summary();
	report(virtio_probe(&dev, slot), "modern capabilities: common, notify, ISR, device config");
	u64 offered = virtio_device_features(&dev);
	report((offered & (1ull << VIRTIO_F_VERSION_1)) && (offered & (1ull << VIRTIO_NET_F_MAC)), "VERSION_1 and VIRTIO_NET_F_MAC offered");
	report(virtio_negotiate(&dev, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) | (offered & (1ull << VIRTIO_NET_F_STATUS))),
	       "FEATURES_OK");
	for (int i = 0; i < 6; i++)
		mac[i] = dev.devcfg[i];
	bool requester = mac[5] & 1;
	print_mac(requester ? "requester, MAC" : "responder, MAC", mac);
	if (offered & (1ull << VIRTIO_NET_F_STATUS))
		report((dev.devcfg[6] & 1) != 0, "link up");
	dev.common->msix_config = VIRTIO_NO_VECTOR;
	report(virtq_setup(&dev, &rxq, 0, RX_BUFS, rx_ring, VIRTIO_NO_VECTOR) == RX_BUFS, "rx queue");
	report(virtq_setup(&dev, &txq, 1, 4, tx_ring, VIRTIO_NO_VECTOR) == 4, "tx queue");
	for (u16 i = 0; i < RX_BUFS; i++)
		post_rx(i);
	dev.common->device_status = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK;
	virtq_kick(&rxq);

	struct multiboot_info *mbi = multiboot_info;
	const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)(ulong)mbi->cmdline : "";
	bool bench = false;
	for (const char *p = cmd; *p && !bench; p++)
		bench = strncmp(p, "bench", 5) == 0;
	u32 bench_frames = 0;

	static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const u8 zero_mac[6];
	bool got = false, done = false;
	int requests = 0;
	/*
	 * The wait is counted in iterations, so a faster engine makes it shorter in wall time:
	 * the bound leaves the peer (another VMM process, perhaps started later on a loaded
	 * host) tens of seconds to answer.
	 */
	for (u32 n = 0; n < 4000000000u && !got && !done; n++) {
		if (requester && n % 2000000 == 0) {
			send_frame(build_arp(1, bcast, ip_requester, zero_mac, ip_responder));
			requests++;
		}
		u32 len;
		u16 buf;
		u8 *f = recv_frame(&len, &buf);
		if (!f) {
			cpu_relax();
			continue;
		}
		u16 type = len >= 14 ? get16(f + 12) : 0;
		if (type == ETH_P_ARP && len >= 42) {
			u8 *a = f + 14;
			u16 op = get16(a + 6);
			if (!requester && op == 1 && memcmp(a + 24, ip_responder, 4) == 0) {
				static bool printed;
				if (!printed) {
					printf("ARP request: who has 10.0.0.2? tell %d.%d.%d.%d\n", a[14], a[15], a[16], a[17]);
					print_mac("  from", a + 8);
					printed = true;
				}
				u8 peer[6];
				memcpy(peer, a + 8, 6);
				send_frame(build_arp(2, peer, ip_responder, peer, ip_requester));
			} else if (requester && op == 2 && memcmp(a + 14, ip_responder, 4) == 0 && memcmp(f, mac, 6) == 0) {
				printf("ARP reply: 10.0.0.2 is at %02x:%02x:%02x:%02x:%02x:%02x\n", a[8], a[9], a[10], a[11], a[12], a[13]);
				got = true;
			}
		} else if (type == ETH_P_DONE && !requester) {
			done = true;
		} else if (type == ETH_P_BENCH && !requester) {
			bench_frames++;
		}
		post_rx(buf);
		virtq_kick(&rxq);
	}
	if (requester) {
		report(got, "ARP reply received");
		if (bench && got) {
			u32 sent = 0;
			for (u32 i = 0; i < BENCH_FRAMES; i++) {
				u8 *f = tx_buf + NET_HDR;
				memcpy(f, bcast, 6);
				memcpy(f + 6, mac, 6);
				put16(f + 12, ETH_P_BENCH);
				sent += send_frame(1514);
			}
			report(sent == BENCH_FRAMES, "bench: sent %u frames of 1514 bytes", sent);
		}
		for (int i = 0; i < 3; i++) {
			u8 *f = tx_buf + NET_HDR;
			memcpy(f, bcast, 6);
			memcpy(f + 6, mac, 6);
			put16(f + 12, ETH_P_DONE);
			memset(f + 14, 0, 46);
			send_frame(60);
		}
	} else {
		report(done, "done frame received");
		if (bench)
			printf("bench: received %u frames\n", bench_frames);
	}
	report((dev.common->device_status & VIRTIO_S_NEEDS_RESET) == 0, "device did not ask for a reset");
	return report_summary();
}
