// SPDX-License-Identifier: GPL-2.0

package wl

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"0": 0, "4096": 4096, "8M": 8 << 20, "512k": 512 << 10, "1G": 1 << 30,
		"2T": 2 << 40, "1GiB": 1 << 30, "3MB": 3 << 20, "100B": 100, "7kb": 7 << 10,
	}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1", "1.5M", "8X", "8iB", "1Q", "9999999T", "0x10", " 7K", "8Mi"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestSizeString(t *testing.T) {
	for in, want := range map[Size]string{0: "0", 1000: "1000", 4096: "4K", 8 << 20: "8M", 3 << 40: "3T", 1 << 50: "1024T"} {
		if got := in.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(in), got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"0": 0, "2": 2 * time.Second, "0.5": 500 * time.Millisecond,
		"100ms": 100 * time.Millisecond, "1m30s": 90 * time.Second,
	}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "-2s", "fast", "1x", "inf", "NaN", " 2s"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}
