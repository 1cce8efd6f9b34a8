import type {ApiConfig, Api} from './yoga'

/** Test helpers for the API (used by the *.test.ts files beside it). */

export const TEST_API_CONFIG: ApiConfig = {
  API_DEFAULT_PAGE: 50,
  API_MAX_PAGE: 1000,
  API_STATEMENT_TIMEOUT_MS: 5000,
  API_CORS_ORIGINS: [],
  API_RESPONSE_CACHE_MB: 64,
}

export interface GqlError {
  message: string
  extensions?: {code?: string; [k: string]: unknown}
}

export interface GqlResponse<T = any> {
  status: number
  data?: T
  errors?: GqlError[]
  raw: string
}

/** POSTs one operation to /graphql through yoga.fetch (no port). */
export async function gql<T = any>(api: Api, query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>> {
  const res = await api.fetch('http://api.test/graphql', {
    method: 'POST',
    headers: {'content-type': 'application/json', accept: 'application/graphql-response+json, application/json'},
    body: JSON.stringify({query, variables}),
  })
  const raw = await res.text()
  const body = JSON.parse(raw) as {data?: T; errors?: GqlError[]}
  return {status: res.status, data: body.data, errors: body.errors, raw}
}

/** Like gql, but fails the test with the errors when there are any. */
export async function gqlOk<T = any>(api: Api, query: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await gql<T>(api, query, variables)
  if (r.errors?.length || r.data === undefined) throw new Error(`GraphQL errors: ${r.raw}`)
  return r.data
}
