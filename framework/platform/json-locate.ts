/**
 * @module platform/json-locate
 * A small strict JSON parser (RFC 8259) that also records where every value (and every
 * object key) sits in the source text, so that validation errors can say
 * `file:12:18: devices[2].reg[0].size: ...` instead of only a path. JSON.parse cannot tell us
 * positions and its syntax-error wording differs between V8 versions, hence this parser.
 */

/** A place in the source text. `line` and `col` are 1-based; `col` counts UTF-16 code units. */
export interface SourcePos {
  offset: number;
  line: number;
  col: number;
}

/** Where a value is, and for an object member where its key is. */
export interface JsonLocation {
  value: SourcePos;
  key?: SourcePos;
}

export interface DuplicateKey {
  /** Path of the member that appears twice (the later one wins, as with JSON.parse). */
  path: string;
  /** The later occurrence's key. */
  at: SourcePos;
  /** The first occurrence's key. */
  first: SourcePos;
}

export interface LocatedJson {
  value: unknown;
  /** Location of every value by path: "" (root), "devices[2].reg[0]", 'properties["buffer-size"]'. */
  locations: Map<string, JsonLocation>;
  duplicateKeys: DuplicateKey[];
}

/** A JSON syntax error; `excerpt` is the offending line with a caret under the column. */
export class JsonSyntaxError extends Error {
  constructor(readonly pos: SourcePos, readonly reason: string, readonly excerpt: string) {
    super(`${pos.line}:${pos.col}: ${reason}`);
    this.name = 'JsonSyntaxError';
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Path of a child value: `a.b`, `a[3]`, `a["odd-key"]`. The root's path is "". */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENT.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Maps offsets to line/column and cuts excerpts; built once per text. */
export class LineTable {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  pos(offset: number): SourcePos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { offset, line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }

  /** The line holding `offset` (clipped to ~80 columns around it) and a caret line under it. */
  excerpt(offset: number): string {
    const { line, col } = this.pos(offset);
    const start = this.starts[line - 1]!;
    let end = this.text.indexOf('\n', start);
    if (end < 0) end = this.text.length;
    let text = this.text.slice(start, end).replace(/\r$/, '').replace(/\t/g, ' ');
    let caret = col - 1;
    if (text.length > 80) {
      const from = Math.max(0, Math.min(caret - 40, text.length - 80));
      text = (from > 0 ? '…' : '') + text.slice(from, from + 80) + (from + 80 < text.length ? '…' : '');
      caret = caret - from + (from > 0 ? 1 : 0);
    }
    return `${text}\n${' '.repeat(Math.max(0, caret))}^`;
  }
}

const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD = /[A-Za-z0-9_$.+-]+/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parses `text` as strict JSON. Throws JsonSyntaxError with the exact position on bad input. */
export function parseJsonLocated(text: string): LocatedJson {
  return new Parser(text).parseDocument();
}

class Parser {
  private i = 0;
  private readonly lines: LineTable;
  private readonly locations = new Map<string, JsonLocation>();
  private readonly duplicateKeys: DuplicateKey[] = [];

  constructor(private readonly text: string) {
    this.lines = new LineTable(text);
    if (text.charCodeAt(0) === 0xfeff) this.i = 1; // a UTF-8 BOM is harmless; skip it
  }

  parseDocument(): LocatedJson {
    this.ws();
    if (this.i >= this.text.length) this.fail(this.i, 'the file is empty (expected a JSON value)');
    const value = this.value('', 0, undefined);
    this.ws();
    if (this.i < this.text.length) this.fail(this.i, `unexpected ${this.describeAt(this.i)} after the end of the JSON value`);
    return { value, locations: this.locations, duplicateKeys: this.duplicateKeys };
  }

  private fail(offset: number, reason: string): never {
    throw new JsonSyntaxError(this.lines.pos(offset), reason, this.lines.excerpt(offset));
  }

  private describeAt(offset: number): string {
    if (offset >= this.text.length) return 'end of input';
    WORD.lastIndex = offset;
    const m = WORD.exec(this.text);
    if (m) return `token ${JSON.stringify(m[0].slice(0, 30))}`;
    return `character ${JSON.stringify(this.text[offset])}`;
  }

  private ws(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else if (c === 0x2f && (t[this.i + 1] === '/' || t[this.i + 1] === '*')) this.fail(this.i, 'comments are not allowed in JSON');
      else break;
    }
  }

  private value(path: string, depth: number, key: SourcePos | undefined): unknown {
    const start = this.i;
    this.locations.set(path, key ? { value: this.lines.pos(start), key } : { value: this.lines.pos(start) });
    if (depth > MAX_DEPTH) this.fail(start, `nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.text[start];
    if (c === '{') return this.object(path, depth);
    if (c === '[') return this.array(path, depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    WORD.lastIndex = start;
    const word = WORD.exec(this.text)?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      this.i += word.length;
      return word === 'null' ? null : word === 'true';
    }
    if (c === "'") this.fail(start, 'unexpected character "\'" (JSON strings use double quotes)');
    this.fail(start, `unexpected ${this.describeAt(start)} (expected a JSON value)`);
  }

  private object(path: string, depth: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    const keyPos = new Map<string, SourcePos>();
    this.i++; // {
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return obj;
    }
    for (;;) {
      if (this.text[this.i] !== '"') {
        const what = this.describeAt(this.i);
        this.fail(this.i, `expected a double-quoted property name, got ${what}`);
      }
      const kpos = this.lines.pos(this.i);
      const key = this.string();
      this.ws();
      if (this.text[this.i] !== ':') this.fail(this.i, `expected ":" after property name ${JSON.stringify(key)}, got ${this.describeAt(this.i)}`);
      this.i++;
      this.ws();
      const member = childPath(path, key);
      const v = this.value(member, depth + 1, kpos);
      const first = keyPos.get(key);
      if (first) this.duplicateKeys.push({ path: member, at: kpos, first });
      else keyPos.set(key, kpos);
      // defineProperty: a "__proto__" key must become data, not change the prototype.
      Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.text[this.i];
      if (c === '}') {
        this.i++;
        return obj;
      }
      if (c !== ',') this.fail(this.i, `expected "," or "}" after a property value, got ${this.describeAt(this.i)}`);
      const comma = this.i;
      this.i++;
      this.ws();
      if (this.text[this.i] === '}') this.fail(comma, 'trailing comma before "}" is not allowed in JSON');
    }
  }

  private array(path: string, depth: number): unknown[] {
    const arr: unknown[] = [];
    this.i++; // [
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(childPath(path, arr.length), depth + 1, undefined));
      this.ws();
      const c = this.text[this.i];
      if (c === ']') {
        this.i++;
        return arr;
      }
      if (c !== ',') this.fail(this.i, `expected "," or "]" after an array element, got ${this.describeAt(this.i)}`);
      const comma = this.i;
      this.i++;
      this.ws();
      if (this.text[this.i] === ']') this.fail(comma, 'trailing comma before "]" is not allowed in JSON');
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.i;
    let out = '';
    let run = ++this.i; // start of the current run without escapes
    for (;;) {
      if (this.i >= t.length) this.fail(start, 'unterminated string');
      const c = t.charCodeAt(this.i);
      if (c === 0x22) {
        out += t.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c === 0x0a || c === 0x0d) this.fail(start, 'unterminated string (a string cannot span lines; write \\n)');
      if (c < 0x20) this.fail(this.i, 'control character in string (escape it, e.g. \\t)');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += t.slice(run, this.i);
      const e = t[this.i + 1];
      if (e === 'u') {
        const hex = t.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(this.i, 'bad \\u escape (expected 4 hex digits)');
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 6;
      } else if (e !== undefined && e in ESCAPES) {
        out += ESCAPES[e];
        this.i += 2;
      } else {
        this.fail(this.i, `bad escape ${JSON.stringify('\\' + (e ?? ''))} in string`);
      }
      run = this.i;
    }
  }

  private number(): number {
    const start = this.i;
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(this.text);
    WORD.lastIndex = start;
    const word = WORD.exec(this.text)![0];
    if (!m || m[0].length !== word.length) {
      const hint = /^-?0[xX][0-9a-fA-F]+$/.test(word) ? ` (write hex numbers as strings: "${word}")` : '';
      this.fail(start, `invalid number ${JSON.stringify(word)}${hint}`);
    }
    this.i += m[0].length;
    return Number(m[0]);
  }
}
