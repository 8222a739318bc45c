#!/usr/bin/env node
// kafkajs 2.2.4 group consumers against kairo. Driven by tests/integration/groups_node.py:
//
//   node kafkajs_group.js BOOTSTRAP produce TOPIC PARTITIONS COUNT PREFIX
//   node kafkajs_group.js BOOTSTRAP produce-only TOPIC COUNT PREFIX
//   node kafkajs_group.js BOOTSTRAP two-members TOPIC GROUP EXPECTED AFTER_TAKEOVER
//   node kafkajs_group.js BOOTSTRAP resume TOPIC GROUP NEW_COUNT
//   node kafkajs_group.js BOOTSTRAP member TOPIC GROUP CLIENT_ID
//   node kafkajs_group.js BOOTSTRAP admin GROUP TOPIC
//
// Each mode prints progress lines and exactly one `@@RESULT {json}` line on success; the
// Python side checks the JSON. Every wait is bounded: on a timeout, or on any consumer CRASH
// event, the script prints `@@FAIL <reason>` and exits 1. kafkajs's own log (warn and above)
// goes to stderr so a failure shows the client's error output.

'use strict'

const { Kafka, logLevel, Partitioners, AssignerProtocol } = require('kafkajs')

const [boot, mode, ...args] = process.argv.slice(2)
if (!boot || !mode) {
  console.error('usage: kafkajs_group.js BOOTSTRAP MODE ARGS...')
  process.exit(2)
}

const SESSION_TIMEOUT_MS = Number(process.env.KAIRO_IT_SESSION_TIMEOUT_MS || 6000)
const HEARTBEAT_MS = 300
const REBALANCE_TIMEOUT_MS = 10000

function logCreator() {
  return ({ namespace, level, label, log }) => {
    const { message, timestamp, logger, ...extra } = log
    process.stderr.write(`[kafkajs ${label} ${namespace}] ${message} ${JSON.stringify(extra)}\n`)
  }
}

const kafka = new Kafka({
  clientId: `kairo-it-${mode}`,
  brokers: [boot],
  logLevel: logLevel.WARN,
  logCreator,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
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

// A group member that records everything the Python side checks.
function makeMember(name, groupId) {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: SESSION_TIMEOUT_MS,
    rebalanceTimeout: REBALANCE_TIMEOUT_MS,
    heartbeatInterval: HEARTBEAT_MS,
    maxWaitTimeInMs: 200,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
  })
  const m = { name, consumer, joins: [], records: [], commits: [], crashes: [], memberId: null }
  const { GROUP_JOIN, COMMIT_OFFSETS, CRASH } = consumer.events
  consumer.on(GROUP_JOIN, e => {
    m.memberId = e.payload.memberId
    const j = {
      member: name,
      memberId: e.payload.memberId,
      isLeader: e.payload.isLeader,
      protocol: e.payload.groupProtocol,
      assignment: e.payload.memberAssignment,
      at_record: m.records.length,
    }
    m.joins.push(j)
    emit({ event: 'JOIN', ...j })
  })
  consumer.on(COMMIT_OFFSETS, e => {
    m.commits.push(e.payload.topics)
  })
  consumer.on(CRASH, e => {
    const c = { member: name, error: String(e.payload.error && e.payload.error.stack || e.payload.error),
                restart: e.payload.restart }
    m.crashes.push(c)
    emit({ event: 'CRASH', ...c })
  })
  m.start = async topic => {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        m.records.push({ topic: t, partition, offset: Number(message.offset),
                         key: message.key ? message.key.toString() : null,
                         value: message.value ? message.value.toString() : null })
      },
    })
  }
  m.lastAssignment = topic => {
    const j = m.joins[m.joins.length - 1]
    return j ? [...(j.assignment[topic] || [])].sort((a, b) => a - b) : null
  }
  return m
}

function summary(m) {
  return {
    name: m.name,
    memberId: m.memberId,
    joins: m.joins,
    crashes: m.crashes,
    records: m.records.map(r => [r.partition, r.offset, r.key]),
  }
}

function checkNoCrash(members) {
  for (const m of members) {
    if (m.crashes.length) fail(`consumer ${m.name} crashed: ${m.crashes[0].error}`)
  }
}

