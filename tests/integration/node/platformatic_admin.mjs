#!/usr/bin/env node
// @platformatic/kafka 1.35.0 admin APIs against kairo. Driven by tests/integration/admin_node.py:
//
//   node platformatic_admin.mjs BOOTSTRAP records TOPIC COUNT DELETE_TO   (COUNT per partition, in batches of 10)
//   node platformatic_admin.mjs BOOTSTRAP partitions TOPIC
//   node platformatic_admin.mjs BOOTSTRAP configs TOPIC OTHER_TOPIC
//   node platformatic_admin.mjs BOOTSTRAP strict TOPIC
//
// The library's Admin has all five APIs: deleteRecords (DeleteRecords v2), createPartitions
// (CreatePartitions v3), alterConfigs (AlterConfigs v2), incrementalAlterConfigs
// (IncrementalAlterConfigs v1), describeConfigs (DescribeConfigs v4); offsets come from
// Admin.listOffsets (ListOffsets v7) and records from Consumer.fetch / Consumer.consume (Fetch
// v17, by topic id). Each mode only records what the client observed (results, errors by Kafka
// error name) and prints one `@@RESULT {json}` line; the Python side decides what is right.
// On a timeout or an unexpected error it prints `@@FAIL <reason>` and exits 1.

import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka'

const [boot, mode, ...args] = process.argv.slice(2)
if (!boot || !mode) {
  console.error('usage: platformatic_admin.mjs BOOTSTRAP MODE ARGS...')
  process.exit(2)
}

const TOPIC = 2 // ConfigResourceTypes
const BROKER = 4
const SET = 0 // IncrementalAlterConfigOperationTypes
const DELETE = 1
const APPEND = 2
const EARLIEST = -2n
const LATEST = -1n

const json = obj => JSON.stringify(obj, (k, v) => typeof v === 'bigint' ? Number(v) : v)
const emit = obj => console.log(`@@${obj.event} ${json(obj)}`)

function fail(reason) {
  console.log(`@@FAIL ${reason}`)
  process.exit(1)
}

// A client error with its nested causes (the library wraps them in MultipleErrors).
function describeError(err, depth = 0) {
  if (!err) return String(err)
  const pad = '  '.repeat(depth)
  let s = `${pad}${err.name || 'Error'}: ${err.message}`
  for (const k of ['code', 'apiId', 'apiCode', 'path', 'serverErrorMessage']) {
    if (err[k] !== undefined) s += ` ${k}=${err[k]}`
  }
  for (const e of err.errors || []) s += `\n${describeError(e, depth + 1)}`
  if (err.cause) s += `\n${pad}cause:\n${describeError(err.cause, depth + 1)}`
  return s
}

// Every Kafka error (apiId, and the server's message) found in an error and what it wraps.
function kafkaErrors(err, out = [], depth = 0) {
  if (!err || depth > 8) return out
  if (err.apiId) out.push({ id: err.apiId, code: err.apiCode, path: err.path ?? null, serverMessage: err.serverErrorMessage ?? null })
  for (const e of err.errors || []) kafkaErrors(e, out, depth + 1)
  if (err.cause && err.cause !== err) kafkaErrors(err.cause, out, depth + 1)
  return out
}

