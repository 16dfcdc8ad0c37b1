// SPDX-License-Identifier: GPL-2.0

package fuse

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// DefaultMinInterval is the time between two heap profiles when
// Options.MinInterval is zero.
const DefaultMinInterval = time.Minute

// Options say what a fuse does.  The zero value arms a fuse on SIGUSR1
// that does nothing but keep the signal from killing the process.
type Options struct {
	// Signal is the fuse's signal, the one given to gomemctl tag
	// --signal; nil means SIGUSR1.  SIGKILL and SIGSTOP cannot be caught.
	Signal os.Signal

	// ProfileDir receives the heap profiles and fuse-PID.json; made
	// absolute by Arm, created (0750) on the first fuse if missing.
	// Empty: no profiles.
	ProfileDir string

	// MinInterval is the least time between two heap profiles: a fuse
	// within it writes none but still lowers the limit and runs the
	// callbacks.  Zero means DefaultMinInterval, negative no interval.
	MinInterval time.Duration

	// MemoryLimit, if positive, is a Go memory limit in bytes to lower the
	// limit to on a fuse.
	MemoryLimit int64

	// MemoryLimitFraction, if in (0, 1), lowers the Go memory limit on a
	// fuse to that fraction of the limit in force when Arm was called
	// (GOMEMLIMIT or SetMemoryLimit), so that repeated fuses do not
	// compound.  Ignored if no limit was set then.  With MemoryLimit as
	// well, the lower of the two wins.
	MemoryLimitFraction float64

	// OnFuse are called in order on each fuse, on the fuse's goroutine,
	// after the profile and the limit: shed load, drop caches.  A fuse
	// lasts as long as they do; a panic is recovered and reported.  They
	// must not call Stop.
	OnFuse []func(Event)

	// OnError, if set, is called with each error of a fuse, before the
	// OnFuse callbacks, on the same goroutine.
	OnError func(error)

	// now is the clock, for tests.
	now func() time.Time
}

// Event is one fuse, as the callbacks see it.
type Event struct {
	Signal os.Signal
	Time   time.Time // when the fuse was handled, UTC
	Seq    int       // 1 for the first fuse since Arm

	// Profile is the heap profile written for this fuse, "" if none.
	Profile string
	// ProfileSkipped: a profile would have been written but the previous
	// one, LastProfile, is younger than MinInterval.
	ProfileSkipped bool
	LastProfile    string

	// MemoryLimitBefore and MemoryLimitAfter are the Go memory limit
	// before and after this fuse (math.MaxInt64: none).
	MemoryLimitBefore int64
	MemoryLimitAfter  int64

	// Errs are the fuse's errors, in order; the steps after each ran
	// anyway.
	Errs []error
}

// Fuse is an armed fuse.
type Fuse struct {
	opt       Options
	sigs      chan os.Signal
	done      chan struct{}
	exited    chan struct{}
	stopOnce  sync.Once
	armLimit  int64
	seq       int
	lastTime  time.Time // of the last profile written
	lastPath  string
	pid       int
	signalNum int
}

