import {type FragmentDefinitionNode, type GraphQLResolveInfo, type FieldNode, Kind, type OperationDefinitionNode, parse} from 'graphql'
import {describe, expect, it} from 'vitest'
import {selectedNodeFields} from './selection'

/** The resolve info of the query's first root field, as far as selectedNodeFields reads it. */
function infoOf(query: string): GraphQLResolveInfo {
  const doc = parse(query)
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!
  const fragments = Object.fromEntries(
    doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  )
  return {fieldNodes: [op.selectionSet.selections[0] as FieldNode], fragments} as unknown as GraphQLResolveInfo
}

describe('selectedNodeFields', () => {
  it('collects the node fields of every edges selection, through fragments and aliases', () => {
    const info = infoOf(`{
      list(first: 3) {
        pageInfo { endCursor }
        edges { cursor node { id v: value ...F } }
        more: edges { node { ... on T { asOfBlock } } }
      }
    }
    fragment F on T { inputDigest }`)
    expect(selectedNodeFields(info)).toEqual(['asOfBlock', 'id', 'inputDigest', 'value'])
  })

  it('gives up (every column) on directives or unknown fragments, where the selection is not certain', () => {
    expect(selectedNodeFields(infoOf(`{ list { edges { node { id value @include(if: true) } } } }`))).toBeUndefined()
    expect(selectedNodeFields(infoOf(`{ list { edges { node { ...Missing } } } }`))).toBeUndefined()
  })

  it('is empty when no node is selected (only the keyset columns are then read)', () => {
    expect(selectedNodeFields(infoOf(`{ list { pageInfo { hasNextPage } } }`))).toEqual([])
  })
})