// {ok: true, value} or {ok: false, types: [Kafka error names], errors, message}.
async function attempt(fn) {
  try {
    const value = await fn()
    return { ok: true, value: value === undefined ? null : value }
  } catch (e) {
    const errors = kafkaErrors(e)
    return { ok: false, types: [...new Set(errors.map(x => x.id))], errors, message: describeError(e) }
  }
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

const common = { bootstrapBrokers: [boot], retries: 3, retryDelay: 200, timeout: 10000 }
const newAdmin = () => new Admin({ ...common, clientId: `kairo-it-plt-admin-${mode}` })

// {partition: {low, high}} from ListOffsets earliest and latest.
async function offsets(admin, topic, partitions) {
  const out = {}
  for (const [key, timestamp] of [['low', EARLIEST], ['high', LATEST]]) {
    const res = await admin.listOffsets({
      topics: [{ name: topic, partitions: partitions.map(p => ({ partitionIndex: p, timestamp })) }],
    })
    for (const p of res.find(t => t.name === topic).partitions) {
      out[p.partitionIndex] = { ...(out[p.partitionIndex] || {}), [key]: Number(p.offset) }
    }
  }
  return out
}

// A fresh Producer (so its metadata is current) writes `count` messages to one partition,
// `perSend` at a time (one batch each).
async function produceTo(topic, partition, count, prefix, perSend = 50) {
  const producer = new Producer({ ...common, clientId: 'kairo-it-plt-producer', serializers: stringSerializers })
  const acks = []
  try {
    for (let i = 0; i < count; i += perSend) {
      const messages = []
      for (let j = i; j < Math.min(count, i + perSend); j++) {
        messages.push({ topic, partition, key: `${prefix}-${String(j).padStart(5, '0')}`, value: `value ${prefix} ${j}` })
      }
      const res = await producer.send({ messages, acks: -1 })
      for (const o of res.offsets || []) acks.push({ partition: o.partition, offset: Number(o.offset) })
    }
  } finally {
    await producer.close()
  }
  return acks
}

async function createTopic(admin, topic, partitions, configs = []) {
  const created = await admin.createTopics({ topics: [topic], partitions, replicas: 1, configs })
  const md = await admin.metadata({ topics: [topic], forceUpdate: true })
  return { created: created.map(t => ({ name: t.name, partitions: t.partitions })),
           partitionsCount: md.topics.get(topic).partitionsCount, topicId: md.topics.get(topic).id }
}

// One raw Fetch (Consumer.fetch) of one partition from `offset`: records or the error.
async function fetchOnce(consumer, topicId, partition, offset) {
  return attempt(async () => {
    const res = await consumer.fetch({
      node: 0,
      maxWaitTime: 100,
      topics: [{ topicId, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset),
                                         lastFetchedEpoch: -1, partitionMaxBytes: 1048576 }] }],
    })
    const p = res.responses[0].partitions[0]
    // Whole batches, as Kafka serves them: the first may begin below the fetch offset.
    const batches = []
    const records = []
    for (const batch of p.records || []) {
      batches.push([Number(batch.firstOffset), Number(batch.firstOffset) + batch.lastOffsetDelta])
      for (const r of batch.records) records.push([Number(batch.firstOffset) + r.offsetDelta, r.key ? r.key.toString() : null])
    }
    return { errorCode: p.errorCode, highWatermark: Number(p.highWatermark), logStartOffset: Number(p.logStartOffset),
             batches, records }
  })
}

// A fresh group's Consumer.consume() from the earliest offsets: reads `expected` records, then a
// grace period in which nothing more may arrive.
async function consumeEarliest(topic, groupId, expected, timeoutMs) {
  const consumer = new Consumer({ ...common, clientId: 'kairo-it-plt-consumer', groupId, deserializers: stringDeserializers,
                                  maxWaitTime: 200, sessionTimeout: 6000, rebalanceTimeout: 10000, heartbeatInterval: 500 })
  const stream = await bounded(consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false }), 20000,
                               `${groupId}: consume() to join and return a stream`)
  const records = []
  let streamError = null
  stream.on('error', e => { streamError = streamError || e })
  stream.on('data', m => records.push([m.partition, Number(m.offset), m.key]))
  const deadline = Date.now() + timeoutMs
  while (records.length < expected) {
    if (streamError) fail(`${groupId}: stream error after ${records.length} records:\n${describeError(streamError)}`)
    if (Date.now() >= deadline) fail(`${groupId}: read only ${records.length} of ${expected} records in ${timeoutMs} ms`)
    await sleep(50)
  }
  await sleep(700)
  if (streamError) fail(`${groupId}: stream error:\n${describeError(streamError)}`)
  await bounded(stream.close(), 10000, `${groupId}: stream.close()`)
  await bounded(consumer.close(), 10000, `${groupId}: consumer.close()`)
  return records
}

