// sarama_group drives Sarama (Debian's golang-github-shopify-sarama-dev, 1.22.1) against a
// broker for kairo's integration tests (tests/integration/groups_go.py).
//
// Every result is one JSON object per line on stdout; Sarama's own log goes to stderr.
//
//	-mode create    CreateTopics (ClusterAdmin) with -partitions, then wait for metadata
//	-mode produce   SyncProducer (acks=all, not idempotent): -count messages, key "k-<i>",
//	                value "<prefix>-<i>" for i in [-start, -start+count); one "produced" line each
//	-mode consume   one ConsumerGroup member (NewConsumerGroup + Consume loop); every message is
//	                printed ("message") and MarkMessage'd; offsets committed every
//	                -commit-interval and on close. Stops on SIGTERM/SIGINT, or -grace after
//	                -count messages were seen by this process (count 0: only on a signal)
//	-mode describe  ListGroups, DescribeGroups and the committed offsets (OffsetFetch v1) of
//	                -group for -partitions partitions of -topic
//
// Exit status: 0 ok, 1 client error, 2 -timeout reached.
//
// Build (Debian, offline): GO111MODULE=off GOPATH=/usr/share/gocode go build -o sarama_group sarama_group.go
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Shopify/sarama"
)

var (
	bootstrap      = flag.String("bootstrap", "127.0.0.1:9092", "broker HOST:PORT (comma-separated list allowed)")
	topic          = flag.String("topic", "sarama-group", "topic")
	group          = flag.String("group", "sarama-group", "consumer group id")
	mode           = flag.String("mode", "consume", "create | produce | consume | describe")
	count          = flag.Int("count", 0, "produce: messages to send; consume: stop -grace after this many (0: run until a signal)")
	start          = flag.Int("start", 0, "produce: index of the first message")
	prefix         = flag.String("prefix", "v", "produce: value prefix")
	partitions     = flag.Int("partitions", 4, "create: partition count; describe: partitions to ask offsets for")
	timeout        = flag.Duration("timeout", 60*time.Second, "hard bound on the whole run (exit 2)")
	grace          = flag.Duration("grace", time.Second, "consume: keep reading this long after -count, to catch extras")
	member         = flag.String("member", "m", "consume: label printed with every line")
	version        = flag.String("version", "2.0.0", "Kafka version Sarama assumes (config.Version)")
	sessionTimeout = flag.Duration("session-timeout", 6*time.Second, "consume: Consumer.Group.Session.Timeout")
	heartbeat      = flag.Duration("heartbeat", 500*time.Millisecond, "consume: Consumer.Group.Heartbeat.Interval")
	commitInterval = flag.Duration("commit-interval", 200*time.Millisecond, "consume: Consumer.Offsets.CommitInterval")
	batch          = flag.Int("batch", 250, "produce: messages per SendMessages call")
	pause          = flag.Duration("pause", 0, "produce: sleep between SendMessages calls (a steady stream)")
	strategy       = flag.String("strategy", "range", "consume: range | roundrobin")
	verbose        = flag.Bool("verbose", false, "Sarama's logger to stderr")
	metadata       = flag.String("metadata", "", "consume: metadata string committed with every offset")
)

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
	return c
}

func brokers() []string { return strings.Split(*bootstrap, ",") }

