/**
 * Dynamic address translation hook. The engine calls it for every logical access
 * while the PSW's T bit is on; it returns the real address or raises the translation
 * exception through cpu.pgm.
 */
import type { S390Cpu } from './cpu';

export interface DatTranslator {
  translate(cpu: S390Cpu, la: number, write: boolean, fetch: boolean): number;
  /** Drop cached translations (PTLB, IPTE, IDTE, control-register loads). */
  flush(): void;
}
