// The official JavaScript driver on Node in the cross-driver benchmark (protocol: ../src/peer.rs).
//
//   node peer.mjs <workload> <count> <warmup> <concurrency> <persons>
//
// The concurrent transaction functions are async loops on Node's one event loop, each with its own
// session. Integers come back as the driver's Integer type unless converted: the stream reads them
// with toNumber(), as a user summing them would.
import { readFileSync } from 'node:fs'
import neo4j from 'neo4j-driver'

const RETURN_1 = 'RETURN 1'
const STREAM = "UNWIND range(1, $rows) AS i RETURN i, 'name-' + toString(i) AS s, {id: i, tag: 'row'} AS m"
const READ_PERSON = 'MATCH (p:QuiverBenchPerson {id: $id}) RETURN p.name AS name, p.age AS age'
const WRITE_PERSON = 'MATCH (p:QuiverBenchPerson {id: $id}) SET p.score = p.score + 1 RETURN p.score AS score'

const uri = process.env.NEO4J_URI ?? 'bolt://127.0.0.1:7687'
const auth = neo4j.auth.basic(process.env.NEO4J_USER ?? 'neo4j', process.env.NEO4J_PASSWORD ?? 'quiver-test-password')

const cpuMicros = () => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

const peakRss = () => {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find(l => l.startsWith('VmHWM:'))
  return line ? parseInt(line.split(/\s+/)[1], 10) : 0
}

const report = (units, wallNs, cpuStart) => {
  process.stdout.write(`QUIVER-BENCH units=${units} wall_ns=${wallNs} cpu_start_us=${cpuStart} cpu_end_us=${cpuMicros()} hwm_kb=${peakRss()}\n`,
    () => process.exit(0))
}

const fail = (what, error) => {
  console.error(`js peer: ${what}: ${error?.stack ?? error}`)
  process.exit(1)
}

const now = () => process.hrtime.bigint()

async function main () {
  const [workload, ...numbers] = process.argv.slice(2)
  const [count, warmup, concurrency, persons] = numbers.map(n => parseInt(n, 10))
  if (workload === 'connect') {
    const cpuStart = cpuMicros(); const wall = now()
    const driver = neo4j.driver(uri, auth)
    const session = driver.session()
    await session.run(RETURN_1)
    return report(1, now() - wall, cpuStart)
  }
  const driver = neo4j.driver(uri, auth)
  await driver.verifyConnectivity()
  if (workload === 'return1') {
    const session = driver.session()
    for (let i = 0; i < warmup; i++) await session.run(RETURN_1)
    const cpuStart = cpuMicros(); const wall = now()
    for (let i = 0; i < count; i++) await session.run(RETURN_1)
    return report(count, now() - wall, cpuStart)
  }
  if (workload === 'stream') {
    const session = driver.session()
    const stream = async () => {
      let rows = 0; let checksum = 0
      // Records one by one as they arrive (the async iterator), not collected into an array.
      for await (const record of session.run(STREAM, { rows: neo4j.int(count) })) {
        checksum += record.get('i').toNumber() + record.get('s').length + record.get('m').id.toNumber()
        rows++
      }
      if (rows !== count) throw new Error(`${rows} rows, expected ${count}`)
      return rows
    }
    for (let i = 0; i < warmup; i++) await stream()
    const cpuStart = cpuMicros(); const wall = now()
    const rows = await stream()
    return report(rows, now() - wall, cpuStart)
  }
  if (workload === 'tx-read' || workload === 'tx-write') {
    const write = workload === 'tx-write'
    const phase = async (millis) => {
      const deadline = Date.now() + millis
      const worker = async () => {
        const session = driver.session()
        let done = 0
        while (Date.now() < deadline) {
          const id = neo4j.int(Math.floor(Math.random() * persons))
          if (write) {
            await session.executeWrite(async tx => (await tx.run(WRITE_PERSON, { id })).records[0].get('score'))
          } else {
            await session.executeRead(async tx => (await tx.run(READ_PERSON, { id })).records[0].get('name'))
          }
          done++
        }
        await session.close()
        return done
      }
      const done = await Promise.all(Array.from({ length: concurrency }, worker))
      return done.reduce((a, b) => a + b, 0)
    }
    await phase(warmup)
    const cpuStart = cpuMicros(); const wall = now()
    const units = await phase(count)
    return report(units, now() - wall, cpuStart)
  }
  fail('workload', `unknown ${workload}`)
}

main().catch(error => fail('run', error))
