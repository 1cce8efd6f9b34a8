import type {Store} from '@subsquid/typeorm-store'
import type {BatchState} from './batch-state'
import type {EntityMap} from './entity-map'

/**
 * Writes a batch: each entity type once (chunked by the store), parents before the rows that reference them, so the
 * foreign keys hold. New aggregates are inserted, changed ones upserted, event rows inserted.
 */
export async function writeBatchState(store: Store, s: BatchState): Promise<void> {
  await store.insert(s.auditEvents)
  await writeMap(store, s.accounts)
  await writeMap(store, s.tokens)
  await writeMap(store, s.governors)
  await writeMap(store, s.holders)
  await store.insert(s.transfers)
  await store.insert(s.delegateChanges)
  await store.insert(s.votingPowerChanges)
  await writeMap(store, s.proposals)
  await store.insert(s.votes)
  await writeMap(store, s.models)
  await writeMap(store, s.versions)
  await writeMap(store, s.validators)
  await writeMap(store, s.contributions)
  await store.insert(s.validations)
  await writeMap(store, s.epochs)
  await store.insert(s.fundings)
  await store.insert(s.payouts)
}

async function writeMap<E extends {id: string}>(store: Store, map: EntityMap<E>): Promise<void> {
  await store.insert(map.createdRows())
  await store.upsert(map.updatedRows())
}
