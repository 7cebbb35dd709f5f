/**
 * Control-flow signals inside the engine. A faulting instruction throws FAULT (the
 * architectural exception is in cpu.faultVector/faultErrorCode); something that leaves
 * guest mode mid-instruction throws EXIT (details in cpu.exit). Both are preallocated
 * singletons: raising costs no allocation.
 */
export class EngineSignal {
  constructor(readonly name: string) {}
}
export const FAULT = new EngineSignal('fault');
export const EXIT = new EngineSignal('exit');
