import {gzipSync} from 'node:zlib'
import type {Pool} from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type IndexedDevnet, startIndexedDevnet} from '../test-support/indexed-devnet'
import {createApiPool} from './db'
import {QUERY_LIMITS} from './limits'
import {type ApiServer, startApiServer} from './server'
import {TEST_API_CONFIG} from './testing'

/**
 * Hostile GraphQL over real HTTP against the indexed devnet: injection strings in every string argument of every
 * query field, bombs (depth, aliases, batches, fragments, introspection), huge pages, invalid scalars, oversized and
 * malformed bodies. Each must get a clear error (a message and a code, never the masked "Unexpected error."), the
 * server must answer a normal query right after, and the database must be byte-for-byte what it was.
 */
const INJECTIONS = [
  `' OR '1'='1`,
  `'; DROP TABLE audit_event; --`,
  `0x' UNION SELECT usename, passwd FROM pg_shadow --`,
  `$$; DELETE FROM account; $$`,
  `\\'); INSERT INTO account (id) VALUES ('x'); --`,
  `1; SELECT pg_sleep(10)`,
  `%' AND 1=(SELECT count(*) FROM pg_tables) --`,
  `\u0000'`,
  `ʼ OR 1=1 --`,
  'x'.repeat(5_000),
]
// Codes of errors the client caused. Some refusals (graphql-armor's limits, graphql-js validation) carry no code; they
// pass if their message is their own and the HTTP status is not a server error.
const CLIENT_CODES = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST'])

interface Answer {
  status: number
  body: {data?: unknown; errors?: {message: string; extensions?: {code?: string}}[]}
}