async function produce(topic, count, prefix) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner,
                                    allowAutoTopicCreation: false })
  await producer.connect()
  const messages = []
  for (let i = 0; i < count; i++) {
    messages.push({ key: `${prefix}-${String(i).padStart(5, '0')}`, value: `value ${prefix} ${i}` })
  }
  const acks = []
  for (let i = 0; i < messages.length; i += 100) {
    const res = await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 100) })
    for (const r of res) acks.push({ partition: r.partition, baseOffset: Number(r.baseOffset), errorCode: r.errorCode })
  }
  await producer.disconnect()
  return { keys: messages.map(m => m.key), acks }
}

function decodeAssignment(buf) {
  if (!buf || buf.length === 0) return {}
  const a = AssignerProtocol.MemberAssignment.decode(buf)
  return a ? a.assignment : {}
}

async function describe(admin, groupId, topic) {
  const { groups } = await admin.describeGroups([groupId])
  const g = groups[0]
  return {
    groupId: g.groupId,
    errorCode: g.errorCode,
    state: g.state,
    protocolType: g.protocolType,
    protocol: g.protocol,
    members: g.members.map(mm => ({
      memberId: mm.memberId,
      clientId: mm.clientId,
      clientHost: mm.clientHost,
      assignment: (decodeAssignment(mm.memberAssignment)[topic] || []).slice().sort((a, b) => a - b),
    })),
  }
}

async function committed(admin, groupId, topic) {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] })
  const t = res.find(x => x.topic === topic)
  const out = {}
  for (const p of (t ? t.partitions : [])) out[p.partition] = Number(p.offset)
  return out
}

async function endOffsets(admin, topic) {
  const out = {}
  for (const p of await admin.fetchTopicOffsets(topic)) out[p.partition] = Number(p.high)
  return out
}

const sameOffsets = (a, b) => JSON.stringify(a) === JSON.stringify(b)

// Produce into an existing topic.
async function modeProduceOnly([topic, count, prefix]) {
  const admin = kafka.admin()
  await admin.connect()
  const { keys, acks } = await produce(topic, Number(count), prefix)
  const ends = await endOffsets(admin, topic)
  await admin.disconnect()
  emit({ event: 'RESULT', produced: keys.length, keys, acks, endOffsets: ends })
}

async function modeProduce([topic, partitions, count, prefix]) {
  const admin = kafka.admin()
  await admin.connect()
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: Number(partitions), replicationFactor: 1 }],
    waitForLeaders: true,
    timeout: 10000,
  })
  await waitFor(async () => {
    const md = await admin.fetchTopicMetadata({ topics: [topic] })
    return md.topics[0] && md.topics[0].partitions.length === Number(partitions)
  }, 10000, `metadata of ${topic} with ${partitions} partitions`)
  const { keys, acks } = await produce(topic, Number(count), prefix)
  const ends = await endOffsets(admin, topic)
  await admin.disconnect()
  emit({ event: 'RESULT', created, produced: keys.length, acks, endOffsets: ends })
}

// Two members of one group read everything; then one leaves and the other takes over.
async function modeTwoMembers([topic, groupId, expected, afterTakeover]) {
  expected = Number(expected)
  afterTakeover = Number(afterTakeover)
  const admin = kafka.admin()
  await admin.connect()
  const a = makeMember('A', groupId)
  const b = makeMember('B', groupId)
  const members = [a, b]
  const total = () => a.records.length + b.records.length
  // Both join within the broker's initial rebalance delay, so the first generation has both.
  await Promise.all([a.start(topic), b.start(topic)])
  await waitFor(() => { checkNoCrash(members); return total() >= expected }, 30000,
                `${expected} messages across both members (have ${total()})`)
  const ends = await endOffsets(admin, topic)
  await waitFor(async () => sameOffsets(await committed(admin, groupId, topic), ends), 15000,
                `committed offsets of ${groupId} to reach the end offsets ${JSON.stringify(ends)}`)
  const committedBoth = await committed(admin, groupId, topic)
  const describeBoth = await describe(admin, groupId, topic)
  const listBoth = (await admin.listGroups()).groups
  emit({ event: 'PHASE', phase: 'both-consumed', total: total(), committed: committedBoth,
         describe: describeBoth })
  const countA = a.records.length
  const countB = b.records.length

  // B leaves (LeaveGroup); A must be handed every partition.
  const joinsBefore = a.joins.length
  await b.consumer.disconnect()
  await waitFor(() => {
    checkNoCrash([a])
    return a.joins.length > joinsBefore &&
      a.lastAssignment(topic).length === Object.keys(ends).length
  }, 20000, `member A to rejoin with all ${Object.keys(ends).length} partitions after B left`)
  const describeOne = await describe(admin, groupId, topic)
  emit({ event: 'PHASE', phase: 'takeover', assignment: a.lastAssignment(topic), describe: describeOne })

  const more = await produce(topic, afterTakeover, 'after')
  await waitFor(() => { checkNoCrash([a]); return a.records.length >= countA + afterTakeover }, 20000,
                `A to consume the ${afterTakeover} messages produced after B left ` +
                `(has ${a.records.length - countA})`)
  await sleep(700) // grace: nothing beyond what was produced may arrive
  const ends2 = await endOffsets(admin, topic)
  await waitFor(async () => sameOffsets(await committed(admin, groupId, topic), ends2), 15000,
                `committed offsets of ${groupId} to reach ${JSON.stringify(ends2)}`)
  const describeStableOne = await describe(admin, groupId, topic)

  await a.consumer.disconnect()
  // After the last member leaves the group must be Empty, offsets kept.
  let describeEmpty = null
  await waitFor(async () => {
    describeEmpty = await describe(admin, groupId, topic)
    return describeEmpty.state === 'Empty'
  }, 10000, `group ${groupId} to be Empty after both members left`)
  const committedFinal = await committed(admin, groupId, topic)
  const listFinal = (await admin.listGroups()).groups
  await admin.disconnect()
  emit({
    event: 'RESULT',
    members: members.map(summary),
    countsBeforeTakeover: { A: countA, B: countB },
    afterKeys: more.keys,
    endOffsetsBefore: ends,
    endOffsetsAfter: ends2,
    committedBoth,
    committedFinal,
    describeBoth,
    describeOne,
    describeStableOne,
    describeEmpty,
    listBoth,
    listFinal,
  })
}

