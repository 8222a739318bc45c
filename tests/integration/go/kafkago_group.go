// kafkago_group drives kafka-go (Debian's golang-github-segmentio-kafka-go-dev, 0.2.1) against a
// broker for kairo's integration tests (tests/integration/groups_go.py).
//
// kafka-go 0.2.1 speaks fixed API versions and never asks ApiVersions: Produce v2 and Fetch v2
// (MessageSet magic 1), ListOffsets v1, Metadata v1, and for groups FindCoordinator v0,
// JoinGroup v1, SyncGroup v0, Heartbeat v0, LeaveGroup v0, OffsetCommit v2, OffsetFetch v1.
//
// Every result is one JSON object per line on stdout; the client's own log goes to stderr with
// -verbose, and the lines the test needs from it (assignment, committed offsets, errors) are
// also turned into JSON events.
//
//	-mode produce  Writer: -count messages key "k-<i>", value "<prefix>-<i>" (no offsets
//	               are reported by kafka-go's Writer)
//	-mode consume  Reader with GroupID: FetchMessage, print ("message"), CommitMessages (sync,
//	               CommitInterval 0). Stops on SIGTERM/SIGINT, or -grace after -count messages
//	               (count 0: only on a signal). Close() sends LeaveGroup.
//	-mode join     Reader with GroupID, group work only (no Fetch needed): wait until the
//	               reader reports its assignment and the committed offsets it resumes from
//	               ("subscribed"), then commit -commit "P:OFF,P:OFF" with CommitMessages
//	               (OffsetCommit v2) and Close() (LeaveGroup)
//
// Exit status: 0 ok, 1 client error, 2 -timeout reached.
//
// Build (Debian, offline): GO111MODULE=off GOPATH=/usr/share/gocode go build -o kafkago_group kafkago_group.go
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

var (
	bootstrap      = flag.String("bootstrap", "127.0.0.1:9092", "broker HOST:PORT (comma-separated list allowed)")
	topic          = flag.String("topic", "kafkago-group", "topic")
	group          = flag.String("group", "kafkago-group", "consumer group id")
	mode           = flag.String("mode", "consume", "produce | consume | join")
	count          = flag.Int("count", 0, "produce: messages to send; consume: stop -grace after this many (0: until a signal)")
	start          = flag.Int("start", 0, "produce: index of the first message")
	prefix         = flag.String("prefix", "kg", "produce: value prefix")
	timeout        = flag.Duration("timeout", 60*time.Second, "hard bound on the whole run (exit 2)")
	grace          = flag.Duration("grace", time.Second, "consume: keep reading this long after -count, to catch extras")
	member         = flag.String("member", "m", "label printed with every line")
	commitSpec     = flag.String("commit", "", "join: offsets to commit, \"P:OFF,P:OFF\" (the next offset to read)")
	sessionTimeout = flag.Duration("session-timeout", 6*time.Second, "ReaderConfig.SessionTimeout")
	heartbeat      = flag.Duration("heartbeat", 500*time.Millisecond, "ReaderConfig.HeartbeatInterval")
	verbose        = flag.Bool("verbose", false, "kafka-go's logger to stderr")
	retention      = flag.Duration("retention", 0, "ReaderConfig.RetentionTime, sent as OffsetCommit v2 retention_time_ms (0: kafka-go's 24 h)")
)

var outMu sync.Mutex

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
	emit(map[string]interface{}{"event": "fatal", "member": *member, "what": what, "error": err.Error()})
	os.Exit(1)
}

func brokers() []string { return strings.Split(*bootstrap, ",") }

// logSink turns kafka-go's log lines into JSON events: the reader states its assignment and
// resume offsets only there ("subscribed to partitions: map[0:12 1:-2]").
type logSink struct {
	isError bool
	mu      sync.Mutex
	buf     bytes.Buffer
	onSub   func(map[int]int64)
}

var subRe = regexp.MustCompile(`subscribed to partitions: map\[(.*)\]`)

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		line, err := s.buf.ReadString('\n')
		if err != nil {
			s.buf.WriteString(line) // incomplete line: keep for the next write
			break
		}
		line = strings.TrimRight(line, "\n")
		if *verbose {
			fmt.Fprintf(os.Stderr, "[kafka-go %s] %s\n", *member, line)
		}
		if m := subRe.FindStringSubmatch(line); m != nil {
			offs := map[int]int64{}
			for _, kv := range strings.Fields(m[1]) {
				parts := strings.SplitN(kv, ":", 2)
				if len(parts) != 2 {
					continue
				}
				p, e1 := strconv.Atoi(parts[0])
				o, e2 := strconv.ParseInt(parts[1], 10, 64)
				if e1 == nil && e2 == nil {
					offs[p] = o
				}
			}
			emit(map[string]interface{}{"event": "subscribed", "member": *member, "offsets": offs})
			if s.onSub != nil {
				s.onSub(offs)
			}
		}
		// kafka-go logs its own SyncGroup progress on the error logger; that is no error.
		if s.isError && !strings.Contains(line, "Syncing ") {
			emit(map[string]interface{}{"event": "client_error", "member": *member, "error": line})
		}
	}
	return len(p), nil
}

