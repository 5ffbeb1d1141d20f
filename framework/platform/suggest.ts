/**
 * @module platform/suggest
 * "Did you mean ...?" for misspelt keys and driver names: Levenshtein distance and a ranking
 * of the close candidates.
 */

/**
 * Edit distance between `a` and `b`: insertions, deletions, substitutions and swaps of two
 * adjacent characters each count 1 (Levenshtein with transpositions, "optimal string
 * alignment"), so the typo "entyr" is one edit from "entry".
 */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length]!;
}

/**
 * Candidates close to `word`, best first (at most `limit`). Case is ignored; "close" means at
 * most a third of the longer word's length in edits (at least 1), or a case-only difference.
 */
export function closest(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = word.toLowerCase();
  const scored: { name: string; d: number }[] = [];
  for (const name of new Set(candidates)) {
    if (name === word) continue;
    const d = levenshtein(w, name.toLowerCase());
    const max = Math.max(1, Math.floor(Math.max(w.length, name.length) / 3));
    if (d <= max) scored.push({ name, d });
  }
  // A case-only difference ("IC1" for "ic1") is the answer; don't list the near misses too.
  if (scored.some((s) => s.d === 0)) return scored.filter((s) => s.d === 0).slice(0, limit).map((s) => s.name);
  scored.sort((x, y) => x.d - y.d || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, limit).map((s) => s.name);
}

/** `did you mean "a"?` / `did you mean "a" or "b"?`, or undefined when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  if (c.length === 0) return undefined;
  const quoted = c.map((s) => JSON.stringify(s));
  const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  return `did you mean ${list}?`;
}
