/**
 * @module pending-table
 * The requests an endpoint waits answers for, by id. A `Map` would do, but one insert and one
 * delete per request make V8 keep rebuilding its hash table, and with it the records get
 * tenured: at a few hundred thousand requests a second that is a full collection every few
 * hundred milliseconds. Ids are handed out in sequence, so a power-of-two array indexed by the
 * id's low bits holds them without hashing; a collision (more in flight than slots, or a very
 * old request still waiting) doubles the array.
 */
export class PendingTable<T> {
  private slots: ({ id: number; value: T } | undefined)[];
  private mask: number;
  private count = 0;

  constructor(initialSlots = 64) {
    let n = 1;
    while (n < initialSlots) n <<= 1;
    this.slots = new Array<{ id: number; value: T } | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  get size(): number { return this.count; }

  get(id: number): T | undefined {
    const e = this.slots[id & this.mask];
    return e !== undefined && e.id === id ? e.value : undefined;
  }

  has(id: number): boolean {
    const e = this.slots[id & this.mask];
    return e !== undefined && e.id === id;
  }

  set(id: number, value: T): void {
    for (;;) {
      const i = id & this.mask;
      const e = this.slots[i];
      if (e === undefined || e.id === id) {
        if (e === undefined) this.count++;
        this.slots[i] = { id, value };
        return;
      }
      this.grow();
    }
  }

  /** Removes `id`; true if it was there. */
  delete(id: number): boolean {
    const i = id & this.mask;
    const e = this.slots[i];
    if (e === undefined || e.id !== id) return false;
    this.slots[i] = undefined;
    this.count--;
    return true;
  }

  *values(): Generator<T> {
    for (const e of this.slots) if (e !== undefined) yield e.value;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.count = 0;
  }

  /** Doubles the array until every entry has a slot of its own. */
  private grow(): void {
    for (let n = this.slots.length * 2; ; n *= 2) {
      const next = new Array<{ id: number; value: T } | undefined>(n).fill(undefined);
      const mask = n - 1;
      let ok = true;
      for (const e of this.slots) {
        if (e === undefined) continue;
        if (next[e.id & mask] !== undefined) { ok = false; break; }
        next[e.id & mask] = e;
      }
      if (ok) { this.slots = next; this.mask = mask; return; }
    }
  }
}
