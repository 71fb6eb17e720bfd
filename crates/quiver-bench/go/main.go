// The official Go driver in the cross-driver benchmark (protocol: ../src/peer.rs).
//
//	peer <workload> <count> <warmup> <concurrency> <persons>
//
// The concurrent transaction functions are goroutines, each with its own session.
package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

const (
	return1     = "RETURN 1"
	stream      = "UNWIND range(1, $rows) AS i RETURN i, 'name-' + toString(i) AS s, {id: i, tag: 'row'} AS m"
	readPerson  = "MATCH (p:QuiverBenchPerson {id: $id}) RETURN p.name AS name, p.age AS age"
	writePerson = "MATCH (p:QuiverBenchPerson {id: $id}) SET p.score = p.score + 1 RETURN p.score AS score"
)

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "go peer: %s: %v\n", what, err)
	os.Exit(1)
}

func cpuMicros() int64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return usage.Utime.Sec*1e6 + int64(usage.Utime.Usec) + usage.Stime.Sec*1e6 + int64(usage.Stime.Usec)
}

func peakRSS() int64 {
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			if len(fields) > 1 {
				v, _ := strconv.ParseInt(fields[1], 10, 64)
				return v
			}
		}
	}
	return 0
}

func report(units int64, wall time.Duration, cpuStart int64) {
	fmt.Printf("QUIVER-BENCH units=%d wall_ns=%d cpu_start_us=%d cpu_end_us=%d hwm_kb=%d\n",
		units, wall.Nanoseconds(), cpuStart, cpuMicros(), peakRSS())
	os.Exit(0)
}

func newDriver() neo4j.DriverWithContext {
	driver, err := neo4j.NewDriverWithContext(env("NEO4J_URI", "bolt://127.0.0.1:7687"),
		neo4j.BasicAuth(env("NEO4J_USER", "neo4j"), env("NEO4J_PASSWORD", "quiver-test-password"), ""))
	if err != nil {
		fail("driver", err)
	}
	return driver
}

func runReturn1(ctx context.Context, session neo4j.SessionWithContext) {
	result, err := session.Run(ctx, return1, nil)
	if err != nil {
		fail("RETURN 1", err)
	}
	for result.Next(ctx) {
	}
	if err := result.Err(); err != nil {
		fail("RETURN 1", err)
	}
}

func main() {
	if len(os.Args) < 6 {
		fmt.Fprintln(os.Stderr, "usage: peer <workload> <count> <warmup> <concurrency> <persons>")
		os.Exit(2)
	}
	workload := os.Args[1]
	var n [4]int64
	for i := range n {
		v, err := strconv.ParseInt(os.Args[2+i], 10, 64)
		if err != nil {
			fail("arguments", err)
		}
		n[i] = v
	}
	count, warmup, concurrency, persons := n[0], n[1], n[2], n[3]
	ctx := context.Background()

	if workload == "connect" {
		cpuStart, wall := cpuMicros(), time.Now()
		driver := newDriver()
		session := driver.NewSession(ctx, neo4j.SessionConfig{})
		runReturn1(ctx, session)
		report(1, time.Since(wall), cpuStart)
	}
	driver := newDriver()
	if err := driver.VerifyConnectivity(ctx); err != nil {
		fail("connect", err)
	}
	switch workload {
	case "return1":
		session := driver.NewSession(ctx, neo4j.SessionConfig{})
		for i := int64(0); i < warmup; i++ {
			runReturn1(ctx, session)
		}
		cpuStart, wall := cpuMicros(), time.Now()
		for i := int64(0); i < count; i++ {
			runReturn1(ctx, session)
		}
		report(count, time.Since(wall), cpuStart)
	case "stream":
		session := driver.NewSession(ctx, neo4j.SessionConfig{})
		streamOnce := func() int64 {
			result, err := session.Run(ctx, stream, map[string]any{"rows": count})
			if err != nil {
				fail("stream", err)
			}
			var rows, checksum int64
			for result.Next(ctx) {
				record := result.Record()
				i, _ := record.Get("i")
				s, _ := record.Get("s")
				m, _ := record.Get("m")
				checksum += i.(int64) + int64(len(s.(string))) + m.(map[string]any)["id"].(int64)
				rows++
			}
			if err := result.Err(); err != nil {
				fail("stream", err)
			}
			if rows != count {
				fail("stream", fmt.Errorf("%d rows, expected %d", rows, count))
			}
			_ = checksum
			return rows
		}
		for i := int64(0); i < warmup; i++ {
			streamOnce()
		}
		cpuStart, wall := cpuMicros(), time.Now()
		rows := streamOnce()
		report(rows, time.Since(wall), cpuStart)
	case "tx-read", "tx-write":
		write := workload == "tx-write"
		phase := func(seed int64, millis int64) int64 {
			deadline := time.Now().Add(time.Duration(millis) * time.Millisecond)
			done := make([]int64, concurrency)
			var wg sync.WaitGroup
			for w := int64(0); w < concurrency; w++ {
				wg.Add(1)
				go func(w int64) {
					defer wg.Done()
					ids := rand.New(rand.NewSource(seed + w))
					session := driver.NewSession(ctx, neo4j.SessionConfig{})
					defer session.Close(ctx)
					for time.Now().Before(deadline) {
						id := ids.Int63n(persons)
						var err error
						if write {
							_, err = session.ExecuteWrite(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
								result, err := tx.Run(ctx, writePerson, map[string]any{"id": id})
								if err != nil {
									return nil, err
								}
								record, err := result.Single(ctx)
								if err != nil {
									return nil, err
								}
								score, _ := record.Get("score")
								return score, nil
							})
						} else {
							_, err = session.ExecuteRead(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
								result, err := tx.Run(ctx, readPerson, map[string]any{"id": id})
								if err != nil {
									return nil, err
								}
								record, err := result.Single(ctx)
								if err != nil {
									return nil, err
								}
								name, _ := record.Get("name")
								return name, nil
							})
						}
						if err != nil {
							fail("transaction function", err)
						}
						done[w]++
					}
				}(w)
			}
			wg.Wait()
			var total int64
			for _, d := range done {
				total += d
			}
			return total
		}
		phase(1000, warmup)
		cpuStart, wall := cpuMicros(), time.Now()
		units := phase(2000, count)
		report(units, time.Since(wall), cpuStart)
	default:
		fail("workload", fmt.Errorf("unknown %q", workload))
	}
}
