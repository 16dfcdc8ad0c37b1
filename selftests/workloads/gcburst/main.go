// SPDX-License-Identifier: GPL-2.0

// gcburst is a Go batch job whose memory saws up and down without leaking:
// every -period it builds a transient working set of -burst bytes out of
// many small objects, writes to all of them, and drops them for the GC
// pacer to reclaim. Tests use it to check that GC bursts raise no alarm,
// and, with -leak, that a leak hidden under them still does.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"gomemguard/workloads/internal/wl"
)

var (
	baseline [][]byte
	leaked   [][]byte
	held     atomic.Int64
)

func main() {
	var (
		burst, object, base wl.Size = 64 << 20, 4 << 10, 8 << 20
		leak                wl.Size
		period              wl.Duration = wl.Duration(2 * time.Second)
		rounds              int
		readyFile, sigFile  string
		gogc                wl.GCPercent
	)
	flag.Var(&burst, "burst", "transient working set per round, in `bytes`")
	flag.Var(&object, "object", "size of each object in the working set, in `bytes`")
	flag.Var(&base, "baseline", "steady heap `bytes` allocated at start")
	flag.Var(&period, "period", "one round every `duration`")
	flag.Var(&leak, "leak", "also leak `bytes` per second under the bursts, in 1M steps (0: none)")
	flag.IntVar(&rounds, "rounds", 0, "exit 0 after `n` rounds (0: run forever)")
	flag.StringVar(&readyFile, "readyfile", "", "write the pid to `path` once ready")
	flag.StringVar(&sigFile, "sigfile", "", "append a line to `path` for each SIGUSR1")
	flag.Var(&gogc, "gogc", "GC `percent` or \"off\" (default: GOGC from the environment)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: gcburst [flags]\n\nBuild and drop a -burst working set every -period.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if object <= 0 || period <= 0 || rounds < 0 {
		fmt.Fprintf(os.Stderr, "gcburst: -object and -period must be positive, -rounds not negative\n")
		os.Exit(2)
	}
	gogc.Apply()

	for left := int64(base); left > 0; left -= 1 << 20 {
		b := make([]byte, min64(left, 1<<20))
		wl.Touch(b)
		baseline = append(baseline, b)
	}
	held.Store(int64(base))
	wl.HandleSIGUSR1(sigFile, held.Load)
	wl.Ready(readyFile)
	if leak > 0 {
		go leakLoop(int64(leak))
	}

	start := time.Now()
	for r := 1; rounds == 0 || r <= rounds; r++ {
		roundStart := start.Add(time.Duration(r-1) * time.Duration(period))
		time.Sleep(time.Until(roundStart))
		n := runRound(int64(burst), int64(object))
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("round=%d t=%.3f build_ms=%.1f heapalloc=%d heapsys=%d nextgc=%d numgc=%d\n",
			r, time.Since(start).Seconds(), float64(n)/1e6, ms.HeapAlloc, ms.HeapSys,
			ms.NextGC, ms.NumGC)
	}
	fmt.Printf("exit rounds=%d t=%.3f\n", rounds, time.Since(start).Seconds())
}

// runRound builds the working set, touches it and lets it go, and returns
// how long building took in nanoseconds. The memory stats printed right
// after it show the heap near its peak, with the set just dropped.
func runRound(burst, object int64) int64 {
	t0 := time.Now()
	set := make([][]byte, 0, burst/object+1)
	for size := int64(0); size < burst; size += object {
		b := make([]byte, object)
		wl.Touch(b)
		set = append(set, b)
		held.Add(object)
	}
	took := time.Since(t0).Nanoseconds()
	held.Add(-int64(len(set)) * object)
	return took
}

// leakLoop keeps 1 MiB steps, every page written, at rate bytes per second
// since it started: a leak the GC can free none of, under the sawtooth.
func leakLoop(rate int64) {
	const step = 1 << 20
	start := time.Now()
	var done int64
	ticker := time.NewTicker(wl.Tick)
	for range ticker.C {
		target := int64(float64(rate) * time.Since(start).Seconds())
		for ; done+step <= target; done += step {
			b := make([]byte, step)
			wl.Touch(b)
			leaked = append(leaked, b)
			held.Add(step)
		}
	}
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
