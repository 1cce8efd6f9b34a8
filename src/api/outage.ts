import {createGraphQLError} from 'graphql-yoga'

/**
 * What a client sees while the index database is down or restarting: HTTP 503 with a Retry-After header and one
 * error with code DATABASE_UNAVAILABLE, instead of a masked "Unexpected error." with status 200. Nothing else about
 * the failure (host, port, SQL) leaves the server; the server logs the cause (yoga logs every error it masks).
 *
 * The pool needs no help to recover: pg drops a client whose connection broke and opens a new one for the next
 * query, so the first request after Postgres is back gets its answer.
 */
export const DATABASE_UNAVAILABLE_MESSAGE = 'the index database is unreachable or restarting; retry in a few seconds'
export const RETRY_AFTER_SECONDS = 5

// SQLSTATE classes and codes that mean "the server is not there (now)", as opposed to a bad query or a timeout:
// 08 connection exception; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
// shutting down), 53300 too_many_connections.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300'])
// Socket-level failures node reports before any SQLSTATE exists.
const UNAVAILABLE_SYSCALL_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'])
// node-postgres reports a server that vanished mid-query, and a pool that could not connect in time, only in words.
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error/,
  /^Connection ended unexpectedly/,
]

/**
 * `error` and what it wraps, outermost first: GraphQLError.originalError and Error.cause hide the real error, and an
 * AggregateError (several addresses tried) holds several. Bounded: a cyclic or very deep chain ends the walk.
 */
export function* errorCauses(error: unknown, depth = 0): Generator<{code?: unknown; message?: unknown}> {
  if (error === null || typeof error !== 'object' || depth >= 5) return
  yield error as {code?: unknown; message?: unknown}
  const inner = error as {errors?: unknown; originalError?: unknown; cause?: unknown}
  if (Array.isArray(inner.errors)) for (const e of inner.errors) yield* errorCauses(e, depth + 1)
  yield* errorCauses(inner.originalError ?? inner.cause, depth + 1)
}

/** True when `error` (or what it wraps) says the database cannot be reached, rather than that a query failed. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const {code, message} of errorCauses(error)) {
    if (typeof code === 'string') {
      if (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || UNAVAILABLE_SYSCALL_CODES.has(code)) return true
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(message))) return true
  }
  return false
}

/** The 503 error a client gets while the database is unavailable. */
export function databaseUnavailableError(): Error {
  return createGraphQLError(DATABASE_UNAVAILABLE_MESSAGE, {
    extensions: {
      code: 'DATABASE_UNAVAILABLE',
      http: {status: 503, headers: {'retry-after': String(RETRY_AFTER_SECONDS)}},
    },
  })
}
