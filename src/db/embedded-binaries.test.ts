import { promises as fs } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { hydrateSymlinks } from './embedded-binaries'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

test('recreates the shared-library links a skipped postinstall would have made', async () => {
  const pkg = await fs.mkdtemp(path.join(tmpdir(), 'pg-binaries-'))
  dirs.push(pkg)
  await fs.mkdir(path.join(pkg, 'native', 'lib'), { recursive: true })
  await fs.writeFile(path.join(pkg, 'native', 'lib', 'libpq.so.5.18'), 'elf')
  await fs.writeFile(
    path.join(pkg, 'native', 'pg-symlinks.json'),
    JSON.stringify([
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so.5' },
      { source: 'native/lib/libpq.so.5.18', target: 'native/lib/libpq.so' },
    ]),
  )
  expect(await hydrateSymlinks(pkg)).toEqual(['native/lib/libpq.so.5', 'native/lib/libpq.so'])
  expect(await fs.readlink(path.join(pkg, 'native', 'lib', 'libpq.so.5'))).toBe('libpq.so.5.18') // relative
  expect(await fs.readFile(path.join(pkg, 'native', 'lib', 'libpq.so'), 'utf8')).toBe('elf')
  expect(await hydrateSymlinks(pkg)).toEqual([])
})

test('no list, nothing to do', async () => {
  const pkg = await fs.mkdtemp(path.join(tmpdir(), 'pg-binaries-'))
  dirs.push(pkg)
  expect(await hydrateSymlinks(pkg)).toEqual([])
})
