import {DuckDBInstance} from '@duckdb/node-api'
const [file] = process.argv.slice(2)
const inst = await DuckDBInstance.create(file, {threads: '2', memory_limit: '768MB', checkpoint_threshold: '128MB'})
const c = await inst.connect()
const t = async (sql) => { const s = performance.now(); const u = process.cpuUsage(); await c.run(sql); const d = process.cpuUsage(u); return `${(performance.now() - s).toFixed(0)}/${((d.user + d.system) / 1000).toFixed(0)}` }
const forms = {
  join: `UPDATE balance_state SET balance = t.new FROM balance_touch t WHERE balance_state.rowid = t.rid AND t.new <> 0`,
  probeExpr: `UPDATE balance_state SET balance = t.new FROM (SELECT rid, new FROM balance_touch WHERE new <> 0) t WHERE balance_state.rowid + 0 = t.rid`,
  buildExpr: `UPDATE balance_state SET balance = t.new FROM (SELECT rid * 1 AS rid, new FROM balance_touch WHERE new <> 0) t WHERE balance_state.rowid = t.rid`,
  joinx2: `UPDATE balance_state SET balance = t.new FROM (SELECT rid * 2 AS rid2, new FROM balance_touch WHERE new <> 0) t WHERE balance_state.rowid * 2 = t.rid2`,
}
const res = {}
const names = Object.keys(forms)
for (let i = 0; i < 32; i++) {
  const f = names[i % names.length]
  await c.run('BEGIN TRANSACTION')
  await c.run(`CREATE OR REPLACE TEMP TABLE balance_touch AS SELECT b.token, b.account, b.rowid AS rid, b.balance AS old, b.balance + 1 AS new
     FROM balance_state b WHERE hash(b.account || '${i}') % 70 = 0`)
  const ms = await t(forms[f])
  await c.run('DROP TABLE balance_touch')
  await c.run('COMMIT')
  ;(res[f] ??= []).push(ms)
}
console.log(res)