// DeleteRecords v2, ListOffsets earliest afterwards, Fetch below and at the new log start.
async function modeRecords([topic, countArg, deleteToArg]) {
  const count = Number(countArg)
  const deleteTo = Number(deleteToArg)
  const admin = newAdmin()
  const r = { event: 'RESULT' }
  r.topic = await createTopic(admin, topic, 2)
  r.acks0 = await produceTo(topic, 0, count, 'p0', 10)
  r.acks1 = await produceTo(topic, 1, count, 'p1', 10)
  r.before = await offsets(admin, topic, [0, 1])
  // One request for both partitions: 0 to an offset, 1 to -1 (its high watermark).
  r.deleted = await attempt(() => admin.deleteRecords({
    topics: [{ name: topic, partitions: [{ partition: 0, offset: BigInt(deleteTo) }, { partition: 1, offset: -1n }] }],
  }))
  r.after = await offsets(admin, topic, [0, 1])
  r.deleteBelow = await attempt(() => admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 1n }] }] }))
  r.deleteBeyond = await attempt(() => admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: BigInt(count + 1) }] }] }))
  r.deleteNegative = await attempt(() => admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: -2n }] }] }))
  r.afterRefusals = await offsets(admin, topic, [0, 1])
  await admin.close()

  const consumer = new Consumer({ ...common, clientId: 'kairo-it-plt-fetch', groupId: `${topic}-fetch`, deserializers: stringDeserializers })
  r.fetchBelow = await fetchOnce(consumer, r.topic.topicId, 0, 0)
  r.fetchJustBelow = await fetchOnce(consumer, r.topic.topicId, 0, deleteTo - 1)
  r.fetchAtStart = await fetchOnce(consumer, r.topic.topicId, 0, deleteTo)
  r.fetchEmptied = await fetchOnce(consumer, r.topic.topicId, 1, count)
  r.fetchEmptiedBelow = await fetchOnce(consumer, r.topic.topicId, 1, count - 1)
  await consumer.close()

  r.earliest = await consumeEarliest(topic, `${topic}-earliest`, count - deleteTo, 20000)
  emit(r)
}

// CreatePartitions v3.
async function modePartitions([topic]) {
  const admin = newAdmin()
  const r = { event: 'RESULT' }
  r.topic = await createTopic(admin, topic, 1)
  r.grow = await attempt(() => admin.createPartitions({ topics: [{ name: topic, count: 3 }] }))
  const md = await admin.metadata({ topics: [topic], forceUpdate: true })
  r.partitionsAfterGrow = md.topics.get(topic).partitionsCount
  r.leaders = md.topics.get(topic).partitions.map(p => p.leader)
  r.acks2 = await produceTo(topic, 2, 4, 'new2')
  r.offsetsAfterProduce = await offsets(admin, topic, [0, 1, 2])
  r.shrink = await attempt(() => admin.createPartitions({ topics: [{ name: topic, count: 2 }] }))
  r.same = await attempt(() => admin.createPartitions({ topics: [{ name: topic, count: 3 }] }))
  r.validateOnly = await attempt(() => admin.createPartitions({ topics: [{ name: topic, count: 5 }], validateOnly: true }))
  r.badAssignment = await attempt(() => admin.createPartitions({ topics: [{ name: topic, count: 4, assignments: [{ brokerIds: [7] }] }] }))
  r.goodAssignment = await attempt(() => admin.createPartitions({ topics: [{ name: topic, count: 4, assignments: [{ brokerIds: [0] }] }] }))
  r.unknownTopic = await attempt(() => admin.createPartitions({ topics: [{ name: `${topic}-nonexistent`, count: 2 }] }))
  const md2 = await admin.metadata({ topics: [topic], forceUpdate: true })
  r.partitionsAtEnd = md2.topics.get(topic).partitionsCount
  await admin.close()
  emit(r)
}

// name -> {value, source, readOnly} of one described resource.
async function describe(admin, resourceType, resourceName, configurationKeys) {
  const res = await admin.describeConfigs({ resources: [{ resourceType, resourceName, configurationKeys }],
                                            includeDocumentation: true })
  const out = {}
  for (const c of res[0].configs) {
    out[c.name] = { value: c.value, source: c.configSource, readOnly: c.readOnly, hasDoc: !!c.documentation }
  }
  return { resourceType: res[0].resourceType, resourceName: res[0].resourceName, configs: out }
}

const incremental = (admin, resourceType, resourceName, configs, validateOnly = false) =>
  attempt(() => admin.incrementalAlterConfigs({ resources: [{ resourceType, resourceName, configs }], validateOnly }))
const replace = (admin, resourceType, resourceName, configs, validateOnly = false) =>
  attempt(() => admin.alterConfigs({ resources: [{ resourceType, resourceName, configs }], validateOnly }))

