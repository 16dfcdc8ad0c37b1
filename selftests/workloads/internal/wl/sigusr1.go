// SPDX-License-Identifier: GPL-2.0

package wl

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// HandleSIGUSR1 takes over SIGUSR1 (gomemguard's signal fuse) for the rest
// of the program's life. For each one received it prints
// "SIGUSR1 <unix-nanos> <bytes>" on stdout and, if path is not empty,
// appends the same line to path and fsyncs it; bytes is what the program
// says it holds at that moment. The kernel merges a SIGUSR1 sent while
// another is still pending, so two sent back to back may log once.
func HandleSIGUSR1(path string, bytes func() int64) {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGUSR1)
	go func() {
		for range ch {
			line := fmt.Sprintf("SIGUSR1 %d %d\n", time.Now().UnixNano(), bytes())
			if path != "" {
				if err := appendSync(path, line); err != nil {
					fmt.Fprintf(os.Stderr, "sigfile: %v\n", err)
				}
			}
			os.Stdout.WriteString(line)
		}
	}()
}

func appendSync(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
