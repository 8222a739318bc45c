#!/usr/bin/env node
// kafkajs 2.2.4 idempotent and transactional producers against kairo. Driven by
// tests/integration/txn_node.py:
//
//   node kafkajs_txn.js BOOTSTRAP idempotent TOPIC PARTITIONS COUNT [IN_FLIGHT]
//   node kafkajs_txn.js BOOTSTRAP idempotent-stream TOPIC PARTITIONS COUNT   (survives a restart)
//   node kafkajs_txn.js BOOTSTRAP txn TOPIC PARTITIONS TRANSACTIONAL_ID
//   node kafkajs_txn.js BOOTSTRAP ctp IN OUT PARTITIONS GROUP COUNT TRANSACTIONAL_ID
//   node kafkajs_txn.js BOOTSTRAP fence TOPIC TRANSACTIONAL_ID
//   node kafkajs_txn.js BOOTSTRAP timeout TOPIC TRANSACTIONAL_ID TXN_TIMEOUT_MS
//   node kafkajs_txn.js BOOTSTRAP open-across-restart TOPIC TRANSACTIONAL_ID GO_FILE
//   node kafkajs_txn.js BOOTSTRAP read TOPIC GROUP EXPECTED read_committed|read_uncommitted
//   node kafkajs_txn.js BOOTSTRAP committed GROUP TOPIC
//
// Each mode prints progress lines (`@@PHASE {json}`) and exactly one `@@RESULT {json}` line on
// success; the Python side checks the JSON. Every wait is bounded: on a timeout or a consumer
// CRASH the script prints `@@FAIL <reason>` and exits 1. kafkajs's own log (warn and above) goes
// to stderr so a failure shows the client's error output.

'use strict'

const fs = require('fs')
const { Kafka, logLevel, Partitioners } = require('kafkajs')

const [boot, mode, ...args] = process.argv.slice(2)
if (!boot || !mode) {
  console.error('usage: kafkajs_txn.js BOOTSTRAP MODE ARGS...')
  process.exit(2)
}

function logCreator() {
  return ({ namespace, label, log }) => {
    const { message, timestamp, logger, ...extra } = log
    process.stderr.write(`[kafkajs ${label} ${namespace}] ${message} ${JSON.stringify(extra)}\n`)
  }
}

const kafka = new Kafka({
  clientId: `kairo-it-txn-${mode}`,
  brokers: [boot],
  logLevel: logLevel.WARN,
  logCreator,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
})

// Synchronous writes: process.exit() right after a large asynchronous write to a pipe would
// cut the RESULT line short.
function emit(obj) {
  fs.writeSync(1, `@@${obj.event} ${JSON.stringify(obj)}\n`)
}

function phase(name, extra = {}) {
  emit({ event: 'PHASE', phase: name, at: Date.now(), ...extra })
}

function fail(reason) {
  fs.writeSync(1, `@@FAIL ${reason}\n`)
  process.exit(1)
}

const sleep = ms => new Promise(r => setTimeout(r, ms))

