import {encodeAbiParameters, encodeEventTopics, type Abi} from 'viem'
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {parseContractsConfig} from './contracts-config'
import {decodeLog, type LogInput} from './decode'

const tokenAbi = JSON.parse(readFileSync('contracts/abi/DeAIToken.json', 'utf8')) as Abi
const TOKEN = '0x00000000000000000000000000000000000000aa'
const contracts = parseContractsConfig({contracts: [{kind: 'token', address: TOKEN, startBlock: 0}]})
const A = '0x1111111111111111111111111111111111111111'
const B = '0x2222222222222222222222222222222222222222'

function log(topics: string[], data: string, address = TOKEN): LogInput {
  return {
    id: '0000000001-abcde-000000',
    logIndex: 0,
    transactionIndex: 0,
    transactionHash: '0x' + '11'.repeat(32),
    address,
    topics,
    data,
    block: {height: 1, hash: '0x' + '22'.repeat(32), timestamp: 1_700_000_000_000},
  }
}

const transferTopics = encodeEventTopics({abi: tokenAbi, eventName: 'Transfer', args: {from: A, to: B}}) as string[]

describe('decodeLog', () => {
  it('decodes an ERC20 Transfer into a RawEvent and JSON-safe audit args', () => {
    const value = 2n ** 200n + 1n // beyond 64 bits and beyond a double's precision
    const d = decodeLog(log(transferTopics, encodeAbiParameters([{type: 'uint256'}], [value])), contracts)
    expect(d.eventName).toBe('Transfer')
    expect(d.raw).toEqual({name: 'Transfer', from: A, to: B, value})
    expect(d.args).toEqual({from: A, to: B, value: value.toString()})
  })

  it('keeps an ERC721 Transfer (same topic0, 4 topics) in the audit log only, with the reason', () => {
    const tokenIdTopic = '0x' + '00'.repeat(31) + '07'
    const d = decodeLog(log([...transferTopics, tokenIdTopic], '0x'), contracts)
    expect(d.eventName).toBe('Transfer')
    expect(d.raw).toBeUndefined()
    expect(String(d.args.decodeError)).toMatch(/topic/i)
    expect(d.args.topics).toHaveLength(4)
  })

  it('keeps a log with truncated data in the audit log only', () => {
    const d = decodeLog(log(transferTopics, '0x1234'), contracts)
    expect(d.raw).toBeUndefined()
    expect(d.args.decodeError).toBeTypeOf('string')
  })

  it('marks logs of unconfigured contracts and unknown topics as Unknown', () => {
    expect(decodeLog(log(transferTopics, '0x', '0x00000000000000000000000000000000000000bb'), contracts).eventName).toBe('Unknown')
    expect(decodeLog(log(['0x' + 'ab'.repeat(32)], '0x'), contracts).eventName).toBe('Unknown')
  })

  it('says why a log is Unknown: unconfigured contract, topic0 outside the ABI, or no topics at all', () => {
    const reason = (topics: string[], address?: string) => String(decodeLog(log(topics, '0x', address), contracts).args.decodeError)
    expect(reason(transferTopics, '0x00000000000000000000000000000000000000bb')).toMatch(/is not a configured contract/)
    expect(reason(['0x' + 'ab'.repeat(32)])).toMatch(/topic0 0xabab.* is not an event of the token ABI/)
    expect(reason([])).toMatch(/no topics/)
  })
})
