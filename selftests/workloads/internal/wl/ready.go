// SPDX-License-Identifier: GPL-2.0

package wl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Fatal prints "<program>: <message>" on stderr and exits 1.
func Fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", filepath.Base(os.Args[0]), fmt.Sprintf(format, args...))
	os.Exit(1)
}

// Ready prints "ready pid=<pid>" and, if path is not empty, writes the pid
// to path. The file appears whole or not at all (written beside it, then
// renamed), so a test may poll for it and read it at once.
func Ready(path string) {
	pid := os.Getpid()
	if path != "" {
		if err := writeAtomic(path, strconv.Itoa(pid)+"\n"); err != nil {
			Fatal("readyfile: %v", err)
		}
	}
	fmt.Printf("ready pid=%d\n", pid)
}

func writeAtomic(path, data string) error {
	tmp := fmt.Sprintf("%s.tmp.%d", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
