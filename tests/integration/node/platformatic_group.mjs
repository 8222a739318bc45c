#!/usr/bin/env node
// @platformatic/kafka group consumer against kairo. Driven by tests/integration/groups_node.py:
//
//   node platformatic_group.mjs BOOTSTRAP TOPIC PARTITIONS GROUP COUNT NEW_COUNT
//
// Creates TOPIC with the library's Admin, produces COUNT keyed messages with its Producer, reads
// them all in group GROUP through Consumer.consume() (autocommit), closes; then produces
// NEW_COUNT more and a second Consumer in the same group must read exactly those (it resumes
// after the committed offsets). Prints progress and one `@@RESULT {json}` line; on a timeout or
// stream error prints `@@FAIL <reason>` and exits 1. Every wait is bounded.

import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka'

const [boot, topic, partitionsArg, groupId, countArg, newCountArg] = process.argv.slice(2)
if (!newCountArg) {
  console.error('usage: platformatic_group.mjs BOOTSTRAP TOPIC PARTITIONS GROUP COUNT NEW_COUNT')
  process.exit(2)
}
const partitions = Number(partitionsArg)
const count = Number(countArg)
const newCount = Number(newCountArg)

const emit = obj => console.log(`@@${obj.event} ${JSON.stringify(obj, (k, v) => typeof v === 'bigint' ? Number(v) : v)}`)

function fail(reason) {
  console.log(`@@FAIL ${reason}`)
  process.exit(1)
}

// A client error is printed with its nested causes (the library wraps them in AggregateErrors).
function describeError(err, depth = 0) {
  if (!err) return String(err)
  const pad = '  '.repeat(depth)
  let s = `${pad}${err.name || 'Error'}: ${err.message}`
  for (const k of ['code', 'apiId', 'apiCode', 'path', 'minVersion', 'maxVersion']) {
    if (err[k] !== undefined) s += ` ${k}=${err[k]}`
  }
  for (const e of err.errors || []) s += `\n${describeError(e, depth + 1)}`
  if (err.cause) s += `\n${pad}cause:\n${describeError(err.cause, depth + 1)}`
  return s
}

const sleep = ms => new Promise(r => setTimeout(r, ms))

async function bounded(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const common = { bootstrapBrokers: [boot], retries: 5, retryDelay: 200, timeout: 10000 }

async function produce(producer, n, prefix) {
  const messages = []
  for (let i = 0; i < n; i++) {
    messages.push({ topic, key: `${prefix}-${String(i).padStart(5, '0')}`, value: `value ${prefix} ${i}` })
  }
  for (let i = 0; i < messages.length; i += 100) {
    await producer.send({ messages: messages.slice(i, i + 100), acks: -1 })
  }
  return messages.map(m => m.key)
}

// Reads `expected` messages from a fresh consumer of the group, waits for the autocommit that
// covers them, then closes stream and consumer (which leaves the group).
async function consumeGroup(name, expected, timeoutMs) {
  const consumer = new Consumer({
    ...common,
    clientId: `kairo-it-plt-${name}`,
    groupId,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    sessionTimeout: 6000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 500,
  })
  const joins = []
  consumer.on('consumer:group:join', p => {
    const j = { name, memberId: p.memberId, generationId: p.generationId,
                assignments: (p.assignments || []).map(a => ({ topic: a.topic, partitions: a.partitions })) }
    joins.push(j)
    emit({ event: 'JOIN', ...j })
  })
  const stream = await bounded(
    consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: 100 }),
    20000, `${name}: consume() to join the group and return a stream`)
  const records = []
  let streamError = null
  const commits = []
  stream.on('autocommit', (err, offsets) => {
    if (err) streamError = streamError || err
    else commits.push(offsets.map(o => ({ partition: o.partition, offset: Number(o.offset) })))
  })
  stream.on('error', err => { streamError = streamError || err })
  stream.on('data', m => {
    records.push([m.partition, Number(m.offset), m.key])
  })
  const deadline = Date.now() + timeoutMs
  while (records.length < expected) {
    if (streamError) fail(`${name}: stream error after ${records.length} messages:\n${describeError(streamError)}`)
    if (Date.now() >= deadline) fail(`${name}: read only ${records.length} of ${expected} messages in ${timeoutMs} ms`)
    await sleep(50)
  }
  await sleep(700) // grace: nothing beyond what was produced may arrive, and autocommit runs
  // The last read offset of each partition must have been committed before we leave.
  const lastRead = new Map()
  for (const [p, o] of records) lastRead.set(p, Math.max(lastRead.get(p) ?? -1, o))
  const committedUpTo = () => {
    const c = new Map()
    for (const batch of commits) for (const { partition, offset } of batch) c.set(partition, Math.max(c.get(partition) ?? -1, offset))
    return c
  }
  const commitDeadline = Date.now() + 10000
  for (;;) {
    if (streamError) fail(`${name}: stream error:\n${describeError(streamError)}`)
    const c = committedUpTo()
    if ([...lastRead].every(([p, o]) => (c.get(p) ?? -1) >= o + 1)) break
    if (Date.now() >= commitDeadline) {
      fail(`${name}: autocommit did not cover the read offsets within 10 s: read ${JSON.stringify([...lastRead])}, ` +
           `committed ${JSON.stringify([...c])}`)
    }
    await sleep(50)
  }
  await bounded(stream.close(), 10000, `${name}: stream.close()`)
  await bounded(consumer.close(), 10000, `${name}: consumer.close()`)
  return { name, joins, records, commits: Object.fromEntries(committedUpTo()) }
}

async function main() {
  const admin = new Admin({ ...common, clientId: 'kairo-it-plt-admin' })
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
  const md = await admin.metadata({ topics: [topic] })
  const mdPartitions = md.topics.get(topic).partitionsCount
  await admin.close()

  const producer = new Producer({ ...common, clientId: 'kairo-it-plt-producer', serializers: stringSerializers })
  const firstKeys = await produce(producer, count, 'plt')
  emit({ event: 'PHASE', phase: 'produced', count: firstKeys.length, metadataPartitions: mdPartitions })

  const first = await consumeGroup('first', count, 30000)
  emit({ event: 'PHASE', phase: 'first-consumed', count: first.records.length, commits: first.commits })

  const newKeys = await produce(producer, newCount, 'plt-new')
  await producer.close()
  const second = await consumeGroup('second', newCount, 30000)
  emit({ event: 'RESULT', topic, groupId, metadataPartitions: mdPartitions, firstKeys, newKeys, first, second })
}

main().then(() => process.exit(0), err => fail(`platformatic: ${describeError(err)}\n${err && err.stack}`))
