import {badInput} from './errors'

/**
 * Opaque cursors for keyset pagination: base64url of JSON `[kind, ...sortKeyValues]`. The kind names the list and
 * its sort key, so a cursor from one list (or one ordering) is refused by another instead of silently mis-paging.
 * Values are strings (ids, addresses, decimal numerics) or integers (block numbers).
 */
export type CursorValue = string | number
export type CursorShape = readonly ('string' | 'int' | 'decimal')[]

export function encodeCursor(kind: string, values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([kind, ...values]), 'utf8').toString('base64url')
}

export function decodeCursor(cursor: string, kind: string, shape: CursorShape): CursorValue[] {
  const invalid = () => badInput(`invalid cursor for this list: pass an endCursor or edge cursor this list returned`)
  if (cursor.length > 1024 || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw invalid()
  let decoded: unknown
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalid()
  }
  if (!Array.isArray(decoded) || decoded[0] !== kind || decoded.length !== shape.length + 1) throw invalid()
  const values = decoded.slice(1) as unknown[]
  values.forEach((v, i) => {
    const ok =
      shape[i] === 'int'
        ? Number.isSafeInteger(v)
        : typeof v === 'string' && (shape[i] !== 'decimal' || /^-?\d{1,80}$/.test(v))
    if (!ok) throw invalid()
  })
  return values as CursorValue[]
}
