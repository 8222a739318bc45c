// sarama_admin drives Sarama's admin APIs (Debian's golang-github-shopify-sarama-dev, 1.22.1)
// against a broker for kairo's integration tests (tests/integration/admin_go.py).
//
// Every observation is one JSON object per line on stdout, tagged with a "label"; the driver
// decides what is right. Sarama's own log goes to stderr (-verbose).
//
//	-mode records     CreateTopic (2 partitions), a SyncProducer writes -n records to each in
//	                  batches of -batch; ClusterAdmin.DeleteRecords moves partition 0's log start
//	                  to -delete and partition 1's to -1 (the high watermark); the raw
//	                  DeleteRecords answers of a no-op, an offset beyond the high watermark and an
//	                  unknown partition; client.GetOffset (ListOffsets v1) after each; then
//	                  consumers (ConsumePartition at OffsetOldest, at the log start, below it) and
//	                  raw Fetch v4 requests below and at the log start
//	-mode partitions  CreateTopic (2 partitions), ClusterAdmin.CreatePartitions grows it to 4,
//	                  producer and consumer on the new partitions, then refusals (shrink, same
//	                  count, a replica assignment naming broker 5, an unknown topic), validateOnly,
//	                  and a growth with the assignment [[0]]
//	-mode configs     CreateTopic with a config (and one with cleanup.policy=compact), then
//	                  ClusterAdmin.AlterConfig / DescribeConfig on the topic (DescribeConfigs v0,
//	                  and v1 sent by hand for the config sources), refusals (with the error code of
//	                  the raw AlterConfigs answer), validateOnly, ListTopics' config entries
//	-mode broker      the same on the BROKER resource "0": log.retention.ms altered live, a topic
//	                  without overrides follows it, other broker configs refused
//
// Sarama 1.22.1 quirks this program works around (they are Sarama's, not the broker's):
//   - its ConfigResourceType numbers the ACL resource types: sarama.BrokerResource is 5, while
//     the BROKER config resource is 4 (sarama.ClusterResource); it sends 4 for the broker;
//   - ClusterAdmin.AlterConfig and DescribeConfig turn a refused resource into errors.New(its
//     error message) and drop the error code, and ClusterAdmin.DeleteRecords drops every
//     partition's error: the codes are read from the same requests sent with Broker methods;
//   - ClusterAdmin.CreatePartitions never sets the request's validate_only (its validateOnly
//     argument is dropped, so the topic really grows): validateOnly is sent with a Broker method;
//   - ClusterAdmin.DescribeConfig sends DescribeConfigs v0 (is_default, no config source).
//
// Exit status: 0 ok, 1 client error (a "fatal" line), 2 -timeout reached.
//
// Build (Debian, offline): GO111MODULE=off GOPATH=/usr/share/gocode go build -o sarama_admin sarama_admin.go
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

var (
	bootstrap = flag.String("bootstrap", "127.0.0.1:9092", "broker HOST:PORT (comma-separated list allowed)")
	mode      = flag.String("mode", "records", "records | partitions | configs | broker")
	topic     = flag.String("topic", "sarama-admin", "topic (configs: also <topic>-other, <topic>-compact)")
	n         = flag.Int("n", 60, "records: records produced to each partition")
	deleteTo  = flag.Int64("delete", 25, "records: partition 0's new log start")
	more      = flag.Int("more", 5, "records: records produced to partition 1 after emptying it")
	batch     = flag.Int("batch", 10, "records: records per SendMessages call (one batch each)")
	timeout   = flag.Duration("timeout", 60*time.Second, "hard bound on the whole run (exit 2)")
	member    = flag.String("member", "admin", "label for the client id")
	version   = flag.String("version", "2.0.0", "Kafka version Sarama assumes (config.Version)")
	verbose   = flag.Bool("verbose", false, "Sarama's logger to stderr")
)

// The BROKER config resource (Kafka's ConfigResource.Type.BROKER = 4); see the header comment.
const brokerResource = sarama.ConfigResourceType(4)

var outMu sync.Mutex

