import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { METRICS } from './catalogue'

describe('metric catalogue', () => {
  it('ids are unique and well-formed', () => {
    const ids = METRICS.map((m) => m.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(id).toMatch(/^(concentration|participation|fairness)\.[a-z0-9_]+$/)
  })

  it('README.md lists exactly the catalogue, in order, with the same units and definitions', () => {
    const readme = readFileSync(path.join(__dirname, 'README.md'), 'utf8')
    const table = readme.slice(readme.indexOf('| id | unit | definition |')).split('\n\n')[0] ?? ''
    const listed = [...table.matchAll(/^\| `([a-z_]+\.[a-z0-9_]+)` \| ([a-z_]+) \| (.+) \|$/gm)]
      .map((m) => ({ id: m[1], unit: m[2], definition: (m[3] ?? '').replaceAll('\\|', '|') }))
    expect(listed).toEqual(METRICS.map((m) => ({ ...m })))
  })
})
