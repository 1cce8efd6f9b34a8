import type {IncomingMessage} from 'node:http'
import {describe, expect, it} from 'vitest'
import {requestKey} from './fast-path'

const req = (url: string, headers: Record<string, string>) => ({url, headers}) as unknown as IncomingMessage

describe('fast path key', () => {
  it('differs whenever a keyed part differs, also when text moves from one part to the next', () => {
    const body = Buffer.from('{"query":"{ __typename }"}')
    const keys = [
      requestKey(req('/graphql', {}), body),
      requestKey(req('/graphql', {accept: ''}), body),
      requestKey(req('/graphql', {accept: 'application/json'}), body),
      requestKey(req('/graphql', {origin: 'application/json'}), body),
      requestKey(req('/graphql', {accept: 'application/json', origin: 'https://a.example'}), body),
      requestKey(req('/graphql', {accept: 'application/json', origin: 'https://a.example', 'access-control-request-headers': 'x'}), body),
      requestKey(req('/graphql', {'content-type': 'application/json'}), body),
      requestKey(req('/graphql', {'content-type': 'application/graphql'}), body),
      requestKey(req('/graphql', {'content-encoding': 'gzip'}), body),
      requestKey(req('/graphql?x=1', {}), body),
      requestKey(req('/graphql', {}), Buffer.from('{"query":"{ __typename }"} ')),
      // The same characters, split differently between two headers.
      requestKey(req('/graphql', {accept: 'a:', origin: 'https://b'}), body),
      requestKey(req('/graphql', {accept: 'a', origin: ':https://b'}), body),
    ]
    expect(new Set(keys).size).toBe(keys.length)
    expect(requestKey(req('/graphql', {accept: 'application/json', 'user-agent': 'x'}), body)).toBe(keys[2])
  })

  it('keeps every byte of the body (not text decoding, which would merge invalid UTF-8 sequences)', () => {
    expect(requestKey(req('/graphql', {}), Buffer.from([0xff, 0x41]))).not.toBe(requestKey(req('/graphql', {}), Buffer.from([0xfe, 0x41])))
  })
})
