#!/usr/bin/env node
// kafkajs 2.2.4 admin APIs against kairo. Driven by tests/integration/admin_node.py:
//
//   node kafkajs_admin.js BOOTSTRAP records TOPIC COUNT DELETE_TO MORE
//   node kafkajs_admin.js BOOTSTRAP partitions TOPIC
//   node kafkajs_admin.js BOOTSTRAP configs TOPIC OTHER_TOPIC
//   node kafkajs_admin.js BOOTSTRAP strict TOPIC
//
// kafkajs sends DeleteRecords v1, CreatePartitions v1, DescribeConfigs v2, AlterConfigs v1 (the
// non-incremental one: it has no IncrementalAlterConfigs), ListOffsets v3, Fetch v11.
// Each mode only records what the client observed (results, errors by Kafka error name) and
// prints one `@@RESULT {json}` line; the Python side decides what is right. Every wait is
// bounded: on a timeout or a consumer CRASH it prints `@@FAIL <reason>` and exits 1. kafkajs's
// own log (warn and above) goes to stderr; lines the checks need are also kept in the result.

'use strict'

const { Kafka, logLevel, Partitioners, ConfigResourceTypes } = require('kafkajs')

const [boot, mode, ...args] = process.argv.slice(2)
if (!boot || !mode) {
  console.error('usage: kafkajs_admin.js BOOTSTRAP MODE ARGS...')
  process.exit(2)
}

const clientLog = []
function logCreator() {
  return ({ namespace, label, log }) => {
    const { message, timestamp, logger, ...extra } = log
    clientLog.push({ namespace, label, message, extra })
    process.stderr.write(`[kafkajs ${label} ${namespace}] ${message} ${JSON.stringify(extra)}\n`)
  }
}

const kafka = new Kafka({
  clientId: `kairo-it-admin-${mode}`,
  brokers: [boot],
  logLevel: logLevel.WARN,
  logCreator,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
})

function emit(obj) {
  console.log(`@@${obj.event} ${JSON.stringify(obj)}`)
}

function fail(reason) {
  console.log(`@@FAIL ${reason}`)
  process.exit(1)
}

const sleep = ms => new Promise(r => setTimeout(r, ms))

async function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await pred()) return
    if (Date.now() >= deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

// Every Kafka error name (KafkaJSProtocolError.type) found in an error and what it wraps.
function errorTypes(e, out = [], depth = 0) {
  if (!e || depth > 8) return out
  if (e.type) out.push(e.type)
  for (const p of e.partitions || []) errorTypes(p.error, out, depth + 1)
  if (e.cause && e.cause !== e) errorTypes(e.cause, out, depth + 1)
  if (e.originalError) errorTypes(e.originalError, out, depth + 1)
  return out
}

// {ok: true, value} or {ok: false, types: [Kafka error names], name, message}.
async function attempt(fn) {
  try {
    const value = await fn()
    return { ok: true, value: value === undefined ? null : value }
  } catch (e) {
    return { ok: false, types: [...new Set(errorTypes(e))], name: e.name, message: String(e.message) }
  }
}

async function offsets(admin, topic) {
  const out = {}
  for (const p of await admin.fetchTopicOffsets(topic)) out[p.partition] = { low: Number(p.low), high: Number(p.high) }
  return out
}

async function produceTo(topic, partition, count, prefix) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner,
                                    allowAutoTopicCreation: false })
  await producer.connect()
  const messages = []
  for (let i = 0; i < count; i++) {
    messages.push({ partition, key: `${prefix}-${String(i).padStart(5, '0')}`, value: `value ${prefix} ${i}` })
  }
  const acks = []
  for (let i = 0; i < messages.length; i += 100) {
    const res = await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 100) })
    for (const r of res) acks.push({ partition: r.partition, baseOffset: Number(r.baseOffset), errorCode: r.errorCode })
  }
  await producer.disconnect()
  return acks
}

