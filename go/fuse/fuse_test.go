// SPDX-License-Identifier: GPL-2.0

package fuse

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary run one child scenario instead of tests.
const childEnv = "GOMEMGUARD_FUSE_CHILD"

// guard holds SIGUSR1 and SIGUSR2 for the whole run, so that a signal after
// a test's Stop cannot kill the test binary.  Tests of the default action
// run in a child without it.
var guard = make(chan os.Signal, 64)

func TestMain(m *testing.M) {
	if c := os.Getenv(childEnv); c != "" {
		os.Exit(runChild(c))
	}
	signal.Notify(guard, syscall.SIGUSR1, syscall.SIGUSR2)
	// Not UTC, so that a time left in local time shows.
	time.Local = time.FixedZone("UTC+1", 3600)
	os.Exit(m.Run())
}

const waitLimit = 10 * time.Second

// armed is a fuse under test: each Event lands in events.
type armed struct {
	*Fuse
	events chan Event
}

// arm arms opt with an OnFuse appended that records the Event; Stop at the
// test's end.
func arm(t *testing.T, opt Options) *armed {
	t.Helper()
	a := &armed{events: make(chan Event, 16)}
	opt.OnFuse = append(opt.OnFuse, func(ev Event) { a.events <- ev })
	f, err := Arm(opt)
	if err != nil {
		t.Fatalf("Arm: %v", err)
	}
	a.Fuse = f
	t.Cleanup(f.Stop)
	return a
}

// kill sends sig to the test process.
func kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatalf("kill: %v", err)
	}
}

// fire sends the fuse's signal and waits for its Event.
func (a *armed) fire(t *testing.T) Event {
	t.Helper()
	kill(t, a.opt.Signal.(syscall.Signal))
	select {
	case ev := <-a.events:
		return ev
	case <-time.After(waitLimit):
		t.Fatalf("no fuse within %v of the signal", waitLimit)
	}
	return Event{}
}

// drainGuard empties guard.
func drainGuard() {
	for {
		select {
		case <-guard:
		default:
			return
		}
	}
}

// clock is a settable clock for Options.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2024, 5, 1, 3, 15, 2, 118e6, time.UTC).In(time.Local)}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setMemoryLimit sets the Go memory limit for one test.
func setMemoryLimit(t *testing.T, limit int64) {
	old := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
}

// heapProfiles lists the heap profiles in dir.
func heapProfiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "heap-*.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCallbacksRunInOrder(t *testing.T) {
	var order []int
	before := time.Now()
	a := arm(t, Options{
		Signal: syscall.SIGUSR2,
		OnFuse: []func(Event){
			func(Event) { order = append(order, 1) },
			func(Event) { order = append(order, 2) },
		},
	})
	for seq := 1; seq <= 2; seq++ {
		ev := a.fire(t)
		if ev.Seq != seq || ev.Signal != syscall.SIGUSR2 {
			t.Errorf("fuse %d: Seq %d, Signal %v", seq, ev.Seq, ev.Signal)
		}
		if ev.Time.Location() != time.UTC || ev.Time.Before(before) || ev.Time.After(time.Now()) {
			t.Errorf("fuse %d: Time %v not UTC between %v and now", seq, ev.Time, before)
		}
		if ev.Profile != "" || ev.ProfileSkipped || len(ev.Errs) != 0 {
			t.Errorf("fuse %d without ProfileDir: %+v", seq, ev)
		}
	}
	// The recording callback ran after both: order is settled.
	if got := fmtInts(order); got != "1 2 1 2" {
		t.Errorf("callbacks ran in order %s, want 1 2 1 2", got)
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

func TestProfileAndStateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	before := time.Now().Truncate(time.Second)
	a := arm(t, Options{ProfileDir: dir})
	ev := a.fire(t)
	after := time.Now()
	if len(ev.Errs) != 0 {
		t.Fatalf("errors: %v", ev.Errs)
	}
	pid := os.Getpid()
	name := regexp.MustCompile(`^heap-` + strconv.Itoa(pid) + `-\d{8}T\d{6}\.\d{3}Z\.pb\.gz$`)
	if filepath.Dir(ev.Profile) != dir || !name.MatchString(filepath.Base(ev.Profile)) {
		t.Errorf("profile %q: not heap-PID-TIME.pb.gz in %s", ev.Profile, dir)
	}
	checkHeapProfile(t, ev.Profile)

	// Nothing else: no temporary file left behind.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"fuse-" + strconv.Itoa(pid) + ".json", filepath.Base(ev.Profile)}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("%s holds %v, want %v", dir, names, want)
	}

	st := readState(t, dir)
	if int(st["pid"].(float64)) != pid || st["profile"] != ev.Profile ||
		int(st["signal"].(float64)) != int(syscall.SIGUSR1) || st["fuses"].(float64) != 1 {
		t.Errorf("state %v", st)
	}
	ts, _ := st["time"].(string)
	tm, err := time.Parse(time.RFC3339, ts)
	if err != nil || !strings.HasSuffix(ts, "Z") || tm.Before(before) || tm.After(after) {
		t.Errorf("state time %q (%v): not RFC 3339 UTC between %v and %v", ts, err, before, after)
	}
}

