// SPDX-License-Identifier: GPL-2.0

// leaky is a Go service for the fuse's tests.  leakyCache keeps -leak bytes
// in 64 KiB pieces that are never freed, churn allocates as much again and
// drops it; then leaky prints "ready" and waits for SIGUSR1.  Its fuse
// writes a heap profile into -dir, and leaky prints the fuse's Event as one
// JSON line and exits.  In that profile's inuse_space, leakyCache must lead
// with all it leaked, and churn must not show.
//
// With -rate, leaky is a service with a leak that nothing stops: after
// "ready" leakyCache keeps -rate bytes a second more, each fuse's Event is
// printed as it comes, and only the OOM killer ends it (the guest test,
// selftests/fuse_test.sh, with gomemguard's real fuse).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"gomemguard.dev/fuse"
)

const piece = 64 << 10

var cache = map[int][]byte{}

// leakyCache is the leak the profile must name.
//
//go:noinline
func leakyCache(n int) {
	for i := 0; i < n/piece; i++ {
		b := make([]byte, piece)
		b[0] = byte(i)
		cache[len(cache)] = b
	}
}

// sink keeps churn's buffers from being optimised away.
var sink byte

// churn allocates as much as it is told and keeps none of it.
//
//go:noinline
func churn(n int) {
	for i := 0; i < n/piece; i++ {
		b := make([]byte, piece)
		b[0] = byte(i)
		sink += b[0]
	}
}

// result is what the test reads of the Event.
type result struct {
	Seq     int      `json:"seq"`
	Profile string   `json:"profile"`
	Errs    []string `json:"errs"`
}

func main() {
	// Every allocation in the profile, not a sample: the test compares
	// the bytes it shows with -leak.
	runtime.MemProfileRate = 1
	dir := flag.String("dir", "", "directory for the heap profile")
	leak := flag.Int("leak", 32<<20, "bytes to leak")
	rate := flag.Int("rate", 0, "then leak this many bytes a second until killed")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: leaky -dir DIR [-leak BYTES] [-rate BYTES]")
		os.Exit(2)
	}

	fired := make(chan fuse.Event, 16)
	f, err := fuse.Arm(fuse.Options{
		Signal:     syscall.SIGUSR1,
		ProfileDir: *dir,
		OnFuse:     []func(fuse.Event){func(ev fuse.Event) { fired <- ev }},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "leaky: %v\n", err)
		os.Exit(1)
	}

	leakyCache(*leak)
	churn(*leak)
	fmt.Println("ready")
	if *rate > 0 {
		leakForever(*rate, fired)
	}

	select {
	case ev := <-fired:
		printEvent(ev)
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "leaky: no fuse within a minute")
		os.Exit(1)
	}
	f.Stop()
}

// leakForever leaks rate bytes a second, a tenth at a time, and prints each
// fuse's Event as it comes; the OOM killer ends it.
func leakForever(rate int, fired <-chan fuse.Event) {
	tick := time.NewTicker(100 * time.Millisecond)
	for {
		select {
		case ev := <-fired:
			printEvent(ev)
		case <-tick.C:
			leakyCache(rate / 10)
		}
	}
}

func printEvent(ev fuse.Event) {
	r := result{Seq: ev.Seq, Profile: ev.Profile}
	for _, err := range ev.Errs {
		r.Errs = append(r.Errs, err.Error())
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		fmt.Fprintf(os.Stderr, "leaky: %v\n", err)
		os.Exit(1)
	}
}