func runCreate() {
	c := config()
	admin, err := sarama.NewClusterAdmin(brokers(), c)
	if err != nil {
		fail("NewClusterAdmin", err)
	}
	defer admin.Close()
	err = admin.CreateTopic(*topic, &sarama.TopicDetail{NumPartitions: int32(*partitions), ReplicationFactor: 1}, false)
	if err != nil {
		fail("CreateTopic", err)
	}
	client, err := sarama.NewClient(brokers(), c)
	if err != nil {
		fail("NewClient", err)
	}
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_ = client.RefreshMetadata(*topic)
		ps, err := client.Partitions(*topic)
		if err == nil && len(ps) == *partitions {
			emit(map[string]interface{}{"event": "created", "topic": *topic, "partitions": len(ps)})
			return
		}
		if time.Now().After(deadline) {
			fail("metadata after CreateTopic", fmt.Errorf("topic %s shows partitions %v (err %v), want %d", *topic, ps, err, *partitions))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func runProduce() {
	c := config()
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.Idempotent = false // kairo has no InitProducerId yet
	c.Producer.Retry.Max = 0      // a retry could duplicate; the test wants to see every failure
	c.Producer.Flush.Messages = 100
	c.Producer.Flush.Frequency = 5 * time.Millisecond
	p, err := sarama.NewSyncProducer(brokers(), c)
	if err != nil {
		fail("NewSyncProducer", err)
	}
	t0 := time.Now()
	for lo := *start; lo < *start+*count; lo += *batch {
		hi := lo + *batch
		if hi > *start+*count {
			hi = *start + *count
		}
		msgs := make([]*sarama.ProducerMessage, 0, hi-lo)
		for i := lo; i < hi; i++ {
			msgs = append(msgs, &sarama.ProducerMessage{
				Topic: *topic,
				Key:   sarama.StringEncoder(fmt.Sprintf("k-%d", i)),
				Value: sarama.StringEncoder(fmt.Sprintf("%s-%d", *prefix, i)),
			})
		}
		if err := p.SendMessages(msgs); err != nil {
			if perrs, ok := err.(sarama.ProducerErrors); ok {
				for _, pe := range perrs {
					emit(map[string]interface{}{"event": "produce_error", "partition": pe.Msg.Partition, "error": pe.Err.Error()})
				}
			}
			fail("SendMessages", err)
		}
		for i, m := range msgs {
			emit(map[string]interface{}{"event": "produced", "index": lo + i, "partition": m.Partition, "offset": m.Offset})
		}
		if *pause > 0 {
			time.Sleep(*pause)
		}
	}
	if err := p.Close(); err != nil {
		fail("SyncProducer.Close", err)
	}
	emit(map[string]interface{}{"event": "produce_done", "count": *count, "seconds": time.Since(t0).Seconds()})
}

// handler prints and marks every message; it counts them to know when -count is reached.
type handler struct {
	mu       sync.Mutex
	consumed int
	reached  chan struct{}
	once     sync.Once
}

func (h *handler) Setup(s sarama.ConsumerGroupSession) error {
	emit(map[string]interface{}{"event": "setup", "member": *member, "member_id": s.MemberID(),
		"generation": s.GenerationID(), "claims": s.Claims()})
	return nil
}

func (h *handler) Cleanup(s sarama.ConsumerGroupSession) error {
	emit(map[string]interface{}{"event": "cleanup", "member": *member, "member_id": s.MemberID(),
		"generation": s.GenerationID()})
	return nil
}

func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	emit(map[string]interface{}{"event": "claim", "member": *member, "generation": s.GenerationID(),
		"partition": claim.Partition(), "initial_offset": claim.InitialOffset()})
	for m := range claim.Messages() {
		emit(map[string]interface{}{"event": "message", "member": *member, "generation": s.GenerationID(),
			"partition": m.Partition, "offset": m.Offset, "key": string(m.Key), "value": string(m.Value)})
		s.MarkMessage(m, *metadata)
		h.mu.Lock()
		h.consumed++
		n := h.consumed
		h.mu.Unlock()
		if *count > 0 && n >= *count {
			h.once.Do(func() { close(h.reached) })
		}
	}
	return nil
}

func runConsume() {
	c := config()
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.CommitInterval = *commitInterval
	c.Consumer.MaxWaitTime = 250 * time.Millisecond
	c.Consumer.Group.Session.Timeout = *sessionTimeout
	c.Consumer.Group.Heartbeat.Interval = *heartbeat
	c.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	c.Consumer.Group.Rebalance.Retry.Max = 10
	c.Consumer.Group.Rebalance.Retry.Backoff = 200 * time.Millisecond
	switch *strategy {
	case "range":
		c.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRange
	case "roundrobin":
		c.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRoundRobin
	default:
		fail("-strategy", fmt.Errorf("unknown strategy %q", *strategy))
	}

	g, err := sarama.NewConsumerGroup(brokers(), *group, c)
	if err != nil {
		fail("NewConsumerGroup", err)
	}
	errCount := 0
	var errMu sync.Mutex
	errsDone := make(chan struct{})
	go func() {
		defer close(errsDone)
		for e := range g.Errors() {
			errMu.Lock()
			errCount++
			errMu.Unlock()
			emit(map[string]interface{}{"event": "error", "member": *member, "error": e.Error()})
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	h := &handler{reached: make(chan struct{})}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	timedOut := false
	go func() {
		select {
		case s := <-sigs:
			emit(map[string]interface{}{"event": "stopping", "member": *member, "why": s.String()})
		case <-h.reached:
			time.Sleep(*grace)
			emit(map[string]interface{}{"event": "stopping", "member": *member, "why": "count reached"})
		case <-time.After(*timeout):
			timedOut = true
			emit(map[string]interface{}{"event": "stopping", "member": *member, "why": "timeout"})
		}
		cancel()
	}()

	t0 := time.Now()
	sessions := 0
	for ctx.Err() == nil {
		// Consume returns at the end of every session (a rebalance); the loop re-joins.
		err := g.Consume(ctx, []string{*topic}, h)
		sessions++
		if err != nil {
			emit(map[string]interface{}{"event": "consume_error", "member": *member, "error": err.Error()})
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	// Close commits nothing more (the session's release already flushed the marked offsets)
	// and sends LeaveGroup.
	closeErr := g.Close()
	<-errsDone
	h.mu.Lock()
	n := h.consumed
	h.mu.Unlock()
	errMu.Lock()
	ec := errCount
	errMu.Unlock()
	summary := map[string]interface{}{"event": "summary", "member": *member, "consumed": n,
		"sessions": sessions, "errors": ec, "seconds": time.Since(t0).Seconds()}
	if closeErr != nil {
		summary["close_error"] = closeErr.Error()
	}
	emit(summary)
	if timedOut {
		os.Exit(2)
	}
	if closeErr != nil {
		os.Exit(1)
	}
}

func runDescribe() {
	c := config()
	admin, err := sarama.NewClusterAdmin(brokers(), c)
	if err != nil {
		fail("NewClusterAdmin", err)
	}
	defer admin.Close()
	groups, err := admin.ListConsumerGroups()
	if err != nil {
		fail("ListConsumerGroups", err)
	}
	emit(map[string]interface{}{"event": "groups", "groups": groups})
	descs, err := admin.DescribeConsumerGroups([]string{*group})
	if err != nil {
		fail("DescribeConsumerGroups", err)
	}
	for _, d := range descs {
		members := []string{}
		for id := range d.Members {
			members = append(members, id)
		}
		sort.Strings(members)
		emit(map[string]interface{}{"event": "group", "group": d.GroupId,
			"error_code": int(d.Err), "state": d.State, "protocol_type": d.ProtocolType,
			"protocol": d.Protocol, "members": members})
		for _, id := range members {
			m := d.Members[id]
			line := map[string]interface{}{"event": "group_member", "group": d.GroupId, "member_id": id,
				"client_id": m.ClientId, "client_host": m.ClientHost}
			if meta, err := m.GetMemberMetadata(); err != nil {
				line["metadata_error"] = err.Error()
			} else {
				line["topics"] = meta.Topics
			}
			if a, err := m.GetMemberAssignment(); err != nil {
				line["assignment_error"] = err.Error()
			} else {
				line["assignment"] = a.Topics
			}
			emit(line)
		}
	}
	ps := make([]int32, *partitions)
	for i := range ps {
		ps[i] = int32(i)
	}
	resp, err := admin.ListConsumerGroupOffsets(*group, map[string][]int32{*topic: ps})
	if err != nil {
		fail("ListConsumerGroupOffsets", err)
	}
	for _, p := range ps {
		b := resp.GetBlock(*topic, p)
		if b == nil {
			emit(map[string]interface{}{"event": "committed", "partition": p, "missing": true})
			continue
		}
		emit(map[string]interface{}{"event": "committed", "partition": p, "offset": b.Offset,
			"metadata": b.Metadata, "error_code": int(b.Err)})
	}
}

func main() {
	flag.Parse()
	if *verbose {
		sarama.Logger = log.New(os.Stderr, "[sarama "+*member+"] ", log.Ltime|log.Lmicroseconds)
	}
	// -timeout bounds every mode, not only consume.
	go func() {
		time.Sleep(*timeout + 5*time.Second)
		emit(map[string]interface{}{"event": "fatal", "what": "hard timeout", "error": "stuck past -timeout"})
		os.Exit(2)
	}()
	switch *mode {
	case "create":
		runCreate()
	case "produce":
		runProduce()
	case "consume":
		runConsume()
	case "describe":
		runDescribe()
	default:
		fail("-mode", fmt.Errorf("unknown mode %q", *mode))
	}
}
