// SPDX-License-Identifier: GPL-2.0

// gosleep is a Go service that stays put: it keeps -heap bytes of Go heap
// resident and sleeps. Tests that need a real Go program to find and tag
// (gomemctl discover, tag --go) run it with and without GOMEMLIMIT.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"gomemguard/workloads/internal/wl"
)

var held []byte

func main() {
	var (
		heap               wl.Size
		hold               wl.Duration
		readyFile, sigFile string
	)
	flag.Var(&heap, "heap", "Go heap `bytes` to keep resident")
	flag.Var(&hold, "hold", "exit 0 after this `duration` (0: sleep until killed)")
	flag.StringVar(&readyFile, "readyfile", "", "write the pid to `path` once ready")
	flag.StringVar(&sigFile, "sigfile", "", "append a line to `path` for each SIGUSR1")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: gosleep [flags]\n\nKeep -heap bytes of Go heap and sleep.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	held = make([]byte, int64(heap))
	wl.Touch(held)
	wl.HandleSIGUSR1(sigFile, func() int64 { return int64(len(held)) })
	wl.Ready(readyFile)
	if hold > 0 {
		time.Sleep(time.Duration(hold))
		os.Exit(0)
	}
	for {
		time.Sleep(time.Hour)
	}
}
