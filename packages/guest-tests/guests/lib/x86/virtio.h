/*
 * A minimal virtio 1.x driver over PCI (modern capabilities), header-only: the device is
 * found by its capabilities, reset, negotiated, and each split virtqueue lives in static
 * guest memory (identity-mapped). Used by the device guests.
 */
#ifndef KVMTS_X86_VIRTIO_H
#define KVMTS_X86_VIRTIO_H
#include "pci.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VIRTIO_NO_VECTOR 0xffff

struct virtio_pci_common_cfg {
	u32 device_feature_select, device_feature, driver_feature_select, driver_feature;
	u16 msix_config, num_queues;
	u8 device_status, config_generation;
	u16 queue_select, queue_size, queue_msix_vector, queue_enable, queue_notify_off;
	u32 queue_desc_lo, queue_desc_hi, queue_driver_lo, queue_driver_hi, queue_device_lo, queue_device_hi;
} __attribute__((packed));

struct vring_desc { u64 addr; u32 len; u16 flags, next; } __attribute__((packed));
struct vring_used_elem { u32 id, len; };

#define VQ_MAX 16
struct virtq {
	u16 size, index, last_used;
	struct vring_desc *desc;
	volatile u16 *avail; /* flags, idx, ring[size], used_event */
	volatile u16 *used;  /* flags, idx, then elems (u32 id, len), avail_event */
	volatile u16 *notify;
};

struct virtio_dev {
	int slot;
	volatile struct virtio_pci_common_cfg *common;
	volatile u8 *isr, *devcfg;
	volatile u8 *notify_base;
	u32 notify_mult;
	int msix_cap;
	volatile u32 *msix_table;
};

static inline volatile u8 *virtio_cap_region(int slot, int cap, u32 *len)
{
	int bar = pci_read8(slot, 0, cap + 4);
	u32 off = pci_read32(slot, 0, cap + 8);
	if (len)
		*len = pci_read32(slot, 0, cap + 12);
	u64 base = pci_bar_addr(slot, bar);
	if (base == 0 || base + off >= (1ull << 32))
		return 0;
	return (volatile u8 *)(ulong)(base + off);
}

/* Finds the four modern regions and the MSI-X table; false if any is missing. */
static inline bool virtio_probe(struct virtio_dev *v, int slot)
{
	v->slot = slot;
	v->common = 0;
	v->isr = v->devcfg = v->notify_base = 0;
	pci_write16(slot, 0, PCI_COMMAND, pci_read16(slot, 0, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	for (int c = pci_find_cap(slot, PCI_CAP_ID_VNDR, 0); c; c = pci_find_cap(slot, PCI_CAP_ID_VNDR, c)) {
		u8 type = pci_read8(slot, 0, c + 3);
		if (type == 1 && !v->common)
			v->common = (volatile struct virtio_pci_common_cfg *)virtio_cap_region(slot, c, 0);
		else if (type == 2 && !v->notify_base) {
			v->notify_base = virtio_cap_region(slot, c, 0);
			v->notify_mult = pci_read32(slot, 0, c + 16);
		} else if (type == 3 && !v->isr)
			v->isr = virtio_cap_region(slot, c, 0);
		else if (type == 4 && !v->devcfg)
			v->devcfg = virtio_cap_region(slot, c, 0);
	}
	v->msix_cap = pci_find_cap(slot, PCI_CAP_ID_MSIX, 0);
	v->msix_table = 0;
	if (v->msix_cap) {
		u32 t = pci_read32(slot, 0, v->msix_cap + 4);
		u64 base = pci_bar_addr(slot, t & 7);
		if (base && base < (1ull << 32))
			v->msix_table = (volatile u32 *)(ulong)(base + (t & ~7u));
	}
	return v->common && v->isr && v->devcfg && v->notify_base;
}

static inline u64 virtio_device_features(struct virtio_dev *v)
{
	v->common->device_feature_select = 0;
	u64 lo = v->common->device_feature;
	v->common->device_feature_select = 1;
	return lo | ((u64)v->common->device_feature << 32);
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns whether the device kept FEATURES_OK. */
static inline bool virtio_negotiate(struct virtio_dev *v, u64 features)
{
	v->common->device_status = 0;
	while (v->common->device_status != 0)
		cpu_relax();
	v->common->device_status = VIRTIO_S_ACKNOWLEDGE;
	v->common->device_status = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER;
	v->common->driver_feature_select = 0;
	v->common->driver_feature = (u32)features;
	v->common->driver_feature_select = 1;
	v->common->driver_feature = (u32)(features >> 32);
	v->common->device_status = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK;
	return (v->common->device_status & VIRTIO_S_FEATURES_OK) != 0;
}

/* Sets up queue `index` in `mem` (16 KiB, 4 KiB aligned) with at most `size` entries; returns its size (0: failure). */
static inline u16 virtq_setup(struct virtio_dev *v, struct virtq *q, u16 index, u16 size, void *mem, u16 msix_vector)
{
	v->common->queue_select = index;
	u16 max = v->common->queue_size;
	if (max == 0)
		return 0;
	if (size > max)
		size = max;
	memset(mem, 0, 16384);
	q->size = size;
	q->index = index;
	q->last_used = 0;
	q->desc = mem;
	q->avail = (volatile u16 *)((u8 *)mem + 16 * size);
	q->used = (volatile u16 *)((u8 *)mem + 8192);
	v->common->queue_size = size;
	v->common->queue_desc_lo = (u32)(ulong)q->desc;
	v->common->queue_desc_hi = 0;
	v->common->queue_driver_lo = (u32)(ulong)q->avail;
	v->common->queue_driver_hi = 0;
	v->common->queue_device_lo = (u32)(ulong)q->used;
	v->common->queue_device_hi = 0;
	v->common->queue_msix_vector = msix_vector;
	u16 off = v->common->queue_notify_off;
	q->notify = (volatile u16 *)(v->notify_base + off * v->notify_mult);
	v->common->queue_enable = 1;
	return size;
}

/* Makes the chain at descriptor `head` available (the caller filled the descriptors). */
static inline void virtq_submit(struct virtq *q, u16 head)
{
	u16 idx = q->avail[1];
	q->avail[2 + idx % q->size] = head;
	asm volatile("" ::: "memory");
	q->avail[1] = idx + 1;
}

static inline void virtq_kick(struct virtq *q) { *q->notify = q->index; }

static inline u16 virtq_used_idx(struct virtq *q) { return q->used[1]; }

/* The next used element, if any: returns true and its id/len. */
static inline bool virtq_get_used(struct virtq *q, u32 *id, u32 *len)
{
	if (virtq_used_idx(q) == q->last_used)
		return false;
	asm volatile("" ::: "memory");
	volatile u32 *e = (volatile u32 *)(q->used + 2) + 2 * (q->last_used % q->size);
	*id = e[0];
	*len = e[1];
	q->last_used++;
	return true;
}

/* MSI-X table entry: a fixed interrupt `vector` to the BSP's APIC, unmasked. */
static inline void virtio_msix_vector(struct virtio_dev *v, int entry, u8 vector)
{
	volatile u32 *e = v->msix_table + 4 * entry;
	e[0] = 0xfee00000u;
	e[1] = 0;
	e[2] = vector;
	e[3] = 0;
}

static inline void virtio_msix_enable(struct virtio_dev *v, bool on)
{
	u16 ctl = pci_read16(v->slot, 0, v->msix_cap + 2);
	ctl = on ? (ctl | 0x8000) & ~0x4000 : ctl & ~0x8000;
	pci_write16(v->slot, 0, v->msix_cap + 2, ctl);
}
#endif
