/**
 * @module platform/json-check
 * Typed readers over a parsed, located JSON document that collect located diagnostics instead
 * of throwing, so one pass reports every problem of a file. Shared by the platform-file and
 * the manifest validators.
 */
import type { JsonLocation, LocatedJson, SourcePos } from './json-locate.js';
import { childPath } from './json-locate.js';
import { describeValue, type Diagnostic } from './diagnostic.js';
import { didYouMean } from './suggest.js';

export interface ReportOptions {
  /** Point at the member's key instead of its value (unknown keys, duplicate keys). */
  at?: 'key' | 'value';
  suggestions?: string[];
  driver?: string;
}

const LAST_SEGMENT = /(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\])$/;

export class JsonChecker {
  readonly diagnostics: Diagnostic[] = [];

  constructor(readonly file: string, readonly json: LocatedJson) {}

  /** Location of `path`, or of its nearest located ancestor. */
  locate(path: string): JsonLocation | undefined {
    for (let p = path; ; ) {
      const loc = this.json.locations.get(p);
      if (loc) return loc;
      if (p === '') return undefined;
      const m = LAST_SEGMENT.exec(p);
      p = m ? p.slice(0, m.index) : ''; // no segment left: a top-level key, whose parent is the root
    }
  }

  pos(path: string, at: 'key' | 'value' = 'value'): SourcePos | undefined {
    const loc = this.locate(path);
    return at === 'key' ? (loc?.key ?? loc?.value) : loc?.value;
  }

  error(path: string, message: string, opts: ReportOptions = {}): void {
    const p = this.pos(path, opts.at);
    const d: Diagnostic = { file: this.file, path, message, suggestions: opts.suggestions ?? [] };
    if (p) {
      d.line = p.line;
      d.col = p.col;
    }
    if (opts.driver !== undefined) d.driver = opts.driver;
    this.diagnostics.push(d);
  }

  /** Reports `expected <what>, got <value>`. */
  expected(path: string, what: string, got: unknown, suggestions?: string[]): undefined {
    this.error(path, `expected ${what}, got ${describeValue(got)}`, { suggestions });
    return undefined;
  }

  /** Reports every duplicate key of the document ("later one wins" is a silent bug source). */
  reportDuplicateKeys(): void {
    for (const d of this.json.duplicateKeys) {
      this.error(d.path, `duplicate key (first defined at ${d.first.line}:${d.first.col}; JSON keeps only the last)`, { at: 'key' });
    }
  }

  isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  }

  object(path: string, v: unknown): Record<string, unknown> | undefined {
    return this.isObject(v) ? v : this.expected(path, 'an object', v);
  }

  array(path: string, v: unknown): unknown[] | undefined {
    return Array.isArray(v) ? v : this.expected(path, 'an array', v);
  }

  string(path: string, v: unknown, nonEmpty = true): string | undefined {
    if (typeof v !== 'string') return this.expected(path, nonEmpty ? 'a non-empty string' : 'a string', v);
    if (nonEmpty && v.trim() === '') return this.expected(path, 'a non-empty string', v);
    return v;
  }

  boolean(path: string, v: unknown): boolean | undefined {
    return typeof v === 'boolean' ? v : this.expected(path, 'true or false', v);
  }

  /** An integer JSON number in [min, max]. */
  integer(path: string, v: unknown, min: number, max: number, what = `an integer in ${min}..${max}`): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return this.expected(path, what, v);
    return v;
  }

  /** One of a fixed set of strings, with a suggestion when close to one. */
  oneOf<T extends string>(path: string, v: unknown, allowed: readonly T[], what: string): T | undefined {
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    const close = typeof v === 'string' ? didYouMean(v, allowed) : undefined;
    // "did you mean ic0, ic1 or ic2?" repeats the list; only suggest when it narrows the choice.
    const hint = close !== undefined && allowed.some((a) => !close.includes(JSON.stringify(a))) ? close : undefined;
    const list = allowed.length === 2 ? allowed.join(' or ') : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`;
    this.error(path, `${what} must be ${list}, got ${describeValue(v)}${hint ? ` (${hint})` : ''}`, { suggestions: hint ? [hint] : [] });
    return undefined;
  }

  /** A string or a non-empty array of non-empty strings (device-tree `compatible` style). */
  stringList(path: string, v: unknown, allowEmpty = false): string[] | undefined {
    if (typeof v === 'string') return this.string(path, v) === undefined ? undefined : [v];
    if (!Array.isArray(v)) return this.expected(path, 'a string or an array of strings', v);
    if (v.length === 0 && !allowEmpty) return this.expected(path, 'a string or a non-empty array of strings', v);
    const out: string[] = [];
    let ok = true;
    v.forEach((s, i) => {
      const str = this.string(childPath(path, i), s);
      if (str === undefined) ok = false;
      else out.push(str);
    });
    return ok ? out : undefined;
  }

  /**
   * Reports keys of `obj` not in `known` (pointing at the key, with a "did you mean") and
   * required keys that are missing (pointing at the object). Returns false if any was missing.
   */
  keys(path: string, obj: Record<string, unknown>, known: readonly string[], required: readonly string[] = []): boolean {
    for (const k of Object.keys(obj)) {
      if (known.includes(k)) continue;
      const hint = didYouMean(k, known);
      this.error(childPath(path, k), `unknown key ${JSON.stringify(k)}${hint ? ` (${hint})` : ''}`, {
        at: 'key',
        suggestions: [hint ?? `known keys: ${known.join(', ')}`],
      });
    }
    let ok = true;
    for (const k of required) {
      if (Object.hasOwn(obj, k)) continue;
      ok = false;
      this.error(path, `missing required field ${JSON.stringify(k)}`);
    }
    return ok;
  }
}
