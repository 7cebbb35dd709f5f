/**
 * A virtio device model (the part behind the transport, as QEMU's VirtIODevice): its
 * feature bits, its device-specific configuration space, its queues and what happens on
 * a queue notification. The transport (virtio-pci.ts) does feature negotiation, status,
 * queue setup and interrupts, and calls back here.
 */
import type { Virtqueue } from './virtqueue';

/** What a device model may ask of its transport. */
export interface VirtioTransport {
  /** The queues, by index (set up by the driver through the transport). */
  readonly queues: readonly Virtqueue[];
  /** Whether the driver accepted feature `bit` (valid once FEATURES_OK). */
  driverHasFeature(bit: number): boolean;
  /** Raise the used-buffer notification for a queue if the driver wants one. */
  notifyQueue(q: Virtqueue): void;
  /** The device configuration changed (link status): config_generation++ and a config interrupt. */
  notifyConfigChange(): void;
  /** Something the driver did is malformed: DEVICE_NEEDS_RESET and a config interrupt (spec 2.1.2). */
  needsReset(reason: string): void;
  /** True when DRIVER_OK is set and the device is not waiting for a reset. */
  readonly live: boolean;
  /** Ask the VMM's loop to look at the vCPUs again (after an asynchronous completion). */
  kick(): void;
}

export interface VirtioDeviceModel {
  /** VIRTIO_ID_* */
  readonly deviceId: number;
  readonly name: string;
  /** Device feature bits 0-31 and 32-63 (the transport adds VERSION_1, INDIRECT_DESC, EVENT_IDX). */
  readonly featuresLo: number;
  readonly featuresHi: number;
  readonly numQueues: number;
  readonly queueMaxSize: number;
  /** The device-specific configuration space (read by the driver through the device cfg region). */
  readonly config: Uint8Array;
  /** Byte-wise writable mask of config (most fields are read-only). */
  configWrite?(offset: number, data: Uint8Array): void;
  /** Bound once by the transport. */
  attach(t: VirtioTransport): void;
  /** The driver notified queue `index` (an ioeventfd-style callback). */
  queueNotify(index: number): void;
  /** DRIVER_OK was set. */
  activate?(): void;
  /** The driver wrote 0 to device_status: drop in-flight work, forget the queues. */
  reset(): void;
  /** Host resources (files, sockets). */
  close?(): void;
}
