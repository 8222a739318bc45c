// sarama_idempotent drives Sarama's idempotent producer (Debian's golang-github-shopify-sarama-dev,
// 1.22.1) against a broker for kairo's integration tests (tests/integration/txn_go.py).
//
// Sarama 1.22.1 has no transactional producer (no Producer.Transaction config, no
// AddPartitionsToTxn/EndTxn use outside the raw Broker methods), so only idempotence is driven
// here; its consumer's Consumer.IsolationLevel = ReadCommitted is used to read transactions
// written by another client.
//
// Every result is one JSON object per line on stdout; Sarama's own log goes to stderr (-verbose).
//
//	-mode create    CreateTopics (ClusterAdmin) with -partitions, then wait for metadata
//	-mode produce   AsyncProducer with Producer.Idempotent = true (acks=all, Net.MaxOpenRequests=1,
//	                Retry.Max=-retries): -count messages, key "k-<i>", value "<prefix>-<i>"; one
//	                "produced" line per success (index, partition, offset), one "produce_error"
//	                per failure, then "produce_done"
//	-mode consume   plain Consumer, every partition of -topic from the oldest offset with
//	                -isolation read_committed|read_uncommitted; one "message" line each; stops
//	                -grace after -count messages (exit 0), or at -timeout (exit 2)
//
// Exit status: 0 ok, 1 client error, 2 -timeout reached.
//
// Build (Debian, offline):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o sarama_idempotent sarama_idempotent.go
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

var (
	bootstrap  = flag.String("bootstrap", "127.0.0.1:9092", "broker HOST:PORT (comma-separated list allowed)")
	topic      = flag.String("topic", "sarama-idempotent", "topic")
	mode       = flag.String("mode", "produce", "create | produce | consume")
	count      = flag.Int("count", 1000, "produce: messages to send; consume: stop -grace after this many")
	prefix     = flag.String("prefix", "v", "produce: value prefix")
	partitions = flag.Int("partitions", 4, "create: partition count")
	timeout    = flag.Duration("timeout", 60*time.Second, "hard bound on the whole run (exit 2)")
	grace      = flag.Duration("grace", time.Second, "consume: keep reading this long after -count, to catch extras")
	member     = flag.String("member", "p", "label printed with every line")
	version    = flag.String("version", "2.0.0", "Kafka version Sarama assumes (config.Version; idempotence needs >= 0.11)")
	retries    = flag.Int("retries", 5, "produce: Producer.Retry.Max (idempotence needs >= 1)")
	flushMsgs  = flag.Int("flush-messages", 100, "produce: Producer.Flush.Messages")
	pace       = flag.Int("pace", 0, "produce: after every this many messages wait for all of them to be acked (0: never)")
	isolation  = flag.String("isolation", "read_committed", "consume: read_committed | read_uncommitted")
	verbose    = flag.Bool("verbose", false, "Sarama's logger to stderr")
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
	c.ClientID = "kairo-it-sarama-idem-" + *member
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
	c.Producer.Idempotent = true
	// The settings Sarama's Config.Validate requires for idempotence:
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Net.MaxOpenRequests = 1
	c.Producer.Retry.Max = *retries
	c.Producer.Retry.Backoff = 200 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.Partitioner = sarama.NewHashPartitioner
	c.Producer.Flush.Messages = *flushMsgs
	c.Producer.Flush.Frequency = 5 * time.Millisecond
	p, err := sarama.NewAsyncProducer(brokers(), c)
	if err != nil {
		fail("NewAsyncProducer", err)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked, failed := 0, 0
	done := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m := range p.Successes() {
			emit(map[string]interface{}{"event": "produced", "index": m.Metadata.(int), "partition": m.Partition, "offset": m.Offset})
			mu.Lock()
			acked++
			mu.Unlock()
		}
	}()
	go func() {
		defer wg.Done()
		for pe := range p.Errors() {
			emit(map[string]interface{}{"event": "produce_error", "index": pe.Msg.Metadata.(int), "partition": pe.Msg.Partition, "error": pe.Err.Error()})
			mu.Lock()
			failed++
			mu.Unlock()
		}
	}()
	answered := func() int {
		mu.Lock()
		defer mu.Unlock()
		return acked + failed
	}
	go func() {
		defer close(done)
		for i := 0; i < *count; i++ {
			p.Input() <- &sarama.ProducerMessage{
				Topic:    *topic,
				Key:      sarama.StringEncoder(fmt.Sprintf("k-%d", i)),
				Value:    sarama.StringEncoder(fmt.Sprintf("%s-%d", *prefix, i)),
				Metadata: i,
			}
			if *pace > 0 && (i+1)%*pace == 0 {
				for answered() < i+1 {
					time.Sleep(2 * time.Millisecond)
				}
				emit(map[string]interface{}{"event": "progress", "answered": i + 1})
			}
		}
	}()
	<-done
	// AsyncClose flushes what is buffered, then closes Successes and Errors.
	p.AsyncClose()
	wg.Wait()
	emit(map[string]interface{}{"event": "produce_done", "count": *count, "acked": acked, "errors": failed,
		"seconds": time.Since(t0).Seconds()})
	if failed > 0 {
		os.Exit(1)
	}
}