describe('hostile GraphQL', () => {
  let net: IndexedDevnet
  let pool: Pool
  let server: ApiServer
  let before: string

  beforeAll(async () => {
    net = await startIndexedDevnet()
    pool = createApiPool(net.db.url, {statementTimeoutMs: 5000})
    server = await startApiServer({config: {...TEST_API_CONFIG, API_HOST: '127.0.0.1', API_PORT: 0}, pool, logError: () => undefined})
    before = await snapshot(net.pool)
  })
  afterAll(async () => {
    await server?.close()
    await pool?.end()
    await net?.close()
  })

  const post = async (body: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers},
      body,
      signal: AbortSignal.timeout(20_000),
    })
    const text = await res.text()
    return {status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Answer['body']} // 415 has no body
  }
  const query = (q: string, variables?: Record<string, unknown>) => post(JSON.stringify({query: q, variables}))

  /** A clear refusal: errors, each with its own message and a client-error code or none; nothing masked, no 5xx. */
  const expectClearError = (a: Answer, what: string) => {
    expect(a.status, what).toBeLessThan(500)
    expect(a.body.errors?.length, what).toBeGreaterThan(0)
    for (const e of a.body.errors ?? []) {
      expect(e.message, what).not.toBe('Unexpected error.')
      expect(e.message.length, what).toBeGreaterThan(10)
      const code = e.extensions?.code
      expect(code === undefined || CLIENT_CODES.has(code), `${what}: ${code} ${e.message}`).toBe(true)
    }
  }
  /** The server still answers a normal query with the right data. */
  const expectStillServing = async () => {
    const a = await query('{ indexStatus { height } }')
    expect(a.body).toEqual({data: {indexStatus: {height: net.head}}})
  }

  it('injection strings in every string argument of every query field: no row, or a clear error; never a masked one', async () => {
    const schema = (await query(INTROSPECT)).body.data as {__schema: {queryType: {name: string}; types: IntroType[]}}
    const probes = injectionProbes(schema.__schema.types, schema.__schema.queryType.name, INJECTIONS)
    // Every domain has string arguments; a schema change that drops them all would make this test vacuous.
    expect(probes.length).toBeGreaterThan(150)
    for (const p of probes) {
      const a = await query(p.document, p.variables)
      if (a.body.errors) expectClearError(a, p.label)
      else expect(emptyAnswer(a.body.data), `${p.label}: ${JSON.stringify(a.body.data)}`).toBe(true)
    }
    await expectStillServing()
  })

  it('bombs and huge pages get clear errors', async () => {
    const nest = (n: number) => {
      let s = 'id'
      for (let i = 0; i < n; i++) s = `proposal { votes { edges { node { ${s} } } } }`
      return `{ proposals { edges { node { ${s.replace(/^proposal \{ /, '').replace(/ \}$/, '')} } } } }`
    }
    const aliases = `{ ${Array.from({length: 500}, (_, i) => `a${i}: indexStatus { height }`).join(' ')} }`
    const fragmentCycle = `{ proposals { edges { node { ...A } } } } fragment A on Proposal { ...B } fragment B on Proposal { ...A }`
    const introspection = `{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }`
    const directives = `{ indexStatus { height ${'@include(if: true) '.repeat(100)} } }`
    const wide = `{ proposals(first: 1000000) { totalCount } }`
    const viaVariables = `query($n: Int) { proposals(first: $n) { totalCount } }`
    for (const [what, a] of [
      ['depth', await query(nest(6))],
      ['aliases', await query(aliases)],
      ['fragment cycle', await query(fragmentCycle)],
      ['introspection depth', await query(introspection)],
      ['directives', await query(directives)],
      ['first: 1,000,000', await query(wide)],
      ['first in variables', await query(viaVariables, {n: 10_000_000})],
      ['tokens', await query(`{ indexStatus { ${'height '.repeat(QUERY_LIMITS.maxTokens)} } }`)],
    ] as const) {
      expectClearError(a, what)
      await expectStillServing()
    }
    const batch = await post(JSON.stringify(Array.from({length: 100}, () => ({query: '{ indexStatus { height } }'}))))
    expect(JSON.stringify(batch.body)).toMatch(/[Bb]atch/)
    await expectStillServing()
  })

  it('invalid scalars get BAD_USER_INPUT or a validation error naming the value', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['query($a: Address!) { account(address: $a) { balance } }', {a: '0x12'}],
      ['query($a: Address!) { account(address: $a) { balance } }', {a: 'not an address'}],
      ['query($a: Address!) { account(address: $a) { balance } }', {a: 12}],
      ['query($a: Address!, $b: Int) { account(address: $a, atBlock: $b) { balance } }', {a: `0x${'1'.repeat(40)}`, b: -1}],
      ['query($a: Address!, $b: Int) { account(address: $a, atBlock: $b) { balance } }', {a: `0x${'1'.repeat(40)}`, b: 2 ** 40}],
      ['query($a: Address!, $b: Int) { account(address: $a, atBlock: $b) { balance } }', {a: `0x${'1'.repeat(40)}`, b: 1.5}],
      ['query($n: Int) { proposals(first: $n) { totalCount } }', {n: -5}],
      ['query($c: String) { proposals(after: $c) { totalCount } }', {c: 'bm90IGEgY3Vyc29y'}],
      ['query($c: String) { proposals(after: $c) { totalCount } }', {c: '\u0000\uffff'}],
    ]
    for (const [q, vars] of cases) {
      expectClearError(await query(q, vars), `${q} ${JSON.stringify(vars)}`)
    }
    await expectStillServing()
  })

  it('oversized, chunked and malformed bodies are refused before any work', async () => {
    const big = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({query: `{ indexStatus { height } } # ${'x'.repeat(QUERY_LIMITS.maxBodyBytes)}`}),
    })
    expect(big.status).toBe(413)
    expect(await big.text()).toMatch(/larger than the limit of 100000 bytes/)
    await expectStillServing()

    const chunks = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"query":"{ indexStatus { height } }"}'))
        c.close()
      },
    })
    const chunked = await fetch(`${server.url}/graphql`, {
      method: 'POST', headers: {'content-type': 'application/json'}, body: chunks, duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(411)
    await expectStillServing()

    // A compressed body is refused with 415 and what would be accepted, not parsed as (malformed) JSON.
    const document = JSON.stringify({query: '{ indexStatus { height } }'})
    const gzipped = await fetch(`${server.url}/graphql`, {
      method: 'POST', headers: {'content-type': 'application/json', 'content-encoding': 'gzip'}, body: gzipSync(document),
    })
    expect(gzipped.status).toBe(415)
    expect(gzipped.headers.get('accept-encoding')).toBe('identity')
    expect(await gzipped.json()).toEqual({errors: [{message: expect.stringMatching(/Content-Encoding "gzip" is not supported/), extensions: {code: 'BAD_REQUEST'}}]})
    const identity = await fetch(`${server.url}/graphql`, {
      method: 'POST', headers: {'content-type': 'application/json', 'content-encoding': 'identity'}, body: document,
    })
    expect(identity.status).toBe(200)
    await expectStillServing()

    expect((await post('[]')).status).toBeLessThan(500) // an empty batch: nothing to do, nothing refused
    for (const body of ['{"query": ', 'null', '{"query": 42}', '\u0000\u0001', '{"query": "{ indexStatus { height } }", "variables": "x"}']) {
      const a = await post(body)
      expect(a.status, body).toBeGreaterThanOrEqual(400)
      expect(a.status, body).toBeLessThan(500)
      expect(a.body.errors?.[0]?.message, body).toBeTruthy()
    }
    const xml = await post('<query/>', {'content-type': 'application/xml'})
    expect(xml.status).toBeGreaterThanOrEqual(400)
    await expectStillServing()
  })

  it('mutations do not exist, and after everything above the database is exactly as it was', async () => {
    expectClearError(await query('mutation { __typename }'), 'mutation')
    expect(await snapshot(net.pool)).toBe(before)
  })
})