// DescribeConfigs v4, IncrementalAlterConfigs v1 (SET, DELETE) and AlterConfigs v2.
async function modeConfigs([topic, otherTopic]) {
  const admin = newAdmin()
  const r = { event: 'RESULT' }
  r.topic = await createTopic(admin, topic, 1, [{ name: 'retention.bytes', value: '2097152' }])
  await createTopic(admin, otherTopic, 1)
  // CreateTopics checks configs as AlterConfigs does: a refused one creates nothing.
  r.createCompact = await attempt(() => admin.createTopics({ topics: [`${topic}-compact`], partitions: 1, replicas: 1,
                                                             configs: [{ name: 'cleanup.policy', value: 'compact' }] }))
  r.topicsAfterCreateCompact = (await admin.listTopics()).sort()
  r.initial = await describe(admin, TOPIC, topic)
  // SET one config: the other override stays.
  r.set = await incremental(admin, TOPIC, topic, [{ name: 'retention.ms', configOperation: SET, value: '3600000' }])
  r.afterSet = await describe(admin, TOPIC, topic)
  // SET two more and DELETE one in one request.
  r.setDelete = await incremental(admin, TOPIC, topic, [
    { name: 'max.message.bytes', configOperation: SET, value: '400000' },
    { name: 'cleanup.policy', configOperation: SET, value: 'delete' },
    { name: 'retention.bytes', configOperation: DELETE },
  ])
  r.afterSetDelete = await describe(admin, TOPIC, topic)
  // DELETE of a config the topic does not set is no error.
  r.deleteUnset = await incremental(admin, TOPIC, topic, [{ name: 'retention.bytes', configOperation: DELETE }])
  r.refusals = {}
  for (const [label, cfg] of [
    ['SET retention.ms=abc', { name: 'retention.ms', configOperation: SET, value: 'abc' }],
    ['SET retention.ms=-5', { name: 'retention.ms', configOperation: SET, value: '-5' }],
    ['SET retention.bytes=1.5', { name: 'retention.bytes', configOperation: SET, value: '1.5' }],
    ['SET cleanup.policy=compact', { name: 'cleanup.policy', configOperation: SET, value: 'compact' }],
    ['SET compression.type=gzip', { name: 'compression.type', configOperation: SET, value: 'gzip' }],
    ['SET unknown.config', { name: 'kairo.unknown.config', configOperation: SET, value: '1' }],
    ['APPEND retention.ms', { name: 'retention.ms', configOperation: APPEND, value: '5' }],
  ]) {
    r.refusals[label] = await incremental(admin, TOPIC, topic, [cfg])
  }
  // A refused request changes nothing, even the good half of it.
  r.halfBad = await incremental(admin, TOPIC, topic, [
    { name: 'retention.ms', configOperation: SET, value: '60000' },
    { name: 'retention.bytes', configOperation: SET, value: 'lots' },
  ])
  r.afterRefusals = await describe(admin, TOPIC, topic)
  r.validateOnly = await incremental(admin, TOPIC, topic, [{ name: 'retention.ms', configOperation: SET, value: '1000' }], true)
  r.afterValidateOnly = await describe(admin, TOPIC, topic, ['retention.ms'])
  r.unknownTopic = await incremental(admin, TOPIC, `${topic}-nonexistent`, [{ name: 'retention.ms', configOperation: SET, value: '1000' }])
  // AlterConfigs v2 replaces the whole set: max.message.bytes and cleanup.policy go back.
  r.replace = await replace(admin, TOPIC, topic, [{ name: 'retention.bytes', value: '5000000' }])
  r.afterReplace = await describe(admin, TOPIC, topic)
  r.replaceBad = await replace(admin, TOPIC, topic, [{ name: 'retention.ms', value: '-5' }])
  r.afterReplaceBad = await describe(admin, TOPIC, topic, ['retention.ms', 'retention.bytes'])
  // DELETE the last override: every config is the broker's or kairo's own again.
  r.deleteLast = await incremental(admin, TOPIC, topic, [{ name: 'retention.bytes', configOperation: DELETE }])
  r.afterDeleteLast = await describe(admin, TOPIC, topic)

  // The broker resource.
  r.broker = await describe(admin, BROKER, '0')
  r.brokerSet = await incremental(admin, BROKER, '0', [{ name: 'log.retention.ms', configOperation: SET, value: '172800000' }])
  r.brokerSetBytes = await incremental(admin, BROKER, '0', [{ name: 'log.retention.bytes', configOperation: SET, value: '2147483648' }])
  r.brokerAfterSet = await describe(admin, BROKER, '0', ['log.retention.ms', 'log.retention.bytes'])
  r.otherAfterBrokerSet = await describe(admin, TOPIC, otherTopic)
  r.brokerRefusals = {}
  for (const [label, cfg] of [
    ['SET num.partitions=5', { name: 'num.partitions', configOperation: SET, value: '5' }],
    ['SET log.retention.ms=-7', { name: 'log.retention.ms', configOperation: SET, value: '-7' }],
    ['SET retention.ms (a topic config)', { name: 'retention.ms', configOperation: SET, value: '1000' }],
  ]) {
    r.brokerRefusals[label] = await incremental(admin, BROKER, '0', [cfg])
  }
  r.brokerDelete = await incremental(admin, BROKER, '0', [{ name: 'log.retention.ms', configOperation: DELETE }])
  r.brokerAfterDelete = await describe(admin, BROKER, '0', ['log.retention.ms', 'log.retention.bytes'])
  r.brokerDeleteBytes = await incremental(admin, BROKER, '0', [{ name: 'log.retention.bytes', configOperation: DELETE }])
  r.brokerAtEnd = await describe(admin, BROKER, '0', ['log.retention.ms', 'log.retention.bytes'])
  r.otherAtEnd = await describe(admin, TOPIC, otherTopic, ['retention.ms', 'retention.bytes'])
  await admin.close()
  emit(r)
}