// Arm starts a goroutine that handles opt.Signal until Stop.  It checks the
// options but touches no file: a ProfileDir that cannot be written is
// reported on the first fuse, not here.
func Arm(opt Options) (*Fuse, error) {
	if opt.Signal == nil {
		opt.Signal = syscall.SIGUSR1
	}
	sig, ok := opt.Signal.(syscall.Signal)
	if !ok {
		return nil, fmt.Errorf("fuse: signal %v is not a syscall.Signal", opt.Signal)
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGSTOP {
		return nil, fmt.Errorf("fuse: %v cannot be caught", sig)
	}
	if opt.MemoryLimit < 0 {
		return nil, errors.New("fuse: MemoryLimit is negative")
	}
	if opt.MemoryLimitFraction < 0 || opt.MemoryLimitFraction >= 1 {
		return nil, fmt.Errorf("fuse: MemoryLimitFraction %g is not in [0, 1)", opt.MemoryLimitFraction)
	}
	if opt.ProfileDir != "" {
		// fuse-PID.json is read by other processes, from elsewhere.
		dir, err := filepath.Abs(opt.ProfileDir)
		if err != nil {
			return nil, fmt.Errorf("fuse: ProfileDir: %w", err)
		}
		opt.ProfileDir = dir
	}
	if opt.MinInterval == 0 {
		opt.MinInterval = DefaultMinInterval
	}
	if opt.now == nil {
		opt.now = time.Now
	}
	opt.OnFuse = append(([]func(Event))(nil), opt.OnFuse...)
	f := &Fuse{
		opt:       opt,
		sigs:      make(chan os.Signal, 1),
		done:      make(chan struct{}),
		exited:    make(chan struct{}),
		armLimit:  currentMemoryLimit(),
		pid:       os.Getpid(),
		signalNum: int(sig),
	}
	signal.Notify(f.sigs, sig)
	go f.loop()
	return f, nil
}

// Stop disarms the fuse and waits for a fuse being handled to finish; no
// callback runs after it returns.  The signal is given back: if nothing
// else in the program asked for it with signal.Notify, it has Go's default
// action again (SIGUSR1 and SIGUSR2: none; SIGTERM: exit).  signal.Reset
// would take it from the rest of the program as well, which is not ours to
// do.  Stop may be called more than once, but not from an OnFuse callback.
func (f *Fuse) Stop() {
	f.stopOnce.Do(func() {
		signal.Stop(f.sigs)
		close(f.done)
	})
	<-f.exited
}

func (f *Fuse) loop() {
	defer close(f.exited)
	for {
		// A signal and Stop at once: Stop wins, as it was asked last.
		select {
		case <-f.done:
			return
		default:
		}
		select {
		case <-f.done:
			return
		case <-f.sigs:
			f.fire()
		}
	}
}

// fire handles one fuse: profile, limit, callbacks.
func (f *Fuse) fire() {
	f.seq++
	now := f.opt.now()
	ev := Event{
		Signal: f.opt.Signal,
		Time:   now.UTC(),
		Seq:    f.seq,
	}
	if f.opt.ProfileDir != "" {
		if f.profileDue(now) {
			path, err := f.writeProfile(now)
			if err != nil {
				ev.Errs = append(ev.Errs, err)
			} else {
				ev.Profile = path
				f.lastTime, f.lastPath = now, path
				if err := f.writeState(now, path); err != nil {
					ev.Errs = append(ev.Errs, err)
				}
			}
		} else {
			ev.ProfileSkipped = true
			ev.LastProfile = f.lastPath
		}
	}
	ev.MemoryLimitBefore, ev.MemoryLimitAfter = f.lowerMemoryLimit()
	if f.opt.OnError != nil {
		for _, err := range ev.Errs {
			f.call(func() { f.opt.OnError(err) }, "OnError", &ev)
		}
	}
	for i, cb := range f.opt.OnFuse {
		cb := cb
		f.call(func() { cb(ev) }, fmt.Sprintf("OnFuse[%d]", i), &ev)
	}
}

// profileDue: no profile yet, or the last one at least MinInterval ago.
func (f *Fuse) profileDue(now time.Time) bool {
	return f.lastPath == "" || f.opt.MinInterval < 0 ||
		now.Sub(f.lastTime) >= f.opt.MinInterval
}

// call runs fn, turning a panic into an error reported after the fact: a
// panic on the fuse's goroutine would kill the process the fuse is there
// to save.
func (f *Fuse) call(fn func(), what string, ev *Event) {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("fuse: %s panicked: %v", what, r)
			}
		}()
		fn()
	}()
	if err == nil {
		return
	}
	ev.Errs = append(ev.Errs, err)
	if f.opt.OnError != nil && what != "OnError" {
		f.call(func() { f.opt.OnError(err) }, "OnError", ev)
	}
}