func TestRelativeProfileDir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if err := os.Chdir(tmp); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	a := arm(t, Options{ProfileDir: "heap"})
	if err := os.Chdir(wd); err != nil {
		t.Fatal(err)
	}
	ev := a.fire(t)
	if filepath.Dir(ev.Profile) != filepath.Join(tmp, "heap") {
		t.Errorf("profile %q: not in %s/heap, the directory at Arm", ev.Profile, tmp)
	}
	if st := readState(t, filepath.Join(tmp, "heap")); st["profile"] != ev.Profile {
		t.Errorf("state names %v, not %s", st["profile"], ev.Profile)
	}
}

// readState reads the test process's fuse-PID.json in dir, checking it has
// the documented keys and no others.
func readState(t *testing.T, dir string) map[string]interface{} {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "fuse-"+strconv.Itoa(os.Getpid())+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]interface{}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state file %q: %v", b, err)
	}
	for _, k := range []string{"pid", "time", "profile", "signal", "fuses"} {
		if _, ok := st[k]; !ok {
			t.Errorf("state file %s: no %q", b, k)
		}
	}
	if len(st) != 5 {
		t.Errorf("state file %s: not the 5 documented keys", b)
	}
	return st
}

func TestRateLimit(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	a := arm(t, Options{ProfileDir: dir, MinInterval: time.Hour, now: clk.now})

	first := a.fire(t)
	want := fmt.Sprintf("heap-%d-20240501T031502.118Z.pb.gz", os.Getpid())
	if filepath.Base(first.Profile) != want || first.ProfileSkipped {
		t.Fatalf("first fuse: profile %q, want %s: %+v", first.Profile, want, first)
	}
	if st := readState(t, dir); st["time"] != "2024-05-01T03:15:02Z" {
		t.Errorf("state time %v, want 2024-05-01T03:15:02Z", st["time"])
	}
	clk.advance(time.Hour - time.Millisecond)
	second := a.fire(t)
	if second.Profile != "" || !second.ProfileSkipped || second.LastProfile != first.Profile {
		t.Errorf("second fuse inside the interval: %+v", second)
	}
	if n := len(heapProfiles(t, dir)); n != 1 {
		t.Errorf("%d profiles after two fuses inside the interval, want 1", n)
	}
	if st := readState(t, dir); st["profile"] != first.Profile || st["fuses"].(float64) != 1 {
		t.Errorf("state after a skipped profile: %v", st)
	}

	clk.advance(time.Millisecond)
	third := a.fire(t)
	if third.Profile == "" || third.Profile == first.Profile || third.ProfileSkipped {
		t.Errorf("third fuse, an interval after the first: %+v", third)
	}
	if n := len(heapProfiles(t, dir)); n != 2 {
		t.Errorf("%d profiles after the interval, want 2", n)
	}
	if st := readState(t, dir); st["profile"] != third.Profile || st["fuses"].(float64) != 3 {
		t.Errorf("state after the third fuse: %v", st)
	}
}

func TestRateLimitRealClock(t *testing.T) {
	dir := t.TempDir()
	a := arm(t, Options{ProfileDir: dir, MinInterval: time.Hour})
	a.fire(t)
	if ev := a.fire(t); !ev.ProfileSkipped {
		t.Errorf("second fuse at once: %+v", ev)
	}
	if n := len(heapProfiles(t, dir)); n != 1 {
		t.Errorf("%d profiles, want 1", n)
	}
}