async function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await pred()) return
    if (Date.now() >= deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what()}`)
    await sleep(50)
  }
}

const partitioner = { createPartitioner: Partitioners.DefaultPartitioner }

async function createTopics(admin, topics, partitions) {
  await admin.createTopics({
    topics: topics.map(topic => ({ topic, numPartitions: Number(partitions), replicationFactor: 1 })),
    waitForLeaders: true,
    timeout: 10000,
  })
  await waitFor(async () => {
    const md = await admin.fetchTopicMetadata({ topics })
    return md.topics.length === topics.length &&
      md.topics.every(t => t.partitions.length === Number(partitions))
  }, 10000, () => `metadata of ${topics} with ${partitions} partitions`)
}

// admin.fetchTopicOffsets sends ListOffsets with isolation READ_COMMITTED: `high` is the last
// stable offset, not the high watermark.
async function stableOffsets(admin, topic) {
  const out = {}
  for (const p of await admin.fetchTopicOffsets(topic)) out[p.partition] = Number(p.high)
  return out
}

async function committed(admin, groupId, topic) {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] })
  const t = res.find(x => x.topic === topic)
  const out = {}
  for (const p of (t ? t.partitions : [])) out[p.partition] = Number(p.offset)
  return out
}

function describeError(e) {
  if (!e) return null
  return { name: e.name, type: e.type || null, code: e.code === undefined ? null : e.code,
           message: String(e.message), retriable: e.retriable === undefined ? null : e.retriable,
           cause: e.originalError ? describeError(e.originalError) : null }
}

// A group consumer that records [partition, offset, key, value] of everything it is handed.
// kafkajs's default is read_committed; readUncommitted: true asks for read_uncommitted.
async function startReader(topic, groupId, { readUncommitted = false } = {}) {
  const consumer = kafka.consumer({
    groupId,
    readUncommitted,
    sessionTimeout: 6000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 200,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
  })
  const r = { consumer, records: [], crashes: [], joined: false }
  consumer.on(consumer.events.GROUP_JOIN, () => { r.joined = true })
  consumer.on(consumer.events.CRASH, e => {
    r.crashes.push(String(e.payload.error && e.payload.error.stack || e.payload.error))
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      r.records.push([partition, Number(message.offset),
                      message.key ? message.key.toString() : null,
                      message.value ? message.value.toString() : null])
    },
  })
  r.check = () => { if (r.crashes.length) fail(`consumer of ${topic} crashed: ${r.crashes[0]}`) }
  r.waitCount = async (n, timeoutMs, what) => {
    await waitFor(() => { r.check(); return r.records.length >= n }, timeoutMs,
                  () => `${what}: ${n} records (have ${r.records.length})`)
  }
  return r
}

// Read a topic until `expected` records arrived, plus a grace period to catch extras.
async function readAll(topic, groupId, expected, opts = {}) {
  const r = await startReader(topic, groupId, opts)
  await r.waitCount(expected, 30000, `${groupId} reading ${topic}`)
  await sleep(opts.graceMs || 1000)
  r.check()
  await r.consumer.disconnect()
  return r.records
}

function keyedMessages(prefix, count, partitions) {
  const out = []
  for (let i = 0; i < count; i++) {
    const m = { key: `${prefix}-${String(i).padStart(5, '0')}`, value: `${prefix} value ${i}` }
    if (partitions) m.partition = i % partitions
    out.push(m)
  }
  return out
}

function ackSummary(res) {
  return res.map(r => ({ topic: r.topicName, partition: r.partition, errorCode: r.errorCode,
                         baseOffset: Number(r.baseOffset) }))
}

// 1. Idempotent producer: COUNT messages, IN_FLIGHT (default 5) sends in flight at once (kafkajs
// serialises their Produce requests per broker), every one acked; read back by a
// read_uncommitted group consumer.
async function modeIdempotent([topic, partitions, count, inFlight]) {
  count = Number(count)
  const IN_FLIGHT = Number(inFlight || 5)
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [topic], partitions)
  const producer = kafka.producer({ ...partitioner, idempotent: true, allowAutoTopicCreation: false })
  await producer.connect()
  const messages = keyedMessages('idem', count)
  const sends = []
  const t0 = Date.now()
  const BATCH = 100
  for (let i = 0; i < messages.length; i += BATCH * IN_FLIGHT) {
    const wave = []
    for (let j = i; j < Math.min(i + BATCH * IN_FLIGHT, messages.length); j += BATCH) {
      const slice = messages.slice(j, j + BATCH)
      wave.push(producer.send({ topic, acks: -1, messages: slice })
        .then(res => sends.push({ first: j, size: slice.length, acks: ackSummary(res) })))
    }
    await Promise.all(wave)
  }
  const produceMs = Date.now() - t0
  await producer.disconnect()
  phase('produced', { count, ms: produceMs })
  const ends = await stableOffsets(admin, topic)
  const records = await readAll(topic, `${topic}-readback`, count, { readUncommitted: true })
  await admin.disconnect()
  emit({ event: 'RESULT', keys: messages.map(m => m.key), sends, produceMs, endOffsets: ends,
         records: records.map(([p, o, k]) => [p, o, k]) })
}

// 1b. Idempotent producer that keeps sending while the Python side SIGKILLs and restarts kairo:
// a batch whose answer was lost is sent again with the same sequence numbers, and must be
// acknowledged without being written twice. One `@@PROGRESS` line per acknowledged send.
async function modeIdempotentStream([topic, partitions, count]) {
  count = Number(count)
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [topic], partitions)
  await admin.disconnect()
  // Enough retries, each at most 1 s apart, to outlast the restart.
  const producer = kafka.producer({ ...partitioner, idempotent: true, allowAutoTopicCreation: false,
                                    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } })
  // Answered Produce requests: more than the sends when a send was retried.
  let produceRequests = 0
  producer.on(producer.events.REQUEST, e => { if (e.payload.apiName === 'Produce') produceRequests++ })
  await producer.connect()
  const messages = keyedMessages('stream', count)
  const sends = []
  const BATCH = 50
  for (let i = 0; i < messages.length; i += BATCH) {
    const slice = messages.slice(i, i + BATCH)
    const res = await producer.send({ topic, acks: -1, messages: slice })
    sends.push({ first: i, size: slice.length, acks: ackSummary(res) })
    emit({ event: 'PROGRESS', acked: i + slice.length })
    await sleep(5)
  }
  await producer.disconnect()
  const admin2 = kafka.admin()
  await admin2.connect()
  const ends = await stableOffsets(admin2, topic)
  await admin2.disconnect()
  const records = await readAll(topic, `${topic}-readback`, count, { readUncommitted: true })
  emit({ event: 'RESULT', keys: messages.map(m => m.key), sends, produceRequests, endOffsets: ends,
         records: records.map(([p, o, k]) => [p, o, k]) })
}

// 2. Transactions: committed visible once, aborted never, and the last stable offset holds
// read_committed readers (and ListOffsets) below an open transaction until it commits.
async function modeTxn([topic, partitions, txnId]) {
  partitions = Number(partitions)
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [topic], partitions)
  const tp = kafka.producer({ ...partitioner, transactionalId: txnId, maxInFlightRequests: 1,
                              idempotent: true, allowAutoTopicCreation: false })
  const plain = kafka.producer({ ...partitioner, allowAutoTopicCreation: false })
  await tp.connect()
  await plain.connect()

  const sent = { commit1: keyedMessages('commit1', 30), abort1: keyedMessages('abort1', 30),
                 plain1: keyedMessages('plain1', 10), commit2: keyedMessages('commit2', 30),
                 open: keyedMessages('open', 20, partitions), plain2: keyedMessages('plain2', 10, partitions) }

  let t = await tp.transaction()
  await t.send({ topic, acks: -1, messages: sent.commit1.slice(0, 15) })
  await t.send({ topic, acks: -1, messages: sent.commit1.slice(15) })
  await t.commit()
  phase('commit1 committed')
  t = await tp.transaction()
  await t.send({ topic, acks: -1, messages: sent.abort1 })
  await t.abort()
  phase('abort1 aborted')
  await plain.send({ topic, acks: -1, messages: sent.plain1 })
  t = await tp.transaction()
  await t.send({ topic, acks: -1, messages: sent.commit2 })
  await t.commit()
  phase('commit2 committed')

  const visible = sent.commit1.length + sent.plain1.length + sent.commit2.length
  const rc = await startReader(topic, `${topic}-rc`)
  await rc.waitCount(visible, 30000, 'read_committed reader')
  await sleep(1000)
  rc.check()
  // Not right after commit(): EndTxn is answered once the commit is decided, and the markers
  // (which move the last stable offset) are written after that, as in Kafka.
  const stableBefore = await stableOffsets(admin, topic)
  const rcFirst = rc.records.slice()
  const ru = await readAll(topic, `${topic}-ru`, visible + sent.abort1.length, { readUncommitted: true })
  phase('first reads done', { rc: rcFirst.length, ru: ru.length })

  // An open transaction on every partition, then plain messages behind it.
  t = await tp.transaction()
  await t.send({ topic, acks: -1, messages: sent.open })
  await plain.send({ topic, acks: -1, messages: sent.plain2 })
  phase('open transaction and plain2 sent')
  await sleep(2000)
  rc.check()
  const rcWhileOpen = rc.records.slice(rcFirst.length)
  const stableWhileOpen = await stableOffsets(admin, topic)
  await t.commit()
  const committedAt = Date.now()
  phase('open transaction committed')
  await rc.waitCount(visible + sent.open.length + sent.plain2.length, 20000,
                     'read_committed reader after the commit')
  const lagMs = Date.now() - committedAt
  await sleep(1000)
  rc.check()
  const stableAfter = await stableOffsets(admin, topic)
  await rc.consumer.disconnect()
  await tp.disconnect()
  await plain.disconnect()
  await admin.disconnect()
  const keysOf = ms => ms.map(m => m.key)
  emit({
    event: 'RESULT',
    sent: Object.fromEntries(Object.entries(sent).map(([k, v]) => [k, keysOf(v)])),
    rcFirst, ru, rcWhileOpen, rcAfter: rc.records.slice(rcFirst.length), lagMs,
    stableBefore, stableWhileOpen, stableAfter,
  })
}

// 3. Consume-transform-produce: every batch of IN is turned into OUT records and its offsets
// are committed for GROUP inside the same transaction (sendOffsets).
async function modeCtp([inTopic, outTopic, partitions, groupId, count, txnId]) {
  count = Number(count)
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [inTopic, outTopic], partitions)
  const plain = kafka.producer({ ...partitioner, allowAutoTopicCreation: false })
  await plain.connect()
  const input = keyedMessages('in', count)
  for (let i = 0; i < input.length; i += 100) {
    await plain.send({ topic: inTopic, acks: -1, messages: input.slice(i, i + 100) })
  }
  await plain.disconnect()
  const inEnds = await stableOffsets(admin, inTopic)
  phase('input produced', { inEnds })

  const tp = kafka.producer({ ...partitioner, transactionalId: txnId, maxInFlightRequests: 1,
                              idempotent: true, allowAutoTopicCreation: false })
  await tp.connect()
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 300,
                                    maxWaitTimeInMs: 200, maxBytesPerPartition: 1024,
                                    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 } })
  const crashes = []
  consumer.on(consumer.events.CRASH, e => crashes.push(String(e.payload.error && e.payload.error.stack || e.payload.error)))
  const txns = []
  let processed = 0
  await consumer.connect()
  await consumer.subscribe({ topics: [inTopic], fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return
      const last = batch.messages[batch.messages.length - 1].offset
      const next = String(Number(last) + 1)
      const t = await tp.transaction()
      try {
        await t.send({ topic: outTopic, acks: -1, messages: batch.messages.map(m => ({
          key: m.key, value: `out(${inTopic}/${batch.partition}@${m.offset}) ${m.value.toString()}`,
        })) })
        await t.sendOffsets({ consumerGroupId: groupId,
                              topics: [{ topic: inTopic, partitions: [{ partition: batch.partition, offset: next }] }] })
        await t.commit()
      } catch (e) {
        if (t.isActive()) await t.abort()
        throw e
      }
      txns.push({ partition: batch.partition, first: Number(batch.messages[0].offset),
                  next: Number(next), size: batch.messages.length })
      processed += batch.messages.length
      resolveOffset(last)
      await heartbeat()
    },
  })
  await waitFor(() => {
    if (crashes.length) fail(`ctp consumer crashed: ${crashes[0]}`)
    return processed >= count
  }, 40000, () => `the ctp loop to process ${count} input records (has ${processed})`)
  // The last commit's offsets become the group's when its marker reaches the group coordinator,
  // which may be just after commit() returned.
  let committedRunning = null
  const deadline = Date.now() + 10000
  do {
    committedRunning = await committed(admin, groupId, inTopic)
    if (JSON.stringify(committedRunning) === JSON.stringify(inEnds)) break
    await sleep(50)
  } while (Date.now() < deadline)
  await consumer.disconnect()
  const committedAfter = await committed(admin, groupId, inTopic)
  phase('ctp done', { txns: txns.length, processed, committedAfter })

  // An aborted transaction that would rewind the group to 0 and write ghosts to OUT.
  const t = await tp.transaction()
  await t.send({ topic: outTopic, acks: -1, messages: keyedMessages('ghost', 9) })
  await t.sendOffsets({ consumerGroupId: groupId,
                        topics: [{ topic: inTopic, partitions: Object.keys(inEnds).map(p => ({ partition: Number(p), offset: '0' })) }] })
  // Offsets sent in a transaction are not the group's until it commits (OffsetFetch v4 has no
  // require_stable: Kafka answers the last committed offsets).
  const committedPending = await committed(admin, groupId, inTopic)
  await t.abort()
  const committedAfterAbort = await committed(admin, groupId, inTopic)
  await tp.disconnect()
  phase('aborted rewind')

  const out = await readAll(outTopic, `${outTopic}-verify`, count)
  // A plain group member of GROUP resumes at the transactional commits: nothing left to read.
  const resume = await startReader(inTopic, groupId)
  await waitFor(() => { resume.check(); return resume.joined }, 20000, () => `a fresh member of ${groupId} to join`)
  await sleep(1500)
  resume.check()
  await resume.consumer.disconnect()
  const outStable = await stableOffsets(admin, outTopic)
  await admin.disconnect()
  emit({ event: 'RESULT', inKeys: input.map(m => m.key), inEnds, txns, processed, committedRunning,
         committedAfter, committedPending, committedAfterAbort, out, outStable, resumed: resume.records })
}

// 4. Fencing: a second producer with the same transactional id takes over; the first one's
// ongoing transaction is aborted and its next produce / AddPartitionsToTxn / EndTxn fail.
async function modeFence([topic, txnId]) {
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [topic], 2)
  const mk = () => kafka.producer({ ...partitioner, transactionalId: txnId, maxInFlightRequests: 1,
                                    idempotent: true, allowAutoTopicCreation: false,
                                    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } })
  const p1 = mk()
  const p2 = mk()
  await p1.connect()
  const t1 = await p1.transaction()
  await t1.send({ topic, acks: -1, messages: [{ key: 'fenced-0', value: 'p1 before the fence', partition: 0 }] })
  phase('p1 sent in its transaction')
  await p2.connect()
  const t0 = Date.now()
  const t2 = await p2.transaction() // InitProducerId with the same transactional id
  const initMs = Date.now() - t0
  phase('p2 initialised', { initMs })
  const errors = {}
  const attempt = async (what, fn) => {
    try {
      await fn()
      errors[what] = null
    } catch (e) {
      errors[what] = describeError(e)
    }
  }
  await attempt('produceSamePartition', () =>
    t1.send({ topic, acks: -1, messages: [{ key: 'fenced-1', value: 'p1 after the fence', partition: 0 }] }))
  await attempt('produceNewPartition', () =>
    t1.send({ topic, acks: -1, messages: [{ key: 'fenced-2', value: 'p1 after the fence', partition: 1 }] }))
  await attempt('commit', () => t1.commit())
  phase('p1 attempts done', { errors })
  await t2.send({ topic, acks: -1, messages: [{ key: 'winner-0', value: 'p2', partition: 0 },
                                              { key: 'winner-1', value: 'p2', partition: 1 }] })
  await t2.commit()
  phase('p2 committed')
  const rc = await readAll(topic, `${topic}-rc`, 2, { graceMs: 1500 })
  const ru = await readAll(topic, `${topic}-ru`, 2, { readUncommitted: true, graceMs: 1500 })
  await p1.disconnect().catch(() => {})
  await p2.disconnect()
  await admin.disconnect()
  emit({ event: 'RESULT', errors, initMs, rc, ru })
}

// 5. Transaction timeout: an open transaction that is never ended is aborted by the
// coordinator, which lets read_committed readers past it; its producer is then fenced.
async function modeTimeout([topic, txnId, txnTimeoutMs]) {
  txnTimeoutMs = Number(txnTimeoutMs)
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [topic], 1)
  const tp = kafka.producer({ ...partitioner, transactionalId: txnId, maxInFlightRequests: 1,
                              idempotent: true, allowAutoTopicCreation: false,
                              transactionTimeout: txnTimeoutMs,
                              retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } })
  const plain = kafka.producer({ ...partitioner, allowAutoTopicCreation: false })
  await tp.connect()
  await plain.connect()
  const t = await tp.transaction()
  await t.send({ topic, acks: -1, messages: keyedMessages('stale', 5) })
  const openedAt = Date.now()
  await plain.send({ topic, acks: -1, messages: keyedMessages('behind', 5) })
  const rc = await startReader(topic, `${topic}-rc`)
  await rc.waitCount(5, txnTimeoutMs + 20000, 'read_committed reader past the timed-out transaction')
  const visibleAfterMs = Date.now() - openedAt
  await sleep(1000)
  rc.check()
  await rc.consumer.disconnect()
  let commitError = null
  try {
    await t.commit()
  } catch (e) {
    commitError = describeError(e)
  }
  // The same transactional id is usable again by a new producer.
  const tp2 = kafka.producer({ ...partitioner, transactionalId: txnId, maxInFlightRequests: 1,
                               idempotent: true, allowAutoTopicCreation: false })
  await tp2.connect()
  const t2 = await tp2.transaction()
  await t2.send({ topic, acks: -1, messages: keyedMessages('again', 3) })
  await t2.commit()
  const after = await readAll(topic, `${topic}-rc2`, 8)
  await tp.disconnect().catch(() => {})
  await tp2.disconnect()
  await plain.disconnect()
  await admin.disconnect()
  emit({ event: 'RESULT', rc: rc.records, visibleAfterMs, commitError, after })
}

// 6. A transaction open while kairo is SIGKILLed and restarted (the Python side does that once
// this prints `@@PHASE open`, and creates GO_FILE when kairo is back): the same producer then
// adds records to it and commits; a read_committed reader sees all of them, once.
async function modeOpenAcrossRestart([topic, txnId, goFile]) {
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [topic], 2)
  await admin.disconnect()
  const tp = kafka.producer({ ...partitioner, transactionalId: txnId, maxInFlightRequests: 1,
                              idempotent: true, allowAutoTopicCreation: false,
                              retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } })
  await tp.connect()
  const t = await tp.transaction()
  const before = keyedMessages('before', 10, 2)
  const after = keyedMessages('after', 10, 2)
  await t.send({ topic, acks: -1, messages: before })
  phase('open')
  await waitFor(() => fs.existsSync(goFile), 30000, () => `${goFile} (kairo restarted)`)
  await t.send({ topic, acks: -1, messages: after })
  await t.commit()
  phase('committed')
  const rc = await readAll(topic, `${topic}-rc`, before.length + after.length)
  await tp.disconnect()
  emit({ event: 'RESULT', keys: before.concat(after).map(m => m.key), rc })
}

async function modeRead([topic, groupId, expected, isolation]) {
  const records = await readAll(topic, groupId, Number(expected),
                                { readUncommitted: isolation === 'read_uncommitted' })
  emit({ event: 'RESULT', records })
}

async function modeCommitted([groupId, topic]) {
  const admin = kafka.admin()
  await admin.connect()
  const res = { event: 'RESULT', committed: await committed(admin, groupId, topic),
                stable: await stableOffsets(admin, topic) }
  await admin.disconnect()
  emit(res)
}

const modes = { idempotent: modeIdempotent, 'idempotent-stream': modeIdempotentStream, txn: modeTxn, ctp: modeCtp, fence: modeFence,
                timeout: modeTimeout, 'open-across-restart': modeOpenAcrossRestart, read: modeRead,
                committed: modeCommitted }

if (!modes[mode]) fail(`unknown mode ${mode}`)
// Hard bound for an orphan whose Python side died.
setTimeout(() => fail(`${mode}: still running after 80 s`), 80000).unref()
modes[mode](args).then(
  () => process.exit(0),
  err => fail(`${mode}: ${err && err.stack || err} ${JSON.stringify(describeError(err))}`))
