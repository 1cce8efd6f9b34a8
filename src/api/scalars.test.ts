import {GraphQLError, Kind, parseValue} from 'graphql'
import {describe, expect, it} from 'vitest'
import {AddressScalar, BigIntScalar, DateTimeScalar, JSONScalar} from './scalars'

const literal = (source: string) => parseValue(source)

const codeOf = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    return {message: (e as Error).message, code: (e as GraphQLError).extensions?.code}
  }
  throw new Error('expected a throw')
}

describe('BigInt', () => {
  it('round-trips uint256 values exactly as decimal strings', () => {
    const max = (2n ** 256n - 1n).toString()
    expect(BigIntScalar.parseValue(max)).toBe(max)
    expect(BigIntScalar.serialize(max)).toBe(max)
    expect(BigIntScalar.serialize(2n ** 200n)).toBe((2n ** 200n).toString())
    expect(BigIntScalar.serialize(42)).toBe('42')
    expect(BigIntScalar.parseValue('-7')).toBe('-7')
    expect(BigIntScalar.parseValue('007')).toBe('7')
    expect(BigIntScalar.parseLiteral(literal('"123"'))).toBe('123')
    expect(BigIntScalar.parseLiteral(literal('123'))).toBe('123')
  })

  it('rejects anything that is not an integer with BAD_USER_INPUT', () => {
    for (const bad of ['1.5', '1e18', '', ' 1', '0x10', 'abc', 1.5, null, true]) {
      expect(codeOf(() => BigIntScalar.parseValue(bad))).toMatchObject({code: 'BAD_USER_INPUT', message: expect.stringMatching(/decimal string/)})
    }
    expect(codeOf(() => BigIntScalar.parseLiteral(literal('1.5')))).toMatchObject({code: 'BAD_USER_INPUT'})
    expect(() => BigIntScalar.serialize('1.5')).toThrow(TypeError)
  })
})

describe('Address', () => {
  const lower = '0x5fbdb2315678afecb367f032d93f642f64180aa3'
  const checksummed = '0x5FbDB2315678afecb367f032d93F642f64180aa3'

  it('accepts any letter case and lowercases for SQL', () => {
    for (const v of [lower, checksummed, lower.toUpperCase().replace('0X', '0x')]) expect(AddressScalar.parseValue(v)).toBe(lower)
    expect(AddressScalar.parseLiteral({kind: Kind.STRING, value: checksummed})).toBe(lower)
  })

  it('returns EIP-55 checksummed addresses', () => {
    expect(AddressScalar.serialize(lower)).toBe(checksummed)
    expect(AddressScalar.serialize(checksummed)).toBe(checksummed)
  })

  it('rejects malformed addresses with BAD_USER_INPUT', () => {
    for (const bad of ['0x123', lower.slice(2), `${lower}00`, `0x${'g'.repeat(40)}`, 42, null]) {
      expect(codeOf(() => AddressScalar.parseValue(bad))).toMatchObject({code: 'BAD_USER_INPUT', message: expect.stringMatching(/40 hex digits/)})
    }
    expect(codeOf(() => AddressScalar.parseLiteral(literal('42')))).toMatchObject({code: 'BAD_USER_INPUT'})
  })
})

describe('DateTime', () => {
  it('serializes Dates and accepts ISO strings', () => {
    expect(DateTimeScalar.serialize(new Date(Date.UTC(2024, 0, 31, 12)))).toBe('2024-01-31T12:00:00.000Z')
    expect((DateTimeScalar.parseValue('2024-01-31T12:00:00Z') as Date).getTime()).toBe(Date.UTC(2024, 0, 31, 12))
    expect(codeOf(() => DateTimeScalar.parseValue('yesterday'))).toMatchObject({code: 'BAD_USER_INPUT'})
    expect(codeOf(() => DateTimeScalar.parseValue('1706702400'))).toMatchObject({code: 'BAD_USER_INPUT'})
  })
})

describe('JSON', () => {
  it('passes stored arguments through and refuses input', () => {
    const args = {from: '0xabc', value: '1000000000000000000000000'}
    expect(JSONScalar.serialize(args)).toBe(args)
    expect(codeOf(() => JSONScalar.parseValue({}))).toMatchObject({code: 'BAD_USER_INPUT'})
  })
})
