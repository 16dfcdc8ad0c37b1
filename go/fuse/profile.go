// SPDX-License-Identifier: GPL-2.0

package fuse

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

// profileTime is the TIME of heap-PID-TIME.pb.gz: sortable, no colons.
const profileTime = "20060102T150405.000Z"

// state is fuse-PID.json; the package doc describes it.
type state struct {
	PID     int    `json:"pid"`
	Time    string `json:"time"`
	Profile string `json:"profile"`
	Signal  int    `json:"signal"`
	Fuses   int    `json:"fuses"`
}

// writeProfile writes the heap profile and returns its path.
func (f *Fuse) writeProfile(now time.Time) (string, error) {
	dir := f.opt.ProfileDir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("fuse: heap profile: %w", err)
	}
	name := fmt.Sprintf("heap-%d-%s.pb.gz", f.pid, now.UTC().Format(profileTime))
	path := filepath.Join(dir, name)
	// A heap profile is as of the last collection whose sweep is done,
	// up to two cycles old: without one here, the newest part of a leak
	// would be missing.  Once a MinInterval, and garbage goes too.
	runtime.GC()
	err := writeAtomic(path, func(w *os.File) error {
		return pprof.Lookup("heap").WriteTo(w, 0)
	})
	if err != nil {
		return "", fmt.Errorf("fuse: heap profile: %w", err)
	}
	return path, nil
}

// writeState replaces fuse-PID.json with the newest profile.
func (f *Fuse) writeState(now time.Time, profile string) error {
	b, err := json.Marshal(state{
		PID:     f.pid,
		Time:    now.UTC().Format(time.RFC3339),
		Profile: profile,
		Signal:  f.signalNum,
		Fuses:   f.seq,
	})
	if err != nil {
		return fmt.Errorf("fuse: state file: %w", err)
	}
	b = append(b, '\n')
	path := filepath.Join(f.opt.ProfileDir, fmt.Sprintf("fuse-%d.json", f.pid))
	err = writeAtomic(path, func(w *os.File) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("fuse: state file: %w", err)
	}
	return nil
}

// writeAtomic writes path through a temporary file in the same directory
// and a rename: a reader sees the old file or the whole new one, and a
// failed write leaves nothing behind.
func writeAtomic(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o640)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
