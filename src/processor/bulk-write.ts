import {once} from 'node:events'
import {finished} from 'node:stream/promises'
import type {Store} from '@subsquid/typeorm-store'
import type {PoolClient} from 'pg'
import {from as copyFrom} from 'pg-copy-streams'
import type {EntityManager, EntityMetadata} from 'typeorm'
import {ApplyValueTransformers} from 'typeorm/util/ApplyValueTransformers'

/**
 * Bulk writes for the processor's write stage. Inside a transaction, groups of at least COPY_MIN_ROWS rows go through
 * COPY ... FROM STDIN in text format on the transaction's own pg client (upserts: COPY into a temporary table, then
 * one INSERT ... SELECT ... ON CONFLICT): Node builds the tab-separated lines itself, which costs far less than pg's
 * per-element array escaping, and the server loads them with its multi-row COPY path. Smaller groups (one round trip
 * matters more than encoding there) use one INSERT ... SELECT FROM unnest(text[], ...) statement.
 *
 * It reaches into @subsquid/typeorm-store 1.5.1 (pinned exactly in package.json) for the transaction's entity
 * manager and, inside the finality window, its hot-block change tracker: rows are registered with the tracker
 * exactly as Store.insert/upsert would, so a rollback of unfinalized blocks still deletes or restores them.
 */
interface StoreInternals {
  em(): EntityManager
  changes?: {
    trackInsert(type: Function, entities: object[]): Promise<void>
    trackUpsert(type: Function, entities: object[]): Promise<void>
  }
}

/**
 * Smallest group written with COPY. Measured on 2 cores: COPY inserts were as fast as unnest from a handful of rows
 * and ~1.7x faster from a thousand; upserts pay for a temporary table and a third statement, and only win from a few
 * hundred rows (~1.3x at 2,000).
 */
export const COPY_MIN_ROWS: Readonly<Record<Mode, number>> = {insert: 16, upsert: 200}

type Mode = 'insert' | 'upsert'

export async function bulkInsert<E extends {id: string}>(store: Store, rows: readonly E[]): Promise<void> {
  await bulkWrite(store, rows, 'insert')
}

/** Insert or update by id. Columns whose value is undefined (relations not loaded) are left as they are in the row. */
export async function bulkUpsert<E extends {id: string}>(store: Store, rows: readonly E[]): Promise<void> {
  await bulkWrite(store, rows, 'upsert')
}

/** What the write path needs of a column, computed once per entity type rather than per row. */
interface Column {
  quoted: string
  /** Server type for the unnest casts, e.g. `numeric`, `text[]`. */
  sqlType: string
  isId: boolean
  /** The entity's value (a relation as its id); undefined = not loaded. Before transformers: Subsquid's bigint
   *  transformer turns null into undefined, and an upsert must still write that null. */
  read(row: object): unknown
  /** The value as TypeORM would persist it (the column's transformers applied). */
  persist(value: unknown): unknown
  /** json/jsonb columns are always JSON text, whatever the value's JS type (a string or an array too). */
  json: boolean
}

interface Table {
  quoted: string
  columns: Column[]
}

const tables = new WeakMap<EntityMetadata, Table>()
let tempTables = 0

async function bulkWrite<E extends {id: string}>(store: Store, rows: readonly E[], mode: Mode): Promise<void> {
  const first = rows[0]
  if (!first) return
  const internals = store as unknown as StoreInternals
  const em = internals.em()
  const type = first.constructor
  const table = describe(em.connection.getMetadata(type))
  if (internals.changes) {
    if (mode === 'insert') await internals.changes.trackInsert(type, rows as E[])
    else await internals.changes.trackUpsert(type, rows as E[])
  }
  // COPY needs the transaction's own connection; outside a transaction there is none to borrow.
  const runner = em.queryRunner
  const client = runner?.isTransactionActive ? ((await runner.connect()) as PoolClient) : undefined
  // Rows with the same set of defined columns go in one statement (e.g. new rows carry their relations, loaded
  // rows do not, and an upsert must not null a relation it never loaded).
  for (const [columns, group] of groupByDefinedColumns(table, rows)) {
    if (client && group.length >= COPY_MIN_ROWS[mode]) await writeByCopy(client, table, columns, group, mode)
    else await em.query(unnestStatement(table, columns, mode), unnestParams(columns, group))
  }
}

function describe(metadata: EntityMetadata): Table {
  let table = tables.get(metadata)
  if (table) return table
  const driver = metadata.connection.driver
  const columns = metadata.columns.map((c): Column => {
    const base = driver.normalizeType(c)
    const {propertyName, transformer} = c
    // Plain columns are read straight off the row (TypeORM's getEntityValue showed up in profiles); relations and
    // embeddeds keep TypeORM's own lookup.
    const plain = !c.relationMetadata && !c.referencedColumn && !c.embeddedMetadata
    return {
      quoted: quote(c.databaseName),
      sqlType: c.isArray ? `${base}[]` : base,
      isId: c.databaseName === 'id',
      read: plain ? (row) => (row as Record<string, unknown>)[propertyName] : (row) => c.getEntityValue(row),
      persist: transformer ? (value) => ApplyValueTransformers.transformTo(transformer, value) : (value) => value,
      json: base === 'json' || base === 'jsonb',
    }
  })
  table = {quoted: quote(metadata.tableName), columns}
  tables.set(metadata, table)
  return table
}