func runConsume() {
	c := config()
	c.Consumer.Return.Errors = true
	c.Consumer.MaxWaitTime = 250 * time.Millisecond
	switch *isolation {
	case "read_committed":
		c.Consumer.IsolationLevel = sarama.ReadCommitted
	case "read_uncommitted":
		c.Consumer.IsolationLevel = sarama.ReadUncommitted
	default:
		fail("-isolation", fmt.Errorf("unknown isolation level %q", *isolation))
	}
	consumer, err := sarama.NewConsumer(brokers(), c)
	if err != nil {
		fail("NewConsumer", err)
	}
	ps, err := consumer.Partitions(*topic)
	if err != nil {
		fail("Partitions", err)
	}
	var mu sync.Mutex
	seen, errs := 0, 0
	reached := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	pcs := []sarama.PartitionConsumer{}
	for _, part := range ps {
		pc, err := consumer.ConsumePartition(*topic, part, sarama.OffsetOldest)
		if err != nil {
			fail("ConsumePartition", err)
		}
		pcs = append(pcs, pc)
		wg.Add(2)
		go func(pc sarama.PartitionConsumer) {
			defer wg.Done()
			for m := range pc.Messages() {
				emit(map[string]interface{}{"event": "message", "member": *member, "partition": m.Partition,
					"offset": m.Offset, "key": string(m.Key), "value": string(m.Value)})
				mu.Lock()
				seen++
				if seen >= *count {
					once.Do(func() { close(reached) })
				}
				mu.Unlock()
			}
		}(pc)
		go func(pc sarama.PartitionConsumer) {
			defer wg.Done()
			for e := range pc.Errors() {
				mu.Lock()
				errs++
				mu.Unlock()
				emit(map[string]interface{}{"event": "consume_error", "member": *member, "error": e.Error()})
			}
		}(pc)
	}
	timedOut := false
	select {
	case <-reached:
		time.Sleep(*grace)
	case <-time.After(*timeout):
		timedOut = true
	}
	for _, pc := range pcs {
		pc.AsyncClose()
	}
	wg.Wait()
	closeErr := consumer.Close()
	summary := map[string]interface{}{"event": "summary", "member": *member, "consumed": seen, "errors": errs}
	if closeErr != nil {
		summary["close_error"] = closeErr.Error()
	}
	emit(summary)
	if timedOut {
		os.Exit(2)
	}
	if closeErr != nil || errs > 0 {
		os.Exit(1)
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
	default:
		fail("-mode", fmt.Errorf("unknown mode %q", *mode))
	}
}
