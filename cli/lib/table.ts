/**
 * @module cli/lib/table
 * Plain aligned columns (oclif 4 dropped ux.table): two spaces between columns, the last
 * column unpadded, numbers right-aligned where asked.
 *
 * @example
 * formatTable([['echo0', 'bound'], ['uart0', 'unbound']], { header: ['NAME', 'STATE'] });
 */
export interface TableOptions {
  header?: string[];
  /** Per column: 'l' (default) or 'r'. */
  align?: ('l' | 'r')[];
}

export function formatTable(rows: string[][], opts: TableOptions = {}): string[] {
  const all = opts.header ? [opts.header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return all.map((row) => row.map((cell, i) => {
    if (opts.align?.[i] === 'r') return cell.padStart(widths[i]!);
    return i === row.length - 1 ? cell : cell.padEnd(widths[i]!);
  }).join('  ').trimEnd());
}