function groupByDefinedColumns<E>(table: Table, rows: readonly E[]): Map<Column[], E[]> {
  const all = table.columns
  // Keyed by a bit mask of the defined columns (a string only past 32 columns): no per-row allocation.
  const groups = new Map<number | string, {columns: Column[]; rows: E[]}>()
  for (const row of rows) {
    let mask = 0
    let wide = ''
    for (let i = 0; i < all.length; i++) {
      if (all[i]!.read(row as object) === undefined) continue
      if (i < 32) mask |= 1 << i
      else wide += `${i},`
    }
    const key = wide ? `${mask}:${wide}` : mask
    let group = groups.get(key)
    if (!group) groups.set(key, (group = {columns: all.filter((c) => c.read(row as object) !== undefined), rows: []}))
    group.rows.push(row)
  }
  return new Map([...groups.values()].map((g) => [g.columns, g.rows]))
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

async function writeByCopy<E>(client: PoolClient, table: Table, columns: Column[], rows: E[], mode: Mode): Promise<void> {
  const names = columns.map((c) => c.quoted).join(', ')
  let target = table.quoted
  if (mode === 'upsert') {
    // Only the group's columns, with the target's types and no constraints: rows may leave NOT NULL columns unset.
    // ON COMMIT DROP: every batch is one transaction, so the catalog does not grow.
    target = `"bulk_upsert_${++tempTables}"`
    await client.query(`CREATE TEMP TABLE ${target} ON COMMIT DROP AS SELECT ${names} FROM ${table.quoted} WITH NO DATA`)
  }
  await copyRows(client, `COPY ${target} (${names}) FROM STDIN`, columns, rows)
  if (mode === 'upsert') {
    await client.query(`INSERT INTO ${table.quoted} (${names}) SELECT ${names} FROM ${target}${onConflict(columns)}`)
  }
}

/**
 * Streams rows as COPY text lines, a chunk at a time, so that the server parses one chunk while Node encodes the next.
 */
async function copyRows<E>(client: PoolClient, sql: string, columns: Column[], rows: E[]): Promise<void> {
  const stream = client.query(copyFrom(sql))
  const done = finished(stream)
  const width = columns.length
  let chunk = ''
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as object
    for (let i = 0; i < width; i++) {
      const column = columns[i]!
      const value = column.persist(column.read(row))
      chunk += value === null || value === undefined ? '\\N' : copyText(column, value)
      chunk += i === width - 1 ? '\n' : '\t'
    }
    if (chunk.length >= 1 << 18 || r === rows.length - 1) {
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), done])
      chunk = ''
    }
  }
  stream.end()
  await done
}

/** One field of COPY text format: backslash, tab, newline and carriage return escaped. */
function copyText(column: Column, value: unknown): string {
  // JSON text never holds a raw tab, newline or carriage return (JSON escapes them): only backslashes to double.
  if (column.json) return doubleBackslashes(JSON.stringify(value))
  if (typeof value === 'string') return copyEscape(value)
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return copyEscape(arrayLiteral(value))
  // bytea's hex input `\x...`, its backslash escaped for COPY.
  if (value instanceof Uint8Array) return '\\\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  if (typeof value === 'object') return copyEscape(JSON.stringify(value))
  return copyEscape(String(value))
}

const COPY_SPECIAL = /[\\\t\n\r]/
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g
const COPY_ESCAPES: Record<string, string> = {'\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r'}

function copyEscape(s: string): string {
  // Most values (hashes, addresses, numbers) need no escaping: test before allocating a replacement.
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : s
}

function doubleBackslashes(s: string): string {
  return s.includes('\\') ? s.replace(/\\/g, '\\\\') : s
}

function onConflict(columns: Column[]): string {
  const updates = columns.filter((c) => !c.isId).map((c) => `${c.quoted} = EXCLUDED.${c.quoted}`)
  return updates.length ? ` ON CONFLICT ("id") DO UPDATE SET ${updates.join(', ')}` : ` ON CONFLICT ("id") DO NOTHING`
}

function unnestStatement(table: Table, columns: Column[], mode: Mode): string {
  const names = columns.map((c) => c.quoted).join(', ')
  const aliases = columns.map((_, i) => `c${i}`)
  const unnest = columns.map((_, i) => `$${i + 1}::text[]`).join(', ')
  const casts = columns.map((c, i) => `${aliases[i]}::${c.sqlType}`).join(', ')
  const sql = `INSERT INTO ${table.quoted} (${names}) SELECT ${casts} FROM unnest(${unnest}) AS u(${aliases.join(', ')})`
  return mode === 'upsert' ? sql + onConflict(columns) : sql
}

/** One text[] per column; the server casts each back to the column's type. */
function unnestParams<E>(columns: Column[], rows: E[]): (string | null)[][] {
  return columns.map((column) => rows.map((row) => toText(column, column.persist(column.read(row as object)))))
}

function toText(column: Column, value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (column.json) return JSON.stringify(value)
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return arrayLiteral(value)
  if (value instanceof Uint8Array) return '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** Postgres array literal for text-like elements: every element quoted, backslashes and quotes escaped. */
function arrayLiteral(values: unknown[]): string {
  const items = values.map((v) => (v === null || v === undefined ? 'NULL' : `"${String(v).replace(/[\\"]/g, '\\$&')}"`))
  return `{${items.join(',')}}`
}
