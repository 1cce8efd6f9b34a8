/**
 * Rows of one entity type for the duration of a batch: loaded once, changed in memory, written once.
 * Tracks which rows are new and which loaded rows changed, so the write stage can insert the first and upsert only
 * the second.
 */
export class EntityMap<E extends {id: string}> {
  private readonly rows = new Map<string, E>()
  private readonly created = new Set<string>()
  private readonly updated = new Set<string>()

  constructor(loaded: Iterable<E> = []) {
    for (const row of loaded) this.rows.set(row.id, row)
  }

  get(id: string): E | undefined {
    return this.rows.get(id)
  }

  has(id: string): boolean {
    return this.rows.has(id)
  }

  /** Adds a row that was not loaded from the database. */
  add(row: E): E {
    if (this.rows.has(row.id)) throw new Error(`EntityMap.add: row ${row.id} exists already`)
    this.rows.set(row.id, row)
    this.created.add(row.id)
    return row
  }

  /** Marks a row as changed after it was mutated in place. */
  touch(row: E): E {
    if (this.rows.get(row.id) !== row) throw new Error(`EntityMap.touch: row ${row.id} is not the one held here`)
    if (!this.created.has(row.id)) this.updated.add(row.id)
    return row
  }

  values(): IterableIterator<E> {
    return this.rows.values()
  }

  /** New rows in id order, so writes (and foreign keys between rows of one batch) are deterministic. */
  createdRows(): E[] {
    return this.pick(this.created)
  }

  /** Loaded rows that changed, in id order. */
  updatedRows(): E[] {
    return this.pick(this.updated)
  }

  private pick(ids: Set<string>): E[] {
    return [...ids].sort().map((id) => this.rows.get(id)!)
  }
}