// Malformed (Incremental)AlterConfigs requests Kafka refuses whole with INVALID_REQUEST
// (ConfigAdminManager.preprocess): a config named twice in one resource, a resource named twice
// in one request, a null value in the legacy AlterConfigs. Each is followed by a describe: a
// refused resource must keep its configs.
async function modeStrict([topic]) {
  const admin = newAdmin()
  const r = { event: 'RESULT' }
  r.topic = await createTopic(admin, topic, 1)
  const keys = ['retention.ms', 'retention.bytes']
  // Each case starts from retention.ms=3600000 (an override) and retention.bytes unset.
  const runCase = async (label, fn) => {
    const reset = await incremental(admin, TOPIC, topic, [{ name: 'retention.ms', configOperation: SET, value: '3600000' },
                                                          { name: 'retention.bytes', configOperation: DELETE }])
    if (!reset.ok) fail(`resetting ${topic} before '${label}': ${reset.message}`)
    const before = await describe(admin, TOPIC, topic, keys)
    const result = await attempt(fn)
    r[label] = { result, before, after: await describe(admin, TOPIC, topic, keys) }
  }
  await runCase('incrementalDuplicateKey', () => admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configs: [
    { name: 'retention.ms', configOperation: SET, value: '1000' },
    { name: 'retention.ms', configOperation: SET, value: '2000' },
  ] }] }))
  await runCase('incrementalSetDeleteSameKey', () => admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configs: [
    { name: 'retention.ms', configOperation: SET, value: '1000' },
    { name: 'retention.ms', configOperation: DELETE },
  ] }] }))
  await runCase('legacyDuplicateKey', () => admin.alterConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configs: [
    { name: 'retention.ms', value: '3000' }, { name: 'retention.ms', value: '4000' },
  ] }] }))
  await runCase('legacyNullValue', () => admin.alterConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configs: [
    { name: 'retention.ms', value: null },
  ] }] }))
  await runCase('incrementalDuplicateResource', () => admin.incrementalAlterConfigs({ resources: [
    { resourceType: TOPIC, resourceName: topic, configs: [{ name: 'retention.ms', configOperation: SET, value: '5000' }] },
    { resourceType: TOPIC, resourceName: topic, configs: [{ name: 'retention.bytes', configOperation: SET, value: '6000' }] },
  ] }))
  await admin.close()
  emit(r)
}

const modes = { records: modeRecords, partitions: modePartitions, configs: modeConfigs, strict: modeStrict }
if (!modes[mode]) fail(`unknown mode ${mode}`)
modes[mode](args).then(() => process.exit(0), err => fail(`${mode}: ${describeError(err)}\n${err && err.stack}`))
