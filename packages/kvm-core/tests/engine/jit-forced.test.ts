/**
 * The engine's instruction suites again with the compiled tier forced on (threshold 1:
 * every block is compiled at its first execution), so the host-CPU oracle (64- and 32-bit),
 * the fuzz, the mode tests and the self-modifying-code tests also judge compiled code.
 * (The suites' own files run with the default threshold, mostly interpreted.)
 */
import { afterAll, beforeAll } from 'vitest';
import { jitParams } from '../../src/x86/engine/jit/block-cache';
import './oracle.test';
import './oracle32.test';
import './decode-cache.test';
import './long-mode.test';
import './protected-mode.test';
import './events.test';
import './fuzz.test';

const saved = jitParams.threshold;
beforeAll(() => { jitParams.threshold = 1; });
afterAll(() => { jitParams.threshold = saved; });
