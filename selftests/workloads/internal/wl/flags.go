// SPDX-License-Identifier: GPL-2.0

// Package wl holds what the Go workloads share: size and duration flags
// that read like the C workloads' ones, the ready file, the SIGUSR1 log and
// the paced leak loop.
package wl

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// ParseSize reads a byte count: a whole number with an optional binary
// suffix K, M, G or T (any case, optionally followed by "iB" or "B"), so
// "8M", "512k", "1GiB" and "4096" all parse. wl.c's wl_parse_size accepts
// the same language.
func ParseSize(s string) (int64, error) {
	num := strings.ToLower(s)
	needUnit := false
	if strings.HasSuffix(num, "ib") {
		num, needUnit = num[:len(num)-2], true
	} else if strings.HasSuffix(num, "b") {
		num = num[:len(num)-1]
	}
	shift := 0
	if n := len(num); n > 0 {
		// K is 1 << 10, M 1 << 20, ...; no suffix (-1) gives 0.
		shift = strings.IndexByte("kmgt", num[n-1])*10 + 10
		if shift > 0 {
			num = num[:n-1]
		}
	}
	if shift == 0 && needUnit {
		return 0, fmt.Errorf("bad size %q", s)
	}
	v, err := strconv.ParseUint(num, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	if v > math.MaxInt64>>shift {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return int64(v) << shift, nil
}

// Size is a flag.Value holding a byte count given as ParseSize reads it.
type Size int64

// String gives the largest exact unit, so defaults print as "8M".
func (z *Size) String() string {
	if z == nil {
		return "0"
	}
	v, unit := int64(*z), 0
	for v != 0 && v%1024 == 0 && unit < 4 {
		v, unit = v/1024, unit+1
	}
	return strconv.FormatInt(v, 10) + []string{"", "K", "M", "G", "T"}[unit]
}

// Set implements flag.Value.
func (z *Size) Set(s string) error {
	v, err := ParseSize(s)
	if err != nil {
		return err
	}
	*z = Size(v)
	return nil
}

// ParseDuration reads a duration in Go's syntax ("100ms", "2s", "1m30s"),
// or a bare number of seconds ("2", "0.5"), as wl_parse_duration does.
func ParseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || f*1e9 > math.MaxInt64 || math.IsNaN(f) {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(f * 1e9), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

// Duration is a flag.Value holding a duration given as ParseDuration reads
// it.
type Duration time.Duration

func (d *Duration) String() string { return time.Duration(*d).String() }

// Set implements flag.Value.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// GCPercent is a flag.Value for -gogc: a percentage or "off", applied with
// Apply. Unset, GOGC from the environment rules as usual.
type GCPercent struct {
	given   bool
	percent int
}

func (g *GCPercent) String() string {
	switch {
	case g == nil || !g.given:
		return ""
	case g.percent < 0:
		return "off"
	}
	return strconv.Itoa(g.percent)
}

// Set implements flag.Value.
func (g *GCPercent) Set(s string) error {
	if strings.EqualFold(s, "off") {
		g.given, g.percent = true, -1
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return errors.New("want a percentage or \"off\"")
	}
	g.given, g.percent = true, v
	return nil
}

// Apply sets the GC percentage if -gogc was given.
func (g *GCPercent) Apply() {
	if g.given {
		debug.SetGCPercent(g.percent)
	}
}
