// SPDX-License-Identifier: GPL-2.0

// goleak is a Go service whose heap leaks at a steady rate: every step is a
// []byte kept in a global slice, every page of it written, so the GC can
// free none of it and all of it is resident anonymous memory.
package main

import (
	"flag"
	"fmt"
	"os"

	"gomemguard/workloads/internal/wl"
)

var leaked [][]byte

func main() {
	var l wl.Leak
	l.Register(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: goleak [flags]\n\nLeak Go heap at -rate bytes/s up to -max.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := l.Check(); err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		os.Exit(2)
	}
	l.Run(func(n int64) {
		b := make([]byte, n)
		wl.Touch(b)
		leaked = append(leaked, b)
	})
}
