// SPDX-License-Identifier: GPL-2.0

package fuse

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

// checkHeapProfile fails t unless path is a gzipped pprof Profile message
// with samples whose types include inuse_space.
func checkHeapProfile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s: no gzip magic", path)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	types, samples, err := parseProfile(raw)
	if err != nil {
		t.Fatalf("%s: not a pprof profile: %v", path, err)
	}
	want := "[alloc_objects alloc_space inuse_objects inuse_space]"
	if fmt.Sprint(types) != want || samples == 0 {
		t.Errorf("%s: sample types %v, %d samples; want %s and samples", path, types, samples, want)
	}
}

// parseProfile reads the parts of a profile.proto Profile it needs: the
// names of the sample types (field 1, ValueType.type indexing field 6, the
// string table) and the number of samples (field 2).
func parseProfile(b []byte) (types []string, samples int, err error) {
	var typeIdx []uint64
	var strs []string
	err = walkProto(b, func(field int, v uint64, data []byte) error {
		switch field {
		case 1:
			return walkProto(data, func(f int, v uint64, _ []byte) error {
				if f == 1 {
					typeIdx = append(typeIdx, v)
				}
				return nil
			})
		case 2:
			samples++
		case 6:
			strs = append(strs, string(data))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for _, i := range typeIdx {
		if i >= uint64(len(strs)) {
			return nil, 0, fmt.Errorf("sample type string %d of %d", i, len(strs))
		}
		types = append(types, strs[i])
	}
	return types, samples, nil
}

// walkProto calls fn for each field of a protobuf message: varints with v,
// length-delimited fields with data; fixed-size ones are skipped.
func walkProto(b []byte, fn func(field int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errors.New("bad key")
		}
		b = b[n:]
		field := int(key >> 3)
		var v uint64
		var data []byte
		switch key & 7 {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return errors.New("bad varint")
			}
			b = b[n:]
		case 1, 5:
			size := 8
			if key&7 == 5 {
				size = 4
			}
			if len(b) < size {
				return errors.New("short fixed field")
			}
			b = b[size:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errors.New("bad length")
			}
			data = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			return fmt.Errorf("wire type %d", key&7)
		}
		if err := fn(field, v, data); err != nil {
			return err
		}
	}
	return nil
}

func TestParseProfileRejects(t *testing.T) {
	for _, b := range [][]byte{{0x0a, 0x05, 0x01}, {0xff}, {0x0b}} {
		if _, _, err := parseProfile(b); err == nil {
			t.Errorf("% x parsed", b)
		}
	}
}
