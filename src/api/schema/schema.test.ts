import type {GraphQLField, GraphQLObjectType} from 'graphql'
import {describe, expect, it} from 'vitest'
import {buildSchema} from '.'

/** Lists that stay small whatever the chain does; every other list must be a paginated connection. */
const BOUNDED_LISTS = new Set([
  'Protocol.tokens', // indexed token contracts
  'Protocol.governors',
  'Account.holdings', // one per indexed token
  'Contribution.validations', // at most one per validator
  'LorenzCurve.points', // at most 101
  'Proposal.targets', // a proposal's own actions
  'Proposal.values',
  'Proposal.signatures',
  'Proposal.calldatas',
])

describe('schema', () => {
  const schema = buildSchema()

  it('builds, with the queries of every domain', () => {
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual(
      [
        'account', 'auditEvent', 'auditTrail', 'contributor', 'fairnessTable', 'indexStatus', 'lorenzCurve', 'metricValues', 'model',
        'models', 'proposal', 'proposals', 'protocol', 'rewardEpochs', 'rewardPayouts', 'topHolders',
      ].sort(),
    )
  })

  it('pages every list that can grow: connections take first/after and give edges, pageInfo, totalCount', () => {
    // Inspected through the type's own SDL node and printed type names, not graphql's isObjectType/isListType: under
    // vitest this file's `graphql` is the ESM build while the schema was built by the CommonJS one (see errors.ts).
    const types = Object.values(schema.getTypeMap()).filter((t) => t.astNode?.kind === 'ObjectTypeDefinition') as GraphQLObjectType[]
    const objects = new Map(types.map((t) => [t.name, t]))
    let connections = 0
    for (const type of types) {
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        const coordinate = `${type.name}.${field.name}`
        const printed = String(field.type)
        if (printed.startsWith('[') && !type.name.endsWith('Connection')) {
          expect(BOUNDED_LISTS, `${coordinate} is an unpaginated list`).toContain(coordinate)
        }
        const named = printed.replace(/[[\]!]/g, '')
        if (named.endsWith('Connection')) {
          connections++
          expect(field.args.map((a) => a.name), coordinate).toEqual(expect.arrayContaining(['first', 'after']))
          expect(Object.keys(objects.get(named)!.getFields()), coordinate).toEqual(expect.arrayContaining(['edges', 'pageInfo', 'totalCount']))
        }
      }
    }
    expect(connections).toBeGreaterThan(20)
  })
})
