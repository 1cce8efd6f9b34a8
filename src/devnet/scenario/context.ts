/** State shared by the scenario's phases. */
import type { Address } from 'viem'
import type { Chain } from '../chain'
import type { Deployment } from '../deploy'
import type { Rng } from '../prng'
import type { Protocol } from '../protocol'
import type { Ledger } from './ledger'
import type { Roles } from './roles'

export interface Contribution {
  id: bigint
  modelId: bigint
  contributor: Address
  units: bigint
  status: 'pending' | 'accepted' | 'rejected'
  score: number
}

export interface ScenarioContext {
  chain: Chain
  p: Protocol
  d: Deployment
  /** Root generator; phases take their own `rng.fork(name)` stream. */
  rng: Rng
  roles: Roles
  ledger: Ledger
  /** Operator: owner of token, registries and distributor (the deployer). */
  operator: Address
  /** Head block when the scenario started; keeps proposal descriptions unique if a chain replays a seed. */
  origin: number
  modelIds: bigint[]
  contributions: Contribution[]
}
