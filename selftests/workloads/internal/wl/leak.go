// SPDX-License-Identifier: GPL-2.0

package wl

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// Tick is how often the leak loop allocates. Each tick it catches up with
// rate × (time since ready), so the average rate holds however the ticks
// jitter.
const Tick = 50 * time.Millisecond

var pageSize = os.Getpagesize()

// Touch writes one byte in every page of b, so that all of it is resident:
// fresh memory from the OS is not, however Go or malloc zeroed it on paper.
func Touch(b []byte) {
	for i := 0; i < len(b); i += pageSize {
		b[i] = 1
	}
	if len(b) > 0 {
		b[len(b)-1] = 1
	}
}

// Leak is the steadily leaking service that goleak and cgoleak share; they
// differ only in where the leaked bytes live.
type Leak struct {
	Rate      Size
	Step      Size
	Max       Size
	Baseline  Size
	Hold      Duration
	ReadyFile string
	SigFile   string
	GOGC      GCPercent

	leaked   atomic.Int64
	baseline [][]byte
}

// Register adds the leak's flags to fs.
func (l *Leak) Register(fs *flag.FlagSet) {
	l.Rate, l.Step, l.Baseline = 8<<20, 1<<20, 8<<20
	fs.Var(&l.Rate, "rate", "leak `bytes` per second (8M, 512K, ...)")
	fs.Var(&l.Step, "step", "allocation granularity in `bytes`")
	fs.Var(&l.Max, "max", "stop growing at `bytes` leaked, then hold (0: never stop)")
	fs.Var(&l.Baseline, "baseline", "steady Go heap `bytes` allocated at start")
	fs.Var(&l.Hold, "hold", "once -max is reached, exit 0 after this `duration` (0: hold forever)")
	fs.StringVar(&l.ReadyFile, "readyfile", "", "write the pid to `path` once ready")
	fs.StringVar(&l.SigFile, "sigfile", "", "append a line to `path` for each SIGUSR1")
	fs.Var(&l.GOGC, "gogc", "GC `percent` or \"off\" (default: GOGC from the environment)")
}

// Check validates the flags.
func (l *Leak) Check() error {
	if l.Step <= 0 {
		return errors.New("-step must be positive")
	}
	return nil
}

// Leaked is how many bytes the loop has leaked so far.
func (l *Leak) Leaked() int64 { return l.leaked.Load() }

// Run allocates the baseline on the Go heap, says ready, then calls alloc
// for each step it leaks; alloc must make n bytes resident and keep them.
// It returns only by exiting the program.
func (l *Leak) Run(alloc func(n int64)) {
	l.GOGC.Apply()
	for left := int64(l.Baseline); left > 0; {
		n := min64(left, int64(l.Step))
		b := make([]byte, n)
		Touch(b)
		l.baseline = append(l.baseline, b)
		left -= n
	}
	HandleSIGUSR1(l.SigFile, l.Leaked)
	Ready(l.ReadyFile)

	start := time.Now()
	var maxAt time.Time
	nextReport := time.Second
	ticker := time.NewTicker(Tick)
	for range ticker.C {
		now := time.Now()
		t := now.Sub(start)
		if maxAt.IsZero() {
			l.grow(t, alloc)
			if l.Max > 0 && l.Leaked() >= int64(l.Max) {
				maxAt = now
				fmt.Printf("max leaked=%d t=%.3f\n", l.Leaked(), t.Seconds())
			}
		}
		if t >= nextReport {
			l.report(t)
			for nextReport <= t {
				nextReport += time.Second
			}
		}
		if !maxAt.IsZero() && l.Hold > 0 && now.Sub(maxAt) >= time.Duration(l.Hold) {
			fmt.Printf("exit leaked=%d t=%.3f\n", l.Leaked(), t.Seconds())
			os.Exit(0)
		}
	}
}

// grow leaks whole steps until the leak reaches rate × t (capped at -max;
// the last step before -max may be short).
func (l *Leak) grow(t time.Duration, alloc func(n int64)) {
	target := int64(float64(l.Rate) * t.Seconds())
	if l.Max > 0 {
		target = min64(target, int64(l.Max))
	}
	for {
		cur := l.Leaked()
		n := int64(l.Step)
		if l.Max > 0 {
			n = min64(n, int64(l.Max)-cur)
		}
		if n <= 0 || cur+n > target {
			return
		}
		alloc(n)
		l.leaked.Add(n)
	}
}

func (l *Leak) report(t time.Duration) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("leaked=%d t=%.3f heapalloc=%d heapsys=%d\n",
		l.Leaked(), t.Seconds(), ms.HeapAlloc, ms.HeapSys)
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
