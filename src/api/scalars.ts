import {GraphQLScalarType, Kind, type ValueNode} from 'graphql'
import {getAddress} from 'viem'
import {badInput} from './errors'

/**
 * The API's scalars. Invalid input fails with BAD_USER_INPUT and says what was expected; output is canonical:
 * amounts as exact decimal strings (uint256 does not fit a JSON number), addresses EIP-55 checksummed.
 */

const DECIMAL = /^-?\d{1,80}$/

function parseBigInt(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  if (typeof value === 'string' && DECIMAL.test(value)) return BigInt(value).toString()
  throw badInput(`BigInt must be an integer as a decimal string, e.g. "1000000000000000000", got ${JSON.stringify(value)}`)
}

export const BigIntScalar = new GraphQLScalarType({
  name: 'BigInt',
  description: 'An integer of any size (uint256 amounts, on-chain ids) as a decimal string; exact, never rounded.',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString()
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
    // Postgres numeric arrives as text; anything else here is a server bug, masked like any other.
    if (typeof value === 'string' && DECIMAL.test(value)) return value
    throw new TypeError(`BigInt cannot represent ${String(value)}`)
  },
  parseValue: parseBigInt,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return parseBigInt(ast.value)
    throw badInput('BigInt must be given as a decimal string or an integer literal')
  },
})

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** Input in any letter case (no checksum enforced); lowercased because the index stores addresses lowercased. */
function parseAddress(value: unknown): string {
  if (typeof value === 'string' && ADDRESS.test(value)) return value.toLowerCase()
  throw badInput(`Address must be 0x followed by 40 hex digits, got ${JSON.stringify(value)}`)
}

/**
 * Checksummed forms of the addresses served recently. A list repeats the same few addresses (a token, a delegate)
 * on every row, and EIP-55 costs a keccak per address; cleared when full, so memory stays bounded.
 */
const CHECKSUM_CACHE_MAX = 50_000
const checksums = new Map<string, string>()

function checksummed(value: string): string {
  let out = checksums.get(value)
  if (out === undefined) {
    if (!ADDRESS.test(value)) throw new TypeError(`Address cannot represent ${value}`)
    if (checksums.size >= CHECKSUM_CACHE_MAX) checksums.clear()
    out = getAddress(value.toLowerCase())
    checksums.set(value, out)
  }
  return out
}

export const AddressScalar = new GraphQLScalarType({
  name: 'Address',
  description: 'An Ethereum address: accepted in any letter case, returned EIP-55 checksummed.',
  serialize(value) {
    if (typeof value === 'string') return checksummed(value)
    throw new TypeError(`Address cannot represent ${String(value)}`)
  },
  parseValue: parseAddress,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.STRING) return parseAddress(ast.value)
    throw badInput('Address must be given as a string')
  },
})

function parseDateTime(value: unknown): Date {
  const d = typeof value === 'string' ? new Date(value) : undefined
  if (d && !Number.isNaN(d.getTime()) && /^\d{4}-\d{2}-\d{2}T/.test(value as string)) return d
  throw badInput(`DateTime must be an ISO 8601 string such as 2024-01-31T12:00:00Z, got ${JSON.stringify(value)}`)
}

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant as an ISO 8601 string in UTC, e.g. 2024-01-31T12:00:00.000Z.',
  serialize(value) {
    const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined
    if (d && !Number.isNaN(d.getTime())) return d.toISOString()
    throw new TypeError(`DateTime cannot represent ${String(value)}`)
  },
  parseValue: parseDateTime,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.STRING) return parseDateTime(ast.value)
    throw badInput('DateTime must be given as a string')
  },
})

/** Output only (decoded event arguments): the stored JSON as is, uint256 values already decimal strings. */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Arbitrary JSON: decoded event arguments, uint256 values as decimal strings, addresses lowercased as logged.',
  serialize: (value) => value,
  parseValue() {
    throw badInput('JSON is an output-only scalar')
  },
  parseLiteral() {
    throw badInput('JSON is an output-only scalar')
  },
})

export const scalarResolvers = {
  BigInt: BigIntScalar,
  Address: AddressScalar,
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
}