// emit writes one JSON line to stdout; lines from different goroutines never interleave.
func emit(fields map[string]interface{}) {
	b, err := json.Marshal(fields)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"event":"error","error":%q}`, err.Error()))
	}
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

func fail(what string, err error) {
	emit(map[string]interface{}{"event": "fatal", "what": what, "error": err.Error()})
	os.Exit(1)
}

func str(s string) *string { return &s }

// errInfo describes a call's outcome: ok, and for a failure its text and Kafka error code (when
// Sarama kept one).
func errInfo(err error) map[string]interface{} {
	m := map[string]interface{}{"ok": err == nil}
	if err == nil {
		return m
	}
	m["error"] = err.Error()
	switch e := err.(type) {
	case sarama.KError:
		m["code"] = int(e)
	case *sarama.TopicPartitionError:
		m["code"] = int(e.Err)
		if e.ErrMsg != nil {
			m["message"] = *e.ErrMsg
		}
	case *sarama.TopicError:
		m["code"] = int(e.Err)
		if e.ErrMsg != nil {
			m["message"] = *e.ErrMsg
		}
	}
	return m
}

func with(m map[string]interface{}, kv ...interface{}) map[string]interface{} {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func config() *sarama.Config {
	v, err := sarama.ParseKafkaVersion(*version)
	if err != nil {
		fail("parse -version", err)
	}
	c := sarama.NewConfig()
	c.Version = v
	c.ClientID = "kairo-it-sarama-" + *member
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Net.DialTimeout = 5 * time.Second
	c.Net.ReadTimeout = 15 * time.Second
	c.Net.WriteTimeout = 5 * time.Second
	c.Admin.Timeout = 10 * time.Second
	// One SendMessages of -batch records to one partition is one Produce request, one batch.
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.Retry.Max = 0
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Flush.Messages = *batch
	c.Producer.Flush.Frequency = 500 * time.Millisecond
	c.Consumer.Return.Errors = true
	c.Consumer.MaxWaitTime = 100 * time.Millisecond
	return c
}

// env: one ClusterAdmin, and one Client (with its producer and consumer) for everything else.
type env struct {
	admin    sarama.ClusterAdmin
	client   sarama.Client
	producer sarama.SyncProducer
	consumer sarama.Consumer
}

func newEnv() *env {
	brokers := strings.Split(*bootstrap, ",")
	e := &env{}
	var err error
	if e.admin, err = sarama.NewClusterAdmin(brokers, config()); err != nil {
		fail("NewClusterAdmin", err)
	}
	if e.client, err = sarama.NewClient(brokers, config()); err != nil {
		fail("NewClient", err)
	}
	if e.producer, err = sarama.NewSyncProducerFromClient(e.client); err != nil {
		fail("NewSyncProducerFromClient", err)
	}
	if e.consumer, err = sarama.NewConsumerFromClient(e.client); err != nil {
		fail("NewConsumerFromClient", err)
	}
	return e
}

func (e *env) close() {
	errs := []string{}
	for what, c := range map[string]func() error{"consumer": e.consumer.Close, "producer": e.producer.Close,
		"admin": e.admin.Close} {
		if err := c(); err != nil {
			errs = append(errs, what+": "+err.Error())
		}
	}
	if err := e.client.Close(); err != nil {
		errs = append(errs, "client: "+err.Error())
	}
	sort.Strings(errs)
	emit(map[string]interface{}{"event": "closed", "errors": errs})
}

// controller: the broker the raw requests go to (the one ClusterAdmin itself uses).
func (e *env) controller() *sarama.Broker {
	b, err := e.client.Controller()
	if err != nil {
		fail("Controller", err)
	}
	return b
}

// partitionsOf refreshes metadata until the topic has want partitions (or 10 s passed) and
// returns what the client knows.
func (e *env) partitionsOf(t string, want int) []int32 {
	deadline := time.Now().Add(10 * time.Second)
	for {
		_ = e.client.RefreshMetadata(t)
		ps, err := e.client.Partitions(t)
		if err == nil && len(ps) == want || time.Now().After(deadline) {
			sorted := append([]int32{}, ps...)
			sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
			return sorted
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *env) createTopic(label, t string, partitions int, entries map[string]*string) error {
	err := e.admin.CreateTopic(t, &sarama.TopicDetail{NumPartitions: int32(partitions), ReplicationFactor: 1,
		ConfigEntries: entries}, false)
	ev := with(errInfo(err), "event", "create", "label", label, "topic", t)
	if err == nil {
		ev["partitions"] = e.partitionsOf(t, partitions)
	}
	emit(ev)
	return err
}

func (e *env) mustCreate(label, t string, partitions int, entries map[string]*string) {
	if err := e.createTopic(label, t, partitions, entries); err != nil {
		fail("CreateTopic "+t, err)
	}
}

// produce writes count records with keys "<prefix>-<i>" (i from 0) to one partition.
func (e *env) produce(label, t string, partition int32, prefix string, count int) {
	acks := [][]interface{}{}
	for lo := 0; lo < count; lo += *batch {
		hi := lo + *batch
		if hi > count {
			hi = count
		}
		msgs := []*sarama.ProducerMessage{}
		for i := lo; i < hi; i++ {
			k := fmt.Sprintf("%s-%05d", prefix, i)
			msgs = append(msgs, &sarama.ProducerMessage{Topic: t, Partition: partition,
				Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(k)})
		}
		if err := e.producer.SendMessages(msgs); err != nil {
			if perrs, ok := err.(sarama.ProducerErrors); ok && len(perrs) > 0 {
				err = fmt.Errorf("%v (first: %v)", err, perrs[0].Err)
			}
			fail("SendMessages "+label, err)
		}
		for _, m := range msgs {
			k, _ := m.Key.Encode()
			acks = append(acks, []interface{}{m.Partition, m.Offset, string(k)})
		}
	}
	emit(map[string]interface{}{"event": "produced", "label": label, "topic": t, "acks": acks})
}

// offsets: client.GetOffset (ListOffsets v1) oldest and newest of each partition.
func (e *env) offsets(label, t string, partitions ...int32) {
	out := map[string]interface{}{}
	for _, p := range partitions {
		lo, err1 := e.client.GetOffset(t, p, sarama.OffsetOldest)
		hi, err2 := e.client.GetOffset(t, p, sarama.OffsetNewest)
		o := map[string]interface{}{"low": lo, "high": hi}
		if err1 != nil {
			o["low_error"] = err1.Error()
		}
		if err2 != nil {
			o["high_error"] = err2.Error()
		}
		out[strconv.Itoa(int(p))] = o
	}
	emit(map[string]interface{}{"event": "offsets", "label": label, "topic": t, "offsets": out})
}

// deleteRaw: DeleteRecords v0 sent with Broker.DeleteRecords, every partition's answer.
func (e *env) deleteRaw(label, t string, offsets map[int32]int64) {
	resp, err := e.controller().DeleteRecords(&sarama.DeleteRecordsRequest{
		Topics:  map[string]*sarama.DeleteRecordsRequestTopic{t: {PartitionOffsets: offsets}},
		Timeout: 10 * time.Second})
	ev := with(errInfo(err), "event", "delete_raw", "label", label, "topic", t)
	if err == nil {
		parts := map[string]interface{}{}
		if rt := resp.Topics[t]; rt != nil {
			for p, r := range rt.Partitions {
				parts[strconv.Itoa(int(p))] = map[string]interface{}{"low_watermark": r.LowWatermark, "code": int(r.Err)}
			}
		}
		ev["partitions"] = parts
	}
	emit(ev)
}

// consume: a PartitionConsumer from offset; reads until want records (or 10 s), then 300 ms
// more to catch anything extra.
func (e *env) consume(label, t string, partition int32, offset int64, want int) {
	pc, err := e.consumer.ConsumePartition(t, partition, offset)
	ev := with(errInfo(err), "event", "consume", "label", label, "topic", t, "partition", partition, "start", offset,
		"is_offset_out_of_range", err == sarama.ErrOffsetOutOfRange)
	if err != nil {
		emit(ev)
		return
	}
	records := [][]interface{}{}
	errs := []string{}
	deadline := time.After(10 * time.Second)
	var grace <-chan time.Time
	if want == 0 {
		grace = time.After(300 * time.Millisecond)
	}
loop:
	for {
		select {
		case m := <-pc.Messages():
			records = append(records, []interface{}{m.Partition, m.Offset, string(m.Key)})
			if len(records) == want {
				grace = time.After(300 * time.Millisecond)
			}
		case ce := <-pc.Errors():
			errs = append(errs, ce.Err.Error())
		case <-grace:
			break loop
		case <-deadline:
			ev["timed_out"] = true
			break loop
		}
	}
	if err := pc.Close(); err != nil {
		errs = append(errs, "Close: "+err.Error())
	}
	ev["records"] = records
	ev["errors"] = errs
	emit(ev)
}

// fetchRaw: one Fetch v4 (what Sarama's consumer sends at 2.0.0) of one partition at offset.
func (e *env) fetchRaw(label, t string, partition int32, offset int64) {
	b, err := e.client.Leader(t, partition)
	if err != nil {
		fail("Leader", err)
	}
	req := &sarama.FetchRequest{Version: 4, MaxWaitTime: 100, MinBytes: 1, MaxBytes: 1 << 20}
	req.AddBlock(t, partition, offset, 1<<20)
	resp, err := b.Fetch(req)
	ev := with(errInfo(err), "event", "fetch", "label", label, "topic", t, "partition", partition, "offset", offset)
	if err == nil {
		block := resp.GetBlock(t, partition)
		if block == nil {
			ev["missing"] = true
		} else {
			batches := [][]int64{}
			records := [][]interface{}{}
			for _, rs := range block.RecordsSet {
				rb := rs.RecordBatch
				if rb == nil {
					ev["legacy_message_set"] = true
					continue
				}
				batches = append(batches, []int64{rb.FirstOffset, rb.FirstOffset + int64(rb.LastOffsetDelta)})
				for _, r := range rb.Records {
					records = append(records, []interface{}{rb.FirstOffset + r.OffsetDelta, string(r.Key)})
				}
			}
			with(ev, "code", int(block.Err), "high_watermark", block.HighWaterMarkOffset,
				"last_stable_offset", block.LastStableOffset, "batches", batches, "records", records)
		}
	}
	emit(ev)
}

func entryMap(entries []*sarama.ConfigEntry) map[string]interface{} {
	out := map[string]interface{}{}
	for _, c := range entries {
		out[c.Name] = map[string]interface{}{"value": c.Value, "read_only": c.ReadOnly, "default": c.Default,
			"source": int(c.Source), "sensitive": c.Sensitive, "synonyms": len(c.Synonyms)}
	}
	return out
}

// describe: ClusterAdmin.DescribeConfig (DescribeConfigs v0), then the same resource with
// DescribeConfigs v1 sent by hand (config sources).
func (e *env) describe(label string, typ sarama.ConfigResourceType, name string) {
	entries, err := e.admin.DescribeConfig(sarama.ConfigResource{Type: typ, Name: name})
	ev := with(errInfo(err), "event", "describe", "label", label, "version", 0, "type", int(typ), "name", name)
	if err == nil {
		ptrs := []*sarama.ConfigEntry{}
		for i := range entries {
			ptrs = append(ptrs, &entries[i])
		}
		ev["configs"] = entryMap(ptrs)
	}
	emit(ev)

	resp, err := e.controller().DescribeConfigs(&sarama.DescribeConfigsRequest{Version: 1,
		Resources: []*sarama.ConfigResource{{Type: typ, Name: name}}})
	ev = with(errInfo(err), "event", "describe", "label", label, "version", 1, "type", int(typ), "name", name)
	if err == nil {
		if len(resp.Resources) != 1 {
			ev["resources"] = len(resp.Resources)
		} else {
			r := resp.Resources[0]
			with(ev, "code", int(r.ErrorCode), "message", r.ErrorMsg, "resource_type", int(r.Type),
				"resource_name", r.Name, "configs", entryMap(r.Configs))
		}
	}
	emit(ev)
}

// alter: ClusterAdmin.AlterConfig; with raw, the same request again through
// Broker.AlterConfigs for its error code (only for requests expected to be refused).
func (e *env) alter(label string, typ sarama.ConfigResourceType, name string, entries map[string]*string,
	validateOnly, raw bool) {
	err := e.admin.AlterConfig(typ, name, entries, validateOnly)
	ev := with(errInfo(err), "event", "alter", "label", label, "type", int(typ), "name", name,
		"validate_only", validateOnly)
	if raw {
		resp, rerr := e.controller().AlterConfigs(&sarama.AlterConfigsRequest{ValidateOnly: validateOnly,
			Resources: []*sarama.AlterConfigsResource{{Type: typ, Name: name, ConfigEntries: entries}}})
		if rerr != nil {
			ev["raw_error"] = rerr.Error()
		} else if len(resp.Resources) != 1 {
			ev["raw_resources"] = len(resp.Resources)
		} else {
			r := resp.Resources[0]
			with(ev, "raw_code", int(r.ErrorCode), "raw_message", r.ErrorMsg, "raw_type", int(r.Type),
				"raw_name", r.Name)
		}
	}
	emit(ev)
}

func (e *env) createPartitions(label, t string, count int32, assignment [][]int32) {
	err := e.admin.CreatePartitions(t, count, assignment, false)
	emit(with(errInfo(err), "event", "create_partitions", "label", label, "topic", t, "count", count,
		"validate_only", false))
}

// createPartitionsValidateOnly: CreatePartitions v0 with validate_only set, sent with
// Broker.CreatePartitions (ClusterAdmin.CreatePartitions leaves the flag out; see the header).
func (e *env) createPartitionsValidateOnly(label, t string, count int32) {
	resp, err := e.controller().CreatePartitions(&sarama.CreatePartitionsRequest{ValidateOnly: true,
		Timeout:         10 * time.Second,
		TopicPartitions: map[string]*sarama.TopicPartition{t: {Count: count}}})
	ev := with(errInfo(err), "event", "create_partitions", "label", label, "topic", t, "count", count,
		"validate_only", true)
	if err == nil {
		if r := resp.TopicPartitionErrors[t]; r == nil {
			ev["missing"] = true
		} else {
			ev["code"] = int(r.Err)
			if r.ErrMsg != nil {
				ev["message"] = *r.ErrMsg
			}
		}
	}
	emit(ev)
}

// metadata: ClusterAdmin.DescribeTopics (Metadata v5) and the client's partition list.
func (e *env) metadata(label, t string, want int) {
	ev := map[string]interface{}{"event": "metadata", "label": label, "topic": t,
		"client_partitions": e.partitionsOf(t, want)}
	md, err := e.admin.DescribeTopics([]string{t})
	if err != nil {
		ev["error"] = err.Error()
	} else if len(md) != 1 {
		ev["topics"] = len(md)
	} else {
		parts := [][]int{}
		for _, p := range md[0].Partitions {
			parts = append(parts, []int{int(p.ID), int(p.Leader), int(p.Err)})
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i][0] < parts[j][0] })
		with(ev, "code", int(md[0].Err), "partitions", parts)
	}
	emit(ev)
}

func runRecords(e *env) {
	t, d := *topic, *deleteTo
	e.mustCreate("create", t, 2, nil)
	e.produce("p0", t, 0, "p0", *n)
	e.produce("p1", t, 1, "p1", *n)
	e.offsets("before", t, 0, 1)

	err := e.admin.DeleteRecords(t, map[int32]int64{0: d})
	emit(with(errInfo(err), "event", "delete", "label", "p0", "topic", t))
	e.offsets("after_p0", t, 0, 1)
	err = e.admin.DeleteRecords(t, map[int32]int64{1: -1})
	emit(with(errInfo(err), "event", "delete", "label", "p1_to_high_watermark", "topic", t))
	e.offsets("after_both", t, 0, 1)

	e.deleteRaw("refusals", t, map[int32]int64{0: d - 10, 1: int64(*n) + 5, 7: 0})
	e.deleteRaw("negative", t, map[int32]int64{0: -2})
	e.offsets("after_refusals", t, 0, 1)

	e.consume("p0_oldest", t, 0, sarama.OffsetOldest, *n-int(d))
	e.consume("p0_at_log_start", t, 0, d, *n-int(d))
	e.consume("p0_below", t, 0, d-1, 0)
	e.consume("p0_zero", t, 0, 0, 0)
	e.fetchRaw("p0_zero", t, 0, 0)
	e.fetchRaw("p0_below", t, 0, d-1)
	e.fetchRaw("p0_at_log_start", t, 0, d)

	e.consume("p1_below", t, 1, int64(*n)-1, 0)
	e.fetchRaw("p1_below", t, 1, int64(*n)-1)
	e.produce("p1_more", t, 1, "more", *more)
	e.offsets("after_more", t, 0, 1)
	e.consume("p1_oldest", t, 1, sarama.OffsetOldest, *more)
}

func runPartitions(e *env) {
	t := *topic
	e.mustCreate("create", t, 2, nil)
	e.createPartitions("grow", t, 4, nil)
	e.metadata("after_grow", t, 4)
	e.produce("p3", t, 3, "p3", 5)
	e.produce("p2", t, 2, "p2", 2)
	e.offsets("after_produce", t, 0, 1, 2, 3)
	e.consume("p3_oldest", t, 3, sarama.OffsetOldest, 5)
	e.createPartitions("shrink", t, 3, nil)
	e.createPartitions("same", t, 4, nil)
	e.createPartitionsValidateOnly("validate_only", t, 6)
	e.createPartitionsValidateOnly("validate_only_shrink", t, 2)
	e.createPartitions("bad_assignment", t, 6, [][]int32{{5}, {5}})
	e.createPartitions("unknown_topic", t+"-missing", 3, nil)
	e.metadata("after_refusals", t, 4)
	e.createPartitions("grow_assigned", t, 5, [][]int32{{0}})
	e.metadata("at_end", t, 5)
	e.produce("p4", t, 4, "p4", 3)
	e.offsets("p4", t, 4)
}

func runConfigs(e *env) {
	t, other := *topic, *topic+"-other"
	e.mustCreate("create", t, 1, map[string]*string{"retention.bytes": str("2097152")})
	e.mustCreate("create_other", other, 1, nil)
	_ = e.createTopic("create_compact", t+"-compact", 1, map[string]*string{"cleanup.policy": str("compact")})
	topics, err := e.admin.ListTopics()
	ev := with(errInfo(err), "event", "topics", "label", "after_create")
	if err == nil {
		names := []string{}
		for name := range topics {
			names = append(names, name)
		}
		sort.Strings(names)
		ev["topics"] = names
	}
	emit(ev)
	e.describe("initial", sarama.TopicResource, t)

	e.alter("set", sarama.TopicResource, t, map[string]*string{"retention.ms": str("3600000"),
		"max.message.bytes": str("400000")}, false, false)
	e.describe("after_set", sarama.TopicResource, t)

	bad := map[string]map[string]*string{
		"retention_ms_negative": {"retention.ms": str("-5")},
		"retention_ms_text":     {"retention.ms": str("an hour")},
		"retention_bytes_-2":    {"retention.bytes": str("-2")},
		"compact":               {"cleanup.policy": str("compact")},
		"compression_gzip":      {"compression.type": str("gzip")},
		"unknown_name":          {"no.such.config": str("1")},
		"half_bad":              {"retention.ms": str("1000"), "retention.bytes": str("-2")},
	}
	labels := []string{}
	for l := range bad {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		e.alter("bad_"+l, sarama.TopicResource, t, bad[l], false, true)
	}
	e.alter("bad_validate_only", sarama.TopicResource, t, map[string]*string{"retention.ms": str("-5")}, true, true)
	e.alter("unknown_topic", sarama.TopicResource, t+"-missing", map[string]*string{"retention.ms": str("1000")},
		false, true)
	e.describe("after_refusals", sarama.TopicResource, t)
	e.describe("unknown_topic", sarama.TopicResource, t+"-missing")

	e.alter("validate_only", sarama.TopicResource, t, map[string]*string{"retention.ms": str("7200000")}, true, false)
	e.describe("after_validate_only", sarama.TopicResource, t)

	// DescribeConfig of named configs only (configuration_keys).
	entries, err := e.admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: t,
		ConfigNames: []string{"retention.ms", "cleanup.policy"}})
	ev = with(errInfo(err), "event", "describe_names", "label", "two_names")
	if err == nil {
		ptrs := []*sarama.ConfigEntry{}
		for i := range entries {
			ptrs = append(ptrs, &entries[i])
		}
		ev["configs"] = entryMap(ptrs)
	}
	emit(ev)

	// ListTopics: Metadata, then DescribeConfigs v0 of every topic; it keeps the non-default entries.
	topics, err = e.admin.ListTopics()
	ev = with(errInfo(err), "event", "list_topics", "label", "after_set")
	if err == nil {
		entries := map[string]string{}
		for k, v := range topics[t].ConfigEntries {
			if v != nil {
				entries[k] = *v
			}
		}
		with(ev, "config_entries", entries, "partitions", topics[t].NumPartitions)
	}
	emit(ev)

	e.alter("replace", sarama.TopicResource, t, map[string]*string{"retention.bytes": str("5000000")}, false, false)
	e.describe("after_replace", sarama.TopicResource, t)
	e.alter("clear", sarama.TopicResource, t, map[string]*string{}, false, false)
	e.describe("after_clear", sarama.TopicResource, t)
	e.describe("other", sarama.TopicResource, other)
}

func runBroker(e *env) {
	other := *topic
	e.mustCreate("create", other, 1, nil)
	e.describe("initial", brokerResource, "0")
	// Sarama 1.22.1's own BrokerResource constant (5) is no config resource type at all.
	e.describe("sarama_broker_constant", sarama.BrokerResource, "0")

	e.alter("set_ms", brokerResource, "0", map[string]*string{"log.retention.ms": str("172800000")}, false, false)
	e.describe("after_set_ms", brokerResource, "0")
	e.describe("topic_after_set_ms", sarama.TopicResource, other)

	e.alter("bad_num_partitions", brokerResource, "0", map[string]*string{"num.partitions": str("3")}, false, true)
	e.alter("bad_ms_negative", brokerResource, "0", map[string]*string{"log.retention.ms": str("-7")}, false, true)
	e.alter("bad_ms_text", brokerResource, "0", map[string]*string{"log.retention.ms": str("two days")}, false, true)
	e.alter("bad_half", brokerResource, "0", map[string]*string{"log.retention.ms": str("3600000"),
		"log.dirs": str("/tmp/elsewhere")}, false, true)
	e.alter("other_broker", brokerResource, "1", map[string]*string{"log.retention.ms": str("3600000")}, false, true)
	e.alter("validate_only", brokerResource, "0", map[string]*string{"log.retention.ms": str("1000")}, true, false)
	e.describe("after_refusals", brokerResource, "0")

	// AlterConfigs replaces the broker's live set: log.retention.ms goes back to the flag's value.
	e.alter("replace_bytes", brokerResource, "0", map[string]*string{"log.retention.bytes": str("2147483648")},
		false, false)
	e.describe("after_replace_bytes", brokerResource, "0")
	e.describe("topic_after_replace_bytes", sarama.TopicResource, other)
	e.alter("clear", brokerResource, "0", map[string]*string{}, false, false)
	e.describe("after_clear", brokerResource, "0")
	e.describe("topic_after_clear", sarama.TopicResource, other)
}

func main() {
	flag.Parse()
	if *verbose {
		sarama.Logger = log.New(os.Stderr, "[sarama "+*member+"] ", log.Ltime|log.Lmicroseconds)
	}
	go func() {
		time.Sleep(*timeout)
		emit(map[string]interface{}{"event": "fatal", "what": "hard timeout", "error": "stuck past -timeout"})
		os.Exit(2)
	}()
	runs := map[string]func(*env){"records": runRecords, "partitions": runPartitions, "configs": runConfigs,
		"broker": runBroker}
	run, ok := runs[*mode]
	if !ok {
		fail("-mode", fmt.Errorf("unknown mode %q", *mode))
	}
	e := newEnv()
	run(e)
	e.close()
	emit(map[string]interface{}{"event": "done", "mode": *mode})
}
