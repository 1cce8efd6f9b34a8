import {createHash} from 'node:crypto'

/**
 * Names for the API's statements, so each pooled connection parses and analyses a statement's text once and then
 * only plans (always a custom plan for the values given: db.ts) and executes it (node-postgres prepares a named
 * statement on first use per connection). The API builds its
 * SQL from fixed fragments (values are always bind parameters), so the set of texts is bounded by the code; the cap
 * keeps a future path that would make texts per request from growing every connection's statement cache: past
 * it, new texts run unnamed as before.
 */
export const MAX_PREPARED = 500

const names = new Map<string, string>()

export function statementName(sql: string): string | undefined {
  const known = names.get(sql)
  if (known !== undefined) return known
  if (names.size >= MAX_PREPARED) return undefined
  // A digest of the text: the same name must never stand for two texts on one connection.
  const name = `deai_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`
  names.set(sql, name)
  return name
}