func TestNoMinInterval(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	a := arm(t, Options{ProfileDir: dir, MinInterval: -1, now: clk.now})
	for i := 0; i < 3; i++ {
		if ev := a.fire(t); ev.Profile == "" {
			t.Errorf("fuse %d: no profile: %+v", i+1, ev)
		}
		clk.advance(time.Millisecond)
	}
	if n := len(heapProfiles(t, dir)); n != 3 {
		t.Errorf("%d profiles, want 3", n)
	}
}

func TestMemoryLimitFraction(t *testing.T) {
	setMemoryLimit(t, 1<<30)
	a := arm(t, Options{MemoryLimitFraction: 0.5})
	ev := a.fire(t)
	if ev.MemoryLimitBefore != 1<<30 || ev.MemoryLimitAfter != 512<<20 {
		t.Errorf("limit %d -> %d, want 1 GiB -> 512 MiB", ev.MemoryLimitBefore, ev.MemoryLimitAfter)
	}
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("limit now %d, want 512 MiB", got)
	}
	// Half the limit at Arm again, not half of half.
	ev = a.fire(t)
	if ev.MemoryLimitBefore != 512<<20 || ev.MemoryLimitAfter != 512<<20 {
		t.Errorf("second fuse: limit %d -> %d, want 512 MiB unchanged", ev.MemoryLimitBefore, ev.MemoryLimitAfter)
	}
}

func TestMemoryLimitAbsolute(t *testing.T) {
	for _, tc := range []struct {
		name     string
		limit    int64
		fraction float64
		want     int64
	}{
		{"absolute", 256 << 20, 0, 256 << 20},
		{"lower of both, absolute", 100 << 20, 0.5, 100 << 20},
		{"lower of both, fraction", 900 << 20, 0.25, 256 << 20},
		{"never raised", 2 << 30, 0, 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setMemoryLimit(t, 1<<30)
			a := arm(t, Options{MemoryLimit: tc.limit, MemoryLimitFraction: tc.fraction})
			ev := a.fire(t)
			if got := debug.SetMemoryLimit(-1); got != tc.want || ev.MemoryLimitAfter != tc.want {
				t.Errorf("limit %d (Event: %d), want %d", got, ev.MemoryLimitAfter, tc.want)
			}
		})
	}
}

func TestMemoryLimitFractionWithoutLimit(t *testing.T) {
	setMemoryLimit(t, math.MaxInt64)
	a := arm(t, Options{MemoryLimitFraction: 0.5})
	setMemoryLimit(t, 1<<30)
	if ev := a.fire(t); ev.MemoryLimitAfter != 1<<30 {
		t.Errorf("no limit at Arm: limit lowered to %d", ev.MemoryLimitAfter)
	}
}

func TestUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var reported []error
	ran := 0
	a := arm(t, Options{
		ProfileDir: filepath.Join(file, "heap"),
		OnError:    func(err error) { reported = append(reported, err) },
		OnFuse:     []func(Event){func(Event) { ran++ }},
	})
	for i := 1; i <= 2; i++ {
		ev := a.fire(t)
		if len(ev.Errs) != 1 || !errors.Is(ev.Errs[0], syscall.ENOTDIR) || ev.Profile != "" {
			t.Errorf("fuse %d: %+v, want one ENOTDIR", i, ev)
		}
		// A failed profile does not start the interval: each fuse tries.
		if ev.ProfileSkipped {
			t.Errorf("fuse %d: skipped after a failure", i)
		}
	}
	if len(reported) != 2 || ran != 2 {
		t.Errorf("OnError called %d times, OnFuse %d, want 2 and 2", len(reported), ran)
	}
}

func TestCallbackPanic(t *testing.T) {
	var reported []error
	a := arm(t, Options{
		OnError: func(err error) { reported = append(reported, err) },
		OnFuse: []func(Event){
			func(Event) { panic("shedding failed") },
			func(Event) {},
		},
	})
	ev := a.fire(t)
	if len(ev.Errs) != 1 || !strings.Contains(ev.Errs[0].Error(), "OnFuse[0] panicked: shedding failed") {
		t.Errorf("Errs %v", ev.Errs)
	}
	first := ev.Errs
	if ev = a.fire(t); ev.Seq != 2 {
		t.Errorf("the fuse did not survive the panic: %+v", ev)
	}
	// Read only now: the race detector sees no order in a signal.
	if len(reported) != 2 || len(first) != 1 || reported[0] != first[0] {
		t.Errorf("OnError got %v", reported)
	}
}

func TestArmRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Options
	}{
		{"SIGKILL", Options{Signal: syscall.SIGKILL}},
		{"SIGSTOP", Options{Signal: syscall.SIGSTOP}},
		{"not a syscall.Signal", Options{Signal: fakeSignal{}}},
		{"negative limit", Options{MemoryLimit: -1}},
		{"fraction 1", Options{MemoryLimitFraction: 1}},
		{"negative fraction", Options{MemoryLimitFraction: -0.5}},
	} {
		if f, err := Arm(tc.opt); err == nil {
			f.Stop()
			t.Errorf("%s: armed", tc.name)
		}
	}
}

type fakeSignal struct{}

func (fakeSignal) String() string { return "fake" }
func (fakeSignal) Signal()        {}

func TestStopEndsCallbacks(t *testing.T) {
	a := arm(t, Options{})
	a.fire(t)
	a.Stop()
	a.Stop()
	drainGuard()
	kill(t, syscall.SIGUSR1)
	select {
	case <-guard:
	case <-time.After(waitLimit):
		t.Fatal("the signal never arrived")
	}
	select {
	case ev := <-a.events:
		t.Errorf("fuse after Stop: %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

// Signals while Stop runs: no callback starts once Stop has returned.
func TestStopRace(t *testing.T) {
	var mu sync.Mutex
	stopped, late, fuses := false, 0, 0
	f, err := Arm(Options{Signal: syscall.SIGUSR2, OnFuse: []func(Event){func(Event) {
		mu.Lock()
		defer mu.Unlock()
		fuses++
		if stopped {
			late++
		}
	}}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			syscall.Kill(os.Getpid(), syscall.SIGUSR2)
			time.Sleep(100 * time.Microsecond)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	f.Stop()
	mu.Lock()
	stopped = true
	mu.Unlock()
	<-done
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if late != 0 || fuses == 0 {
		t.Errorf("%d fuses, %d after Stop returned", fuses, late)
	}
}

// Go's default action after Stop, in children without guard: SIGTERM
// makes a process whose fuse on it was stopped exit, SIGUSR1 does nothing
// to one whose fuse on it was stopped, and a program's own signal.Notify
// keeps its signal.  The "armed" children are the controls.
func TestStopGivesSignalBack(t *testing.T) {
	for _, tc := range []struct {
		child  string
		killed syscall.Signal
	}{
		{"stopped-term", syscall.SIGTERM},
		{"armed-term", 0},
		{"stopped-usr1", 0},
		{"armed-usr1", 0},
		{"notified-usr1", 0},
	} {
		t.Run(tc.child, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+tc.child)
			out, err := cmd.CombinedOutput()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			var killed syscall.Signal
			if ws.Signaled() {
				killed = ws.Signal()
			}
			if killed != tc.killed || (killed == 0 && err != nil) {
				t.Errorf("child %s: %v (killed by %d, want %d), output %q",
					tc.child, err, killed, tc.killed, out)
			}
		})
	}
}

// runChild runs a scenario of TestStopGivesSignalBack, named what-signal;
// 0 if the child saw what it should.
func runChild(name string) int {
	what, signame, _ := strings.Cut(name, "-")
	sig := syscall.SIGUSR1
	if signame == "term" {
		sig = syscall.SIGTERM
	}
	var own chan os.Signal
	if what == "notified" {
		own = make(chan os.Signal, 1)
		signal.Notify(own, sig)
	}
	fired := make(chan Event, 1)
	f, err := Arm(Options{Signal: sig, OnFuse: []func(Event){func(ev Event) { fired <- ev }}})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 2
	}
	if what != "armed" {
		f.Stop()
	}
	syscall.Kill(os.Getpid(), sig)
	timeout := time.After(time.Second)
	select {
	case <-fired:
		if what != "armed" {
			os.Stderr.WriteString("fuse after Stop\n")
			return 3
		}
		return 0
	case <-own:
		return 0
	case <-timeout:
	}
	if what == "stopped" && sig == syscall.SIGUSR1 {
		return 0
	}
	os.Stderr.WriteString("the signal did not do what it should\n")
	return 4
}