async function createTopic(admin, topic, numPartitions, configEntries = []) {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions, replicationFactor: 1, configEntries }],
    waitForLeaders: true,
    timeout: 10000,
  })
  await waitFor(async () => {
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    return md.topics[0] && md.topics[0].partitions.length === numPartitions
  }, 10000, `metadata of ${topic} with ${numPartitions} partitions`)
  return created
}

// A group consumer (fromBeginning) that reads until it has `expected` records, then `graceMs`
// more, and disconnects.
async function consumeAll(topic, groupId, expected, graceMs, timeoutMs) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, rebalanceTimeout: 10000,
                                    heartbeatInterval: 500, maxWaitTimeInMs: 200,
                                    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 } })
  const records = []
  const crashes = []
  consumer.on(consumer.events.CRASH, e => crashes.push(String(e.payload.error && e.payload.error.stack || e.payload.error)))
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push([partition, Number(message.offset), message.key ? message.key.toString() : null])
    },
  })
  await waitFor(() => {
    if (crashes.length) fail(`consumer of ${groupId} crashed: ${crashes[0]}`)
    return records.length >= expected
  }, timeoutMs, `${groupId} to read ${expected} records of ${topic} (has ${records.length})`)
  await sleep(graceMs) // nothing beyond the expected records may arrive
  await consumer.disconnect()
  return records
}

// DeleteRecords, the low watermark, and consumers afterwards.
async function modeRecords([topic, countArg, deleteToArg, moreArg]) {
  const count = Number(countArg)
  const deleteTo = Number(deleteToArg)
  const more = Number(moreArg)
  const admin = kafka.admin()
  await admin.connect()
  const created = await createTopic(admin, topic, 2)
  const acks0 = await produceTo(topic, 0, count, 'p0')
  const acks1 = await produceTo(topic, 1, count, 'p1')
  const before = await offsets(admin, topic)

  // Partition 0 to an offset, partition 1 to -1 (its high watermark), one request each.
  const deleteP0 = await attempt(() => admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(deleteTo) }] }))
  const afterP0 = await offsets(admin, topic)
  const deleteP1 = await attempt(() => admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '-1' }] }))
  const afterBoth = await offsets(admin, topic)
  // Below the low watermark: Kafka does nothing and says so without an error.
  const deleteBelow = await attempt(() => admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '2' }] }))
  // Beyond the high watermark: OFFSET_OUT_OF_RANGE.
  const deleteBeyond = await attempt(() => admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(count + 5) }] }))
  const afterRefusals = await offsets(admin, topic)

  // A fresh group (no committed offsets, fromBeginning): ListOffsets earliest gives the new log starts.
  const fresh = await consumeAll(topic, `${topic}-fresh`, count - deleteTo, 700, 20000)

  // Partition 1 was emptied to its high watermark: it carries on from there.
  const acksMore = await produceTo(topic, 1, more, 'more')
  const afterMore = await offsets(admin, topic)

  // A group whose committed offsets are below the log start: its Fetch gets OFFSET_OUT_OF_RANGE
  // and kafkajs resets to the earliest offset (fromBeginning), the new log start.
  const staleGroup = `${topic}-stale`
  await admin.setOffsets({ groupId: staleGroup, topic, partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] })
  const staleCommitted = (await admin.fetchOffsets({ groupId: staleGroup, topics: [topic] }))[0].partitions
    .map(p => [p.partition, Number(p.offset)])
  const logMark = clientLog.length
  const stale = await consumeAll(topic, staleGroup, count - deleteTo + more, 700, 25000)
  const outOfRangeLogs = clientLog.slice(logMark)
    .filter(l => /offset out of range/i.test(l.message))
    .map(l => ({ message: l.message, topic: l.extra.topic, partition: l.extra.partition }))
  await admin.disconnect()
  emit({
    event: 'RESULT', created, acks: { 0: acks0, 1: acks1, more: acksMore },
    before, deleteP0, afterP0, deleteP1, afterBoth, deleteBelow, deleteBeyond, afterRefusals,
    fresh, afterMore, staleCommitted, stale, outOfRangeLogs,
  })
}

