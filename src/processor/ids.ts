/**
 * Deterministic entity ids built from chain coordinates, so a batch re-run after a crash writes the same rows.
 * Addresses are lowercased hex (no '-'), on-chain ids are decimal, and '-' joins the parts.
 */
export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

export const holderId = (token: string, account: string): string => `${token}-${account}`
/** Sorts in block order within one (token, account): the padding makes text order numeric order. */
export const balanceCheckpointId = (token: string, account: string, block: number): string =>
  `${token}-${account}-${String(block).padStart(10, '0')}`
export const proposalEntityId = (governor: string, proposalId: bigint): string => `${governor}-${proposalId}`
export const modelEntityId = (registry: string, modelId: bigint): string => `${registry}-${modelId}`
export const versionEntityId = (modelId: string, versionId: bigint): string => `${modelId}-${versionId}`
export const validatorEntityId = (registry: string, validator: string): string => `${registry}-${validator}`
export const contributionEntityId = (registry: string, contributionId: bigint): string => `${registry}-${contributionId}`
export const epochEntityId = (distributor: string, epochId: bigint): string => `${distributor}-${epochId}`

/** The governor address a proposal id starts with. */
export function governorOfProposal(proposalEntityIdValue: string): string {
  const dash = proposalEntityIdValue.indexOf('-')
  if (dash < 0) throw new Error(`Malformed proposal id: ${proposalEntityIdValue}`)
  return proposalEntityIdValue.slice(0, dash)
}
