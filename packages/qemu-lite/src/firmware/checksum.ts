/** The 8-bit checksum ACPI and the MP spec use: all bytes of the structure sum to 0. */
export function checksum8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return (0x100 - sum) & 0xff;
}

export function sum8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]!) & 0xff;
  return sum;
}

export function writeAscii(buf: Uint8Array, offset: number, s: string, width: number, pad = 0x20): void {
  for (let i = 0; i < width; i++) buf[offset + i] = i < s.length ? s.charCodeAt(i) : pad;
}