func newReader(onSub func(map[int]int64)) *kafka.Reader {
	info := &logSink{onSub: onSub}
	errs := &logSink{isError: true}
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:           brokers(),
		GroupID:           *group,
		Topic:             *topic,
		MinBytes:          1,
		MaxBytes:          1 << 20,
		MaxWait:           250 * time.Millisecond,
		HeartbeatInterval: *heartbeat,
		SessionTimeout:    *sessionTimeout,
		RebalanceTimeout:  10 * time.Second,
		CommitInterval:    0, // CommitMessages is synchronous
		ReadLagInterval:   -1,
		RetentionTime:     *retention,
		Logger:            log.New(info, "", log.Ltime|log.Lmicroseconds),
		ErrorLogger:       log.New(errs, "", log.Ltime|log.Lmicroseconds),
	})
}

func runProduce() {
	w := kafka.NewWriter(kafka.WriterConfig{
		Brokers:      brokers(),
		Topic:        *topic,
		Balancer:     &kafka.Hash{},
		BatchSize:    100,
		BatchTimeout: 10 * time.Millisecond,
		RequiredAcks: -1,
		MaxAttempts:  1,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
	})
	msgs := make([]kafka.Message, 0, *count)
	for i := *start; i < *start+*count; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("k-%d", i)), Value: []byte(fmt.Sprintf("%s-%d", *prefix, i))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	t0 := time.Now()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		_ = w.Close()
		fail("Writer.WriteMessages", err)
	}
	if err := w.Close(); err != nil {
		fail("Writer.Close", err)
	}
	emit(map[string]interface{}{"event": "produce_done", "count": *count, "seconds": time.Since(t0).Seconds()})
}

func runConsume() {
	r := newReader(nil)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	reached := make(chan struct{})
	timedOut := false
	go func() {
		select {
		case s := <-sigs:
			emit(map[string]interface{}{"event": "stopping", "member": *member, "why": s.String()})
		case <-reached:
			time.Sleep(*grace)
			emit(map[string]interface{}{"event": "stopping", "member": *member, "why": "count reached"})
		case <-time.After(*timeout):
			timedOut = true
			emit(map[string]interface{}{"event": "stopping", "member": *member, "why": "timeout"})
		}
		cancel()
	}()
	t0 := time.Now()
	n, errCount := 0, 0
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			errCount++
			emit(map[string]interface{}{"event": "error", "member": *member, "error": err.Error()})
			continue
		}
		emit(map[string]interface{}{"event": "message", "member": *member, "partition": m.Partition,
			"offset": m.Offset, "key": string(m.Key), "value": string(m.Value)})
		if err := r.CommitMessages(ctx, m); err != nil {
			if ctx.Err() != nil {
				break
			}
			errCount++
			emit(map[string]interface{}{"event": "commit_error", "member": *member, "partition": m.Partition,
				"offset": m.Offset, "error": err.Error()})
		}
		n++
		if *count > 0 && n == *count {
			close(reached)
		}
	}
	closeErr := r.Close()
	summary := map[string]interface{}{"event": "summary", "member": *member, "consumed": n, "errors": errCount,
		"seconds": time.Since(t0).Seconds()}
	if closeErr != nil {
		summary["close_error"] = closeErr.Error()
	}
	emit(summary)
	if timedOut {
		os.Exit(2)
	}
}

func parseCommits() []kafka.Message {
	var msgs []kafka.Message
	if *commitSpec == "" {
		return nil
	}
	for _, kv := range strings.Split(*commitSpec, ",") {
		parts := strings.SplitN(kv, ":", 2)
		if len(parts) != 2 {
			fail("-commit", fmt.Errorf("%q is not P:OFF", kv))
		}
		p, e1 := strconv.Atoi(parts[0])
		o, e2 := strconv.ParseInt(parts[1], 10, 64)
		if e1 != nil || e2 != nil {
			fail("-commit", fmt.Errorf("%q is not P:OFF", kv))
		}
		// kafka-go commits message.Offset+1 (the next offset to read).
		msgs = append(msgs, kafka.Message{Topic: *topic, Partition: p, Offset: o - 1})
	}
	return msgs
}

func runJoin() {
	commits := parseCommits()
	subscribed := make(chan map[int]int64, 1)
	r := newReader(func(offs map[int]int64) {
		select {
		case subscribed <- offs:
		default:
		}
	})
	// The group handshake runs in the background from NewReader on; FetchMessage is not needed.
	var offs map[int]int64
	select {
	case offs = <-subscribed:
	case <-time.After(*timeout):
		_ = r.Close()
		emit(map[string]interface{}{"event": "fatal", "member": *member, "what": "join",
			"error": "no assignment within -timeout"})
		os.Exit(2)
	}
	if len(commits) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := r.CommitMessages(ctx, commits...)
		cancel()
		if err != nil {
			_ = r.Close()
			fail("CommitMessages", err)
		}
		emit(map[string]interface{}{"event": "committed", "member": *member, "commit": *commitSpec})
	}
	if err := r.Close(); err != nil {
		fail("Reader.Close", err)
	}
	emit(map[string]interface{}{"event": "summary", "member": *member, "partitions": len(offs)})
}

func main() {
	flag.Parse()
	go func() {
		time.Sleep(*timeout + 5*time.Second)
		emit(map[string]interface{}{"event": "fatal", "member": *member, "what": "hard timeout", "error": "stuck past -timeout"})
		os.Exit(2)
	}()
	switch *mode {
	case "produce":
		runProduce()
	case "consume":
		runConsume()
	case "join":
		runJoin()
	default:
		fail("-mode", fmt.Errorf("unknown mode %q", *mode))
	}
}
