// SPDX-License-Identifier: GPL-2.0

package fuse

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
// through leakyCache and churns as much through churn; after its fuse,
// go tool pprof must put leakyCache among the top three of inuse_space and
// churn not there.
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
	var leak, churn bool
	for _, e := range entries {
		leak = leak || strings.HasSuffix(e, " main.leakyCache")
		churn = churn || strings.HasSuffix(e, " main.churn")
	}
	if !leak || churn {
		t.Errorf("leakyCache in the top 3: %v, churn: %v; pprof said:\n%s", leak, churn, out)
	}
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
