/**
 * @module platform/diagnostic
 * One problem found in a platform file or a driver manifest, located in the source text, and
 * its one-line rendering `file:line:col: path: message` (the format compilers use, so editors
 * and terminals can jump to it).
 */

export interface Diagnostic {
  /** The file the problem is in (absolute path, or "<inline>"). */
  file: string;
  /** 1-based position of the offending value; absent for whole-file problems (unreadable file). */
  line?: number;
  col?: number;
  /** Path of the offending value, e.g. "devices[2].reg[0].size"; "" for the document itself. */
  path: string;
  message: string;
  /** Things the user can do about it ("did you mean ...?"). */
  suggestions: string[];
  /** For driver-index problems: the driver the problem is about, when its name is known. */
  driver?: string;
  /** For syntax errors: the offending source line and a caret line under the column. */
  excerpt?: string;
}

/**
 * `file:line:col: path: message` (parts that are unknown or empty are left out), followed by
 * the excerpt, if any, indented by `excerptIndent`.
 */
export function formatDiagnostic(d: Diagnostic, excerptIndent = '    '): string {
  const loc = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
  const head = d.path === '' ? `${loc}: ${d.message}` : `${loc}: ${d.path}: ${d.message}`;
  if (d.excerpt === undefined) return head;
  return `${head}\n${d.excerpt.split('\n').map((l) => excerptIndent + l).join('\n')}`;
}

/** A diagnostic for a JSON syntax error. */
export function syntaxDiagnostic(file: string, e: { pos: { line: number; col: number }; reason: string; excerpt: string }): Diagnostic {
  return { file, line: e.pos.line, col: e.pos.col, path: '', message: `invalid JSON: ${e.reason}`, suggestions: [], excerpt: e.excerpt };
}

/** Short rendering of a JSON value for "got ..." in messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
