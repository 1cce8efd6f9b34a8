import {maskError as yogaMaskError} from 'graphql-yoga'
import {badInput} from './errors'
import {databaseUnavailableError, errorCauses, isDatabaseUnavailable} from './outage'

/**
 * yoga's maskedErrors.maskError: what a client sees for an error the resolvers did not make on purpose.
 *  - the database is unreachable or restarting → 503 DATABASE_UNAVAILABLE (outage.ts);
 *  - Postgres refused a string argument as text (a NUL character, or bytes that are not UTF-8; SQLSTATE 22021 /
 *    22P05) → BAD_USER_INPUT: the client sent it and can fix it, and no argument is worth a masked error;
 *  - anything else → yoga's mask ("Unexpected error."), with the cause logged server-side.
 */
export function maskApiError(error: unknown, message: string, isDev?: boolean): Error {
  if (isDatabaseUnavailable(error)) return databaseUnavailableError()
  if (isInvalidText(error)) return badInput('a string argument contains a NUL character or is not valid UTF-8 text')
  return yogaMaskError(error, message, isDev)
}

const INVALID_TEXT_SQLSTATES = new Set(['22021', '22P05'])

function isInvalidText(error: unknown): boolean {
  for (const {code} of errorCauses(error)) if (typeof code === 'string' && INVALID_TEXT_SQLSTATES.has(code)) return true
  return false
}
