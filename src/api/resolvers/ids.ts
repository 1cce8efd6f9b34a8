import {badInput} from '../errors'

/**
 * Entity ids that combine a contract address and an on-chain id ("0xabc…-42"): Proposal, Model, RewardEpoch.
 * Stored lowercase; accepted in any case so a checksummed address pasted from an explorer still works.
 */
const CONTRACT_ID = /^0x[0-9a-f]{40}-\d{1,80}$/

export function contractScopedId(value: string, what: string, argument: string): string {
  const id = value.trim().toLowerCase()
  if (!CONTRACT_ID.test(id)) throw badInput(`${what} id must look like 0x<contract address>-<decimal id>, got ${JSON.stringify(value)}`, {argument})
  return id
}

/** The contract part of such an id. */
export const contractOf = (id: string): string => id.slice(0, id.indexOf('-'))
/** The on-chain id part, as a decimal string. */
export const localIdOf = (id: string): string => id.slice(id.indexOf('-') + 1)
