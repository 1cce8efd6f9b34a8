import { describe, expect, test } from 'vitest'
import { formatPgUrl, parsePgUrl, redactPgUrl, subsquidChildEnv, toSubsquidEnv, withDatabase } from './url'

describe('postgres URLs', () => {
  test('parse fills libpq defaults', () => {
    expect(parsePgUrl('postgresql://db.example')).toEqual({
      host: 'db.example',
      port: 5432,
      user: 'postgres',
      password: '',
      database: 'postgres',
    })
  })

  test('format and parse round-trip special characters', () => {
    const parts = { host: '127.0.0.1', port: 5433, user: 'squid user', password: 'p@ss:/w?rd', database: 'my "db"; x=1' }
    expect(parsePgUrl(formatPgUrl(parts))).toEqual(parts)
  })

  test('withDatabase keeps credentials and query parameters', () => {
    expect(withDatabase('postgres://u:p@h:1/a?sslmode=require', 'b')).toBe('postgres://u:p@h:1/b?sslmode=require')
  })

  test('rejects other protocols', () => {
    expect(() => parsePgUrl('mysql://h/db')).toThrow(/postgres/)
  })

  test('redacts the password', () => {
    expect(redactPgUrl('postgres://u:secret@h:1/a')).toBe('postgres://u:***@h:1/a')
  })

  test('subsquid env: DB_URL only, inherited DB_* dropped', () => {
    const url = 'postgres://u:p@h:1/a'
    expect(toSubsquidEnv(url)).toEqual({ DB_URL: url })
    const env = subsquidChildEnv({ PATH: '/bin', DB_HOST: 'elsewhere', DB_PASS: 'x' }, url)
    expect(env).toEqual({ PATH: '/bin', DB_URL: url })
  })
})
