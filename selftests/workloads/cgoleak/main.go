// SPDX-License-Identifier: GPL-2.0

// cgoleak is a Go service that leaks through cgo: C.malloc'd blocks, every
// byte set, never freed. Its Go heap stays at -baseline; the growth is
// anonymous memory the Go runtime knows nothing about.
package main

/*
#include <stdlib.h>
#include <string.h>

// The caller keeps the pointer: a block nobody could free is one the
// compiler may drop, malloc and memset included.
static void *leak(size_t n)
{
	void *p = malloc(n);

	if (p)
		memset(p, 0x5a, n);
	return p;
}
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"unsafe"

	"gomemguard/workloads/internal/wl"
)

var leaked []unsafe.Pointer

func main() {
	var l wl.Leak
	l.Register(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: cgoleak [flags]\n\nLeak C.malloc memory at -rate bytes/s up to -max; the Go heap stays flat.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := l.Check(); err != nil {
		fmt.Fprintf(os.Stderr, "cgoleak: %v\n", err)
		os.Exit(2)
	}
	l.Run(func(n int64) {
		p := C.leak(C.size_t(n))
		if p == nil {
			wl.Fatal("malloc(%d) failed after %d bytes", n, l.Leaked())
		}
		leaked = append(leaked, p)
	})
}
