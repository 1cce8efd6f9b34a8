import type {IncomingMessage} from 'node:http'
import {describe, expect, it} from 'vitest'
import {requestKey} from './fast-path'

const req = (url: string, headers: Record<string, string>) => ({url, headers}) as unknown as IncomingMessage
const ID = 'identity'

describe('fast path key', () => {
  it('differs whenever a keyed part differs, also when text moves from one part to the next', () => {
    const body = Buffer.from('{"query":"{ __typename }"}')
    const keys = [
      requestKey(req('/graphql', {}), body, ID),
      requestKey(req('/graphql', {accept: ''}), body, ID),
      requestKey(req('/graphql', {accept: 'application/json'}), body, ID),
      requestKey(req('/graphql', {origin: 'application/json'}), body, ID),
      requestKey(req('/graphql', {accept: 'application/json', origin: 'https://a.example'}), body, ID),
      requestKey(req('/graphql', {accept: 'application/json', origin: 'https://a.example', 'access-control-request-headers': 'x'}), body, ID),
      requestKey(req('/graphql', {'content-type': 'application/json'}), body, ID),
      requestKey(req('/graphql', {'content-type': 'application/graphql'}), body, ID),
      requestKey(req('/graphql', {'content-encoding': 'gzip'}), body, ID),
      requestKey(req('/graphql?x=1', {}), body, ID),
      // The negotiated content coding.
      requestKey(req('/graphql', {}), body, 'gzip'),
      requestKey(req('/graphql', {accept: 'application/json'}), body, 'gzip'),
      requestKey(req('/graphql', {}), Buffer.from('{"query":"{ __typename }"} '), ID),
      // The same characters, split differently between two headers.
      requestKey(req('/graphql', {accept: 'a:', origin: 'https://b'}), body, ID),
      requestKey(req('/graphql', {accept: 'a', origin: ':https://b'}), body, ID),
    ]
    expect(new Set(keys).size).toBe(keys.length)
    expect(requestKey(req('/graphql', {accept: 'application/json', 'user-agent': 'x'}), body, ID)).toBe(keys[2])
    // Accept-Encoding itself is not a part: two headers that negotiate the same coding share the entry.
    expect(requestKey(req('/graphql', {'accept-encoding': 'gzip, deflate, br'}), body, 'gzip')).toBe(requestKey(req('/graphql', {'accept-encoding': 'gzip'}), body, 'gzip'))
  })

  it('keeps every byte of the body (not text decoding, which would merge invalid UTF-8 sequences)', () => {
    expect(requestKey(req('/graphql', {}), Buffer.from([0xff, 0x41]), ID)).not.toBe(requestKey(req('/graphql', {}), Buffer.from([0xfe, 0x41]), ID))
  })
})
