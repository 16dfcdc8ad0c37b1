// SPDX-License-Identifier: GPL-2.0

package fuse

import (
	"math"
	"runtime/debug"
)

// currentMemoryLimit reads the Go memory limit without changing it.
func currentMemoryLimit() int64 {
	return debug.SetMemoryLimit(-1)
}

// lowerMemoryLimit applies Options.MemoryLimit and MemoryLimitFraction,
// never raising the limit; it returns the limit before and after.
func (f *Fuse) lowerMemoryLimit() (before, after int64) {
	before = currentMemoryLimit()
	target := before
	if f.opt.MemoryLimit > 0 && f.opt.MemoryLimit < target {
		target = f.opt.MemoryLimit
	}
	if f.opt.MemoryLimitFraction > 0 && f.armLimit != math.MaxInt64 {
		if v := int64(float64(f.armLimit) * f.opt.MemoryLimitFraction); v < target {
			target = v
		}
	}
	if target == before {
		return before, before
	}
	debug.SetMemoryLimit(target)
	return before, target
}
