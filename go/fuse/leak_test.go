// SPDX-License-Identifier: GPL-2.0

package fuse

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// goTool is the go command of the toolchain running the tests.
func goTool(t *testing.T) string {
	t.Helper()
	g := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(g); err != nil {
		t.Skipf("no go command beside the toolchain: %v", err)
	}
	return g
}

// The profile a fuse writes names the leak: internal/leaky leaks 32 MiB
// through leakyCache and churns as much through churn, profiling every
// allocation; after its fuse, go tool pprof must put leakyCache first in
// inuse_space with at least 95% of those 32 MiB (the fuse's collection
// makes the profile current), and churn not in the top three.
func TestLeakNamedInProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs internal/leaky")
	}
	gocmd := goTool(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "leaky")
	build := exec.Command(gocmd, "build", "-o", bin, "./internal/leaky")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	dir := filepath.Join(tmp, "heap")
	cmd := exec.Command(bin, "-dir", dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || lines.Text() != "ready" {
			cmd.Process.Kill()
			exited <- cmd.Wait()
			return
		}
		cmd.Process.Signal(syscall.SIGUSR1)
		for lines.Scan() {
			var r struct {
				Profile string
				Errs    []string
			}
			if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
				t.Errorf("leaky said %q: %v", lines.Text(), err)
				continue
			}
			if r.Profile == "" || len(r.Errs) != 0 {
				t.Errorf("leaky's fuse: %s", lines.Text())
			}
		}
		exited <- cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("leaky never got ready or failed: %v", err)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("leaky still running after 2 minutes")
	}
	profiles, err := filepath.Glob(filepath.Join(dir, "heap-*.pb.gz"))
	if err != nil || len(profiles) != 1 {
		t.Fatalf("profiles in %s: %v %v, want one", dir, profiles, err)
	}
	checkHeapProfile(t, profiles[0])

	top := exec.Command(gocmd, "tool", "pprof", "-top", "-sample_index=inuse_space", bin, profiles[0])
	out, err := top.Output()
	if err != nil {
		t.Fatalf("go tool pprof: %v", err)
	}
	entries := pprofEntries(string(out))
	if len(entries) > 3 {
		entries = entries[:3]
	}
	t.Logf("inuse_space, top entries:\n%s", strings.Join(entries, "\n"))
	const leaked = 32 << 20
	if len(entries) == 0 || !strings.HasSuffix(entries[0], " main.leakyCache") {
		t.Errorf("leakyCache not first; pprof said:\n%s", out)
	} else if flat, err := pprofBytes(strings.Fields(entries[0])[0]); err != nil || flat < leaked*95/100 {
		t.Errorf("leakyCache holds %d bytes (%v) of the %d leaked", flat, err, leaked)
	}
	for _, e := range entries {
		if strings.HasSuffix(e, " main.churn") {
			t.Errorf("churn in the top three: %s", e)
		}
	}
}

// pprofBytes reads pprof's 33554.43kB or 32MB (units of 1024).
func pprofBytes(s string) (int64, error) {
	mult := int64(1)
	for i, u := range []string{"kB", "MB", "GB"} {
		if strings.HasSuffix(s, u) {
			s = strings.TrimSuffix(s, u)
			mult = 1 << (10 * (i + 1))
			break
		}
	}
	s = strings.TrimSuffix(s, "B")
	v, err := strconv.ParseFloat(s, 64)
	return int64(v * float64(mult)), err
}

// pprofEntries are the lines of pprof -top output after the header, the
// one starting "flat".
func pprofEntries(out string) []string {
	var entries []string
	header := true
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if header {
			header = !strings.HasPrefix(l, "flat ")
			continue
		}
		if l != "" {
			entries = append(entries, l)
		}
	}
	return entries
}
