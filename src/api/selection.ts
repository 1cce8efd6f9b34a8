import {type GraphQLResolveInfo, Kind, type SelectionSetNode} from 'graphql'

/**
 * The fields a request selects on the nodes of a connection (`edges { node { … } }`), so a list can read only those
 * columns: a 1,000-row page then does not fetch, parse and hold columns nobody asked for (timestamps parsed into
 * Dates, digests). Undefined when it cannot tell for sure (a directive such as @include, an unknown fragment): the
 * caller then reads every column, as before.
 */
export function selectedNodeFields(info: GraphQLResolveInfo): string[] | undefined {
  const out = new Set<string>()
  for (const field of info.fieldNodes) {
    const edges = field.selectionSet && childSelections(info, field.selectionSet, 'edges')
    if (edges === undefined) return undefined
    for (const e of edges) {
      const nodes = childSelections(info, e, 'node')
      if (nodes === undefined) return undefined
      for (const n of nodes) {
        const names = fieldNames(info, n)
        if (names === undefined) return undefined
        for (const name of names) out.add(name)
      }
    }
  }
  return [...out].sort()
}

/** Selection sets of the fields named `name` directly in `set` (through fragments). */
function childSelections(info: GraphQLResolveInfo, set: SelectionSetNode, name: string): SelectionSetNode[] | undefined {
  const out: SelectionSetNode[] = []
  const ok = walk(info, set, (f) => {
    if (f.name.value === name && f.selectionSet) out.push(f.selectionSet)
  })
  return ok ? out : undefined
}

function fieldNames(info: GraphQLResolveInfo, set: SelectionSetNode): string[] | undefined {
  const out: string[] = []
  return walk(info, set, (f) => void out.push(f.name.value)) ? out : undefined
}

type FieldVisitor = (field: {name: {value: string}; selectionSet?: SelectionSetNode}) => void

function walk(info: GraphQLResolveInfo, set: SelectionSetNode, visit: FieldVisitor): boolean {
  for (const s of set.selections) {
    if (s.directives && s.directives.length > 0) return false
    if (s.kind === Kind.FIELD) visit(s)
    else if (s.kind === Kind.INLINE_FRAGMENT) {
      if (!walk(info, s.selectionSet, visit)) return false
    } else {
      const fragment = info.fragments[s.name.value]
      if (!fragment || !walk(info, fragment.selectionSet, visit)) return false
    }
  }
  return true
}
