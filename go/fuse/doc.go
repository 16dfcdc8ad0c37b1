// SPDX-License-Identifier: GPL-2.0

// Package fuse is the Go side of gomemguard's signal fuse.
//
// gomemguard can send a signal to a tagged process when its memory crosses
// its soft limit (gomemctl tag PID --soft-limit 1.5G --signal USR1).  A Go
// program that has not asked for that signal with os/signal ignores it if
// it is SIGUSR1 or SIGUSR2 and exits if it is SIGTERM, SIGHUP or SIGINT --
// either way the moment is lost.  One that calls Arm at start uses it, since
// it may be the last chance to see what is leaking:
//
//	f, err := fuse.Arm(fuse.Options{
//		Signal:              syscall.SIGUSR1,
//		ProfileDir:          "/var/lib/myservice/heap",
//		MinInterval:         time.Minute,
//		MemoryLimitFraction: 0.8,
//		OnFuse:              []func(fuse.Event){cache.Drop, server.ShedLoad},
//		OnError:             func(err error) { log.Print(err) },
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer f.Stop()
//
// On each signal one goroutine, in this order:
//
//  1. runs a garbage collection and writes a heap profile (runtime/pprof
//     "heap", a gzipped pprof proto) into ProfileDir, unless one was
//     written less than MinInterval ago (Event.ProfileSkipped says so);
//  2. lowers the Go memory limit (runtime/debug.SetMemoryLimit) if Options
//     ask for it -- never raises it;
//  3. runs the OnFuse callbacks, one after the other, with the Event.
//
// The profile comes first because the callbacks are there to free memory:
// once a dropped cache has been collected, the profile would no longer
// show it.  The collection first is there because a Go heap profile shows
// the heap as of the last collection, or the one before: without it the
// newest part of a leak would be missing.  Signals that arrive while a fuse
// is being handled are folded into one more fuse.
//
// Nothing here panics or exits: a directory that cannot be written, a
// profile that cannot be encoded or a callback that panics becomes an error
// in Event.Errs and a call of OnError; the remaining steps still run.
//
// # Files in ProfileDir
//
// Profiles are named heap-PID-TIME.pb.gz, TIME in UTC as
// 20060102T150405.000Z, and are written under a temporary name and renamed,
// so a file with that name is always complete.  Read one with
//
//	go tool pprof -top -sample_index=inuse_space heap-4711-20240501T031502.118Z.pb.gz
//
// After each profile, the file fuse-PID.json next to it is replaced
// (atomically, by rename) with one JSON object naming the newest profile
// of that process:
//
//	{"pid":4711,"time":"2024-05-01T03:15:02Z","profile":"/var/lib/myservice/heap/heap-4711-20240501T031502.118Z.pb.gz","signal":10,"fuses":3}
//
//	pid      the process ID as the process itself sees it (its own PID
//	         namespace; inside a container not the host's)
//	time     when the profile was written, RFC 3339, UTC, whole seconds
//	profile  the profile's absolute path
//	signal   the fuse's signal number
//	fuses    how many fuses this process had handled, this one included
//
// A tool naming the last profile of a killed process reads fuse-PID.json
// for that PID and compares time with the kill: PIDs are reused.  Keys may
// be added; none will change meaning.  Nothing here removes old profiles.
package fuse