/** The parts of an introspection answer this test reads. */
interface TypeRef {
  kind: string
  name: string | null
  ofType: TypeRef | null
}
interface InputValue {
  name: string
  type: TypeRef
}
interface IntroType {
  kind: string
  name: string
  fields: {name: string; args: InputValue[]; type: TypeRef}[] | null
  inputFields: InputValue[] | null
  enumValues: {name: string}[] | null
}

const TYPE_REF = 'kind name ofType { kind name ofType { kind name ofType { kind name } } }'
const INTROSPECT = `{ __schema { queryType { name } types { kind name enumValues { name }
  fields { name type { ${TYPE_REF} } args { name type { ${TYPE_REF} } } } inputFields { name type { ${TYPE_REF} } } } } }`

const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t)
const typeString = (t: TypeRef): string =>
  t.kind === 'NON_NULL' ? `${typeString(t.ofType!)}!` : t.kind === 'LIST' ? `[${typeString(t.ofType!)}]` : t.name!
const STRINGLIKE = new Set(['String', 'ID', 'Address', 'BigInt', 'DateTime'])

interface Probe {
  label: string
  document: string
  variables: Record<string, unknown>
}

/**
 * For every query field and every argument that takes a string (directly, or as a field of an input object), one
 * document per payload: the payload in a variable at that place, valid values for the other required arguments, and
 * the smallest valid selection (`totalCount` of a connection, else `__typename`).
 */
function injectionProbes(types: IntroType[], queryType: string, payloads: readonly string[]): Probe[] {
  const byName = new Map(types.map((t) => [t.name, t]))
  const literal = (t: TypeRef): unknown => {
    if (t.kind === 'NON_NULL') return literal(t.ofType!)
    if (t.kind === 'LIST') return []
    const type = byName.get(t.name!)!
    if (type.kind === 'ENUM') return type.enumValues![0]!.name
    if (type.kind === 'INPUT_OBJECT') return Object.fromEntries(type.inputFields!.filter((f) => f.type.kind === 'NON_NULL').map((f) => [f.name, literal(f.type)]))
    return ({Int: 1, Boolean: true, Address: `0x${'1'.repeat(40)}`} as Record<string, unknown>)[t.name!] ?? 'x'
  }
  const probes: Probe[] = []
  for (const field of byName.get(queryType)!.fields!) {
    const ret = byName.get(named(field.type).name!)!
    const selection = ret.kind !== 'OBJECT' ? '' : ret.fields!.some((f) => f.name === 'totalCount') ? '{ totalCount }' : '{ __typename }'
    const required = field.args.filter((a) => a.type.kind === 'NON_NULL')
    for (const target of field.args) {
      const argType = byName.get(named(target.type).name!)!
      const places: (string | null)[] = STRINGLIKE.has(argType.name) ? [null] : []
      if (argType.kind === 'INPUT_OBJECT') for (const f of argType.inputFields!) if (STRINGLIKE.has(named(f.type).name!)) places.push(f.name)
      for (const place of places) {
        for (const payload of payloads) {
          const others = required.filter((a) => a !== target)
          const variables: Record<string, unknown> = Object.fromEntries(others.map((a) => [a.name, literal(a.type)]))
          variables[target.name] = place === null ? payload : {...(literal(target.type) as object), [place]: payload}
          const used = [...others, target]
          const defs = used.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ')
          const args = used.map((a) => `${a.name}: $${a.name}`).join(', ')
          probes.push({
            label: `${field.name}(${target.name}${place ? `.${place}` : ''}) ← ${JSON.stringify(payload.slice(0, 40))}`,
            document: `query(${defs}) { ${field.name}(${args}) ${selection} }`,
            variables,
          })
        }
      }
    }
  }
  return probes
}

/** No data leaked: nulls, empty lists or zero counts all the way down (a found row would be an injection hit). */
function emptyAnswer(data: unknown): boolean {
  if (data === null || data === undefined) return true
  if (typeof data === 'object') {
    return Object.entries(data as Record<string, unknown>).every(([k, v]) => k === '__typename' || (k === 'totalCount' ? v === 0 : emptyAnswer(v)))
  }
  return false
}

/** Every row of every table (public and the processor's status), hashed per table: any write changes it. */
async function snapshot(pool: Pool): Promise<string> {
  const tables = await pool.query<{s: string; t: string}>(
    `SELECT schemaname AS s, tablename AS t FROM pg_tables WHERE schemaname IN ('public', 'squid_processor') ORDER BY 1, 2`,
  )
  const parts: string[] = []
  for (const {s, t} of tables.rows) {
    const name = `"${s}"."${t.replace(/"/g, '""')}"` // names from the catalogue, quoted
    const r = await pool.query<{n: string; h: string | null}>(`SELECT count(*)::text AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${name} x`)
    parts.push(`${s}.${t}:${r.rows[0]!.n}:${r.rows[0]!.h ?? ''}`)
  }
  return parts.join('\n')
}