// CreatePartitions: grow, produce to a new partition, refusals.
async function modePartitions([topic]) {
  const admin = kafka.admin()
  await admin.connect()
  await createTopic(admin, topic, 2)
  const acksOld = await produceTo(topic, 0, 3, 'old')
  const grow = await attempt(() => admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }))
  let partitionIds = null
  await waitFor(async () => {
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    partitionIds = md.topics[0].partitions.map(p => p.partitionId).sort((a, b) => a - b)
    return partitionIds.length === 4
  }, 10000, `metadata of ${topic} to show 4 partitions`)
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  const leaders = md.topics[0].partitions.map(p => [p.partitionId, p.leader, p.partitionErrorCode])
  // A producer started after the growth writes to the new partitions.
  const acks3 = await produceTo(topic, 3, 5, 'new3')
  const acks2 = await produceTo(topic, 2, 2, 'new2')
  const afterProduce = await offsets(admin, topic)
  const shrink = await attempt(() => admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] }))
  const same = await attempt(() => admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }))
  const validateOnly = await attempt(() => admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic, count: 6 }] }))
  const badAssignment = await attempt(() => admin.createPartitions({ topicPartitions: [{ topic, count: 5, assignments: [[5]] }] }))
  const unknownTopic = await attempt(() => admin.createPartitions({ topicPartitions: [{ topic: `${topic}-nonexistent`, count: 3 }] }))
  const mdAfter = await admin.fetchTopicMetadata({ topics: [topic] })
  const countAfter = mdAfter.topics[0].partitions.length
  const fresh = await consumeAll(topic, `${topic}-all`, 3 + 5 + 2, 700, 20000)
  await admin.disconnect()
  emit({ event: 'RESULT', acksOld, grow, partitionIds, leaders, acks3, acks2, afterProduce, shrink, same,
         validateOnly, badAssignment, unknownTopic, countAfter, fresh })
}

// name -> {value, source, readOnly, isDefault} of one described resource.
function configMap(resource) {
  const out = {}
  for (const c of resource.configEntries) {
    out[c.configName] = { value: c.configValue, source: c.configSource, readOnly: c.readOnly, isDefault: c.isDefault }
  }
  return out
}

async function describe(admin, type, name, configNames) {
  const res = await admin.describeConfigs({ resources: [{ type, name, configNames }], includeSynonyms: false })
  const r = res.resources[0]
  return { errorCode: r.errorCode, resourceType: r.resourceType, resourceName: r.resourceName, configs: configMap(r) }
}

const alter = (admin, type, name, configEntries, validateOnly = false) =>
  attempt(() => admin.alterConfigs({ validateOnly, resources: [{ type, name, configEntries }] }))

