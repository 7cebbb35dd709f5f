/**
 * The guests the engine engineer assembled for the bare engine (packages/kvm-core/tests/
 * engine/*.test.ts), read from those files so the vendor matrix runs exactly their
 * sources: every `it(...)` block that assembles a guest inline, boots it with
 * createMachine(code, org) in real mode and checks the console (port 0xE9) and the
 * final exit. Guests that need the bare engine's internals (interceptOverride, direct
 * CPU state) or extra memory slots beside the harness's RAM are not picked.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface EngineGuest {
  file: string;
  title: string;
  source: string;
  org: number;
  /** Expected console text, when the engine test checks it. */
  console: string | undefined;
  /** 'HLT' or 'TRIPLE_FAULT', when the engine test checks it. */
  exit: string | undefined;
}

const DIR = fileURLToPath(new URL('../../kvm-core/tests/engine/', import.meta.url));
export const ENGINE_GUEST_FILES = ['real-mode.test.ts', 'protected-mode.test.ts', 'long-mode.test.ts', 'system.test.ts', 'events.test.ts'];

/** The text of a template literal starting at `start` (just after the opening backtick). */
function templateEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') { i++; continue; }
    if (depth === 0 && c === '`') return i;
    if (c === '$' && text[i + 1] === '{') { depth++; i++; continue; }
    if (depth > 0 && c === '}') depth--;
  }
  throw new Error('unterminated template');
}

/** The balanced-parenthesis argument text after `open` (an index just past '('). */
function argEnd(text: string, open: number): number {
  let depth = 1;
  let inStr: string | null = null;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === inStr) inStr = null;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') inStr = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new Error('unbalanced');
}

function evalTemplate(body: string, env: Record<string, string>): string {
  const names = Object.keys(env);
  return new Function(...names, `return \`${body}\`;`)(...names.map((n) => env[n])) as string;
}

export function loadEngineGuests(): EngineGuest[] {
  const out: EngineGuest[] = [];
  for (const file of ENGINE_GUEST_FILES) {
    const text = readFileSync(DIR + file, 'utf8');
    const env: Record<string, string> = {};
    // guest-lib.ts's shared sources first, then the file's own constants.
    const lib = readFileSync(DIR + 'guest-lib.ts', 'utf8');
    for (const src of [lib, text]) for (const m of src.matchAll(/^(?:export )?const (\w+) = `/gm)) {
      const start = m.index! + m[0].length;
      env[m[1]!] = evalTemplate(src.slice(start, templateEnd(src, start)), env);
    }
    const its = [...text.matchAll(/\bit\('((?:[^'\\]|\\.)*)'/g)];
    for (let k = 0; k < its.length; k++) {
      const from = its[k]!.index!;
      const to = k + 1 < its.length ? its[k + 1]!.index! : text.length;
      const block = text.slice(from, to);
      const a = block.indexOf('assemble(`');
      if (a < 0 || /interceptOverride|enterLongMode|\.cpu\.run\(|inValues|memslots\.set/.test(block)) continue;
      const start = a + 'assemble(`'.length;
      const end = templateEnd(block, start);
      const org = /^`,\s*(0x[0-9a-f]+)\)/i.exec(block.slice(end));
      if (org === null || !block.includes('createMachine(code, ')) continue;
      let consoleText: string | undefined;
      const c = block.indexOf('expect(consoleText(m)).toBe(');
      if (c >= 0) {
        const s = c + 'expect(consoleText(m)).toBe('.length;
        consoleText = new Function(`return (${block.slice(s, argEnd(block, s))});`)() as string;
      }
      const ex = /expect\(r\.name\)\.toBe\('(\w+)'\)/.exec(block);
      out.push({
        file, title: its[k]![1]!.replace(/\\'/g, "'"),
        source: evalTemplate(block.slice(start, end), env), org: Number(org[1]), console: consoleText, exit: ex?.[1],
      });
    }
  }
  return out;
}
