/** What virtio-blk needs from an opened image (QEMU's BlockDriver subset): byte-addressed, asynchronous. */
export interface BlockDriver {
  readonly path: string;
  readonly readonly: boolean;
  /** The virtual disk size in bytes. */
  readonly size: number;
  read(offset: number, bufs: Uint8Array[]): Promise<void>;
  write(offset: number, bufs: Uint8Array[]): Promise<void>;
  flush(): Promise<void>;
  zero(offset: number, len: number): Promise<void>;
  close(): void;
}