// DescribeConfigs and (non-incremental) AlterConfigs on a topic and on the broker.
async function modeConfigs([topic, otherTopic]) {
  const T = ConfigResourceTypes.TOPIC
  const B = ConfigResourceTypes.BROKER
  const admin = kafka.admin()
  await admin.connect()
  const created = await createTopic(admin, topic, 1, [{ name: 'retention.bytes', value: '1048576' }])
  await createTopic(admin, otherTopic, 1)
  const r = { event: 'RESULT', created }
  r.initial = await describe(admin, T, topic)
  r.alter = await alter(admin, T, topic, [{ name: 'retention.ms', value: '3600000' }])
  r.afterAlter = await describe(admin, T, topic)
  r.onlyRetentionMs = await describe(admin, T, topic, ['retention.ms'])
  r.refusals = {}
  for (const [label, name, value] of [
    ['retention.ms=abc', 'retention.ms', 'abc'],
    ['retention.ms=-5', 'retention.ms', '-5'],
    ['retention.bytes=-2', 'retention.bytes', '-2'],
    ['cleanup.policy=compact', 'cleanup.policy', 'compact'],
    ['unknown.config=1', 'kairo.unknown.config', '1'],
  ]) {
    r.refusals[label] = await alter(admin, T, topic, [{ name, value }])
  }
  r.afterRefusals = await describe(admin, T, topic)
  r.validateOnly = await alter(admin, T, topic, [{ name: 'retention.ms', value: '1000' }], true)
  r.afterValidateOnly = await describe(admin, T, topic)
  r.several = await alter(admin, T, topic, [{ name: 'retention.ms', value: '7200000' },
                                              { name: 'max.message.bytes', value: '500000' },
                                              { name: 'cleanup.policy', value: 'delete' }])
  r.afterSeveral = await describe(admin, T, topic)
  r.unknownTopic = await alter(admin, T, `${topic}-nonexistent`, [{ name: 'retention.ms', value: '1000' }])
  r.describeUnknownTopic = await attempt(() => describe(admin, T, `${topic}-nonexistent`))

  // The broker resource: its live defaults, which topics without an override follow.
  r.broker = await describe(admin, B, '0')
  // A topic and the broker in one DescribeConfigs request.
  r.both = (await admin.describeConfigs({ resources: [{ type: T, name: topic, configNames: ['retention.ms'] },
                                                      { type: B, name: '0', configNames: ['log.retention.ms'] }] }))
    .resources.map(x => ({ errorCode: x.errorCode, resourceType: x.resourceType, resourceName: x.resourceName,
                           configs: configMap(x) }))
  r.brokerAlter = await alter(admin, B, '0', [{ name: 'log.retention.ms', value: '86400000' }])
  r.brokerAfterAlter = await describe(admin, B, '0')
  r.otherAfterBrokerAlter = await describe(admin, T, otherTopic, ['retention.ms', 'retention.bytes'])
  r.topicAfterBrokerAlter = await describe(admin, T, topic, ['retention.ms'])
  r.brokerRefusals = {}
  for (const [label, name, value] of [
    ['num.partitions=5', 'num.partitions', '5'],
    ['log.retention.ms=abc', 'log.retention.ms', 'abc'],
  ]) {
    r.brokerRefusals[label] = await alter(admin, B, '0', [{ name, value }])
  }
  r.brokerAfterRefusals = await describe(admin, B, '0', ['log.retention.ms', 'log.retention.bytes'])
  // AlterConfigs replaces the resource's set: naming only log.retention.bytes resets log.retention.ms.
  r.brokerReplace = await alter(admin, B, '0', [{ name: 'log.retention.bytes', value: '1073741824' }])
  r.brokerAfterReplace = await describe(admin, B, '0', ['log.retention.ms', 'log.retention.bytes'])
  r.brokerReset = await alter(admin, B, '0', [])
  r.brokerAfterReset = await describe(admin, B, '0', ['log.retention.ms', 'log.retention.bytes'])
  r.otherAfterReset = await describe(admin, T, otherTopic, ['retention.ms', 'retention.bytes'])
  await admin.disconnect()
  emit(r)
}

// Malformed AlterConfigs requests Kafka refuses whole (ConfigAdminManager.preprocess): a config
// named twice in one resource.
async function modeStrict([topic]) {
  const T = ConfigResourceTypes.TOPIC
  const admin = kafka.admin()
  await admin.connect()
  await createTopic(admin, topic, 1, [{ name: 'retention.ms', value: '3600000' }])
  const r = { event: 'RESULT' }
  const before = await describe(admin, T, topic, ['retention.ms', 'retention.bytes'])
  const result = await alter(admin, T, topic, [{ name: 'retention.ms', value: '1000' }, { name: 'retention.ms', value: '2000' }])
  r.duplicateKey = { result, before, after: await describe(admin, T, topic, ['retention.ms', 'retention.bytes']) }
  await admin.disconnect()
  emit(r)
}

const modes = { records: modeRecords, partitions: modePartitions, configs: modeConfigs, strict: modeStrict }

if (!modes[mode]) fail(`unknown mode ${mode}`)
modes[mode](args).then(
  () => process.exit(0),
  err => fail(`${mode}: ${err && err.stack || err}`))
