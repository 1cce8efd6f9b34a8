import type {Store} from '@subsquid/typeorm-store'
import type {BatchState} from './batch-state'
import {bulkInsert, bulkUpsert} from './bulk-write'
import type {EntityMap} from './entity-map'

/**
 * Writes a batch: each entity type with one bulk statement, parents before the rows that reference them, so the
 * foreign keys hold. New aggregates are inserted, changed ones upserted, event rows inserted.
 */
export async function writeBatchState(store: Store, s: BatchState): Promise<void> {
  await bulkInsert(store, s.auditEvents)
  await writeMap(store, s.accounts)
  await writeMap(store, s.tokens)
  await writeMap(store, s.governors)
  await writeMap(store, s.holders)
  await bulkInsert(store, s.transfers)
  await bulkInsert(store, s.delegateChanges)
  await bulkInsert(store, s.votingPowerChanges)
  await bulkInsert(store, [...s.balanceCheckpoints.values()])
  await writeMap(store, s.proposals)
  await bulkInsert(store, s.votes)
  await writeMap(store, s.models)
  await writeMap(store, s.versions)
  await writeMap(store, s.validators)
  await writeMap(store, s.contributions)
  await bulkInsert(store, s.validations)
  await writeMap(store, s.epochs)
  await bulkInsert(store, s.fundings)
  await bulkInsert(store, s.payouts)
}

async function writeMap<E extends {id: string}>(store: Store, map: EntityMap<E>): Promise<void> {
  await bulkInsert(store, map.createdRows())
  await bulkUpsert(store, map.updatedRows())
}