// A fresh consumer in a group with committed offsets reads only what is produced after it joined.
async function modeResume([topic, groupId, newCount]) {
  newCount = Number(newCount)
  const admin = kafka.admin()
  await admin.connect()
  const before = await committed(admin, groupId, topic)
  const c = makeMember('C', groupId)
  await c.start(topic)
  await waitFor(() => { checkNoCrash([c]); return c.joins.length > 0 }, 20000, 'the fresh consumer to join')
  const describeRunning = await describe(admin, groupId, topic)
  // Give it time to (wrongly) re-read old messages before anything new exists.
  await sleep(1000)
  const oldSeen = c.records.length
  const produced = await produce(topic, newCount, 'resume')
  await waitFor(() => { checkNoCrash([c]); return c.records.length >= oldSeen + newCount }, 20000,
                `the fresh consumer to read the ${newCount} new messages (has ${c.records.length - oldSeen})`)
  await sleep(700)
  const ends = await endOffsets(admin, topic)
  await waitFor(async () => sameOffsets(await committed(admin, groupId, topic), ends), 15000,
                `committed offsets of ${groupId} to reach ${JSON.stringify(ends)}`)
  await c.consumer.disconnect()
  const after = await committed(admin, groupId, topic)
  const describeEmpty = await describe(admin, groupId, topic)
  await admin.disconnect()
  emit({ event: 'RESULT', committedBefore: before, committedAfter: after, endOffsets: ends,
         newKeys: produced.keys, member: summary(c), describeRunning, describeEmpty })
}

// A long-running member for the session-expiry check: the Python side SIGKILLs it.
async function modeMember([topic, groupId, clientId]) {
  // The Python side kills it; this bounds an orphan's life if that side died first.
  setTimeout(() => fail(`member ${clientId} still running after 90 s`), 90000)
  const m = makeMember(clientId, groupId)
  let reported = 0
  setInterval(() => {
    if (m.records.length !== reported) {
      reported = m.records.length
      emit({ event: 'COUNT', member: clientId, count: reported })
    }
  }, 100)
  await m.start(topic)
}

async function modeAdmin([groupId, topic]) {
  const admin = kafka.admin()
  await admin.connect()
  const res = {
    event: 'RESULT',
    list: (await admin.listGroups()).groups,
    describe: await describe(admin, groupId, topic),
    committed: await committed(admin, groupId, topic),
    endOffsets: await endOffsets(admin, topic),
  }
  await admin.disconnect()
  emit(res)
}

const modes = { produce: modeProduce, 'produce-only': modeProduceOnly, 'two-members': modeTwoMembers, resume: modeResume,
                member: modeMember, admin: modeAdmin }

if (!modes[mode]) fail(`unknown mode ${mode}`)
modes[mode](args).then(
  () => { if (mode !== 'member') process.exit(0) },
  err => fail(`${mode}: ${err && err.stack || err}`))
