import {createGraphQLError} from 'graphql-yoga'

/**
 * Errors the client caused and can fix. They pass through yoga's error masking unchanged (a GraphQLError with an
 * `extensions.code`), while every other error is masked: clients never see SQL text or stack traces.
 *
 * Made with yoga's createGraphQLError rather than `new GraphQLError` so the error is an instance of the very
 * GraphQLError class yoga checks against: under vitest, `import 'graphql'` from our sources resolves to graphql's
 * ESM build while yoga loads the CommonJS one, and an error of the other class would be masked.
 */
export function badInput(message: string, extra: Record<string, unknown> = {}): Error {
  return createGraphQLError(message, {extensions: {code: 'BAD_USER_INPUT', ...extra}})
}
