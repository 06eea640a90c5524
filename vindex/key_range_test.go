package vindex

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseKeyRangeRoundTrip(t *testing.T) {
	cases := []struct {
		in, want   string
		start, end []byte
	}{
		{"-", "-", nil, nil},
		{"", "-", nil, nil},
		{"0", "-", nil, nil},
		{"-80", "-80", nil, []byte{0x80}},
		{"80-", "80-", []byte{0x80}, nil},
		{"40-80", "40-80", []byte{0x40}, []byte{0x80}},
		{"-40", "-40", nil, []byte{0x40}},
		{"c0-", "c0-", []byte{0xc0}, nil},
		{"C0-", "c0-", []byte{0xc0}, nil},
		{"8A-Bc", "8a-bc", []byte{0x8a}, []byte{0xbc}},
		{"00-", "00-", []byte{0x00}, nil},
		{"-ff", "-ff", nil, []byte{0xff}},
		{"80-8000", "80-8000", []byte{0x80}, []byte{0x80, 0x00}},
		{"0080-0100", "0080-0100", []byte{0x00, 0x80}, []byte{0x01, 0x00}},
		{"-5555555555555555", "-5555555555555555", nil, []byte{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55}},
		{"166b40b44aba4bd6-166b40b44aba4bd7", "166b40b44aba4bd6-166b40b44aba4bd7",
			[]byte{0x16, 0x6b, 0x40, 0xb4, 0x4a, 0xba, 0x4b, 0xd6}, []byte{0x16, 0x6b, 0x40, 0xb4, 0x4a, 0xba, 0x4b, 0xd7}},
	}
	for _, c := range cases {
		r, err := ParseKeyRange(c.in)
		if err != nil {
			t.Errorf("ParseKeyRange(%q): got error %v, want %s", c.in, err, c.want)
			continue
		}
		if !bytes.Equal(r.Start, c.start) || !bytes.Equal(r.End, c.end) {
			t.Errorf("ParseKeyRange(%q): got {%x %x}, want {%x %x}", c.in, r.Start, r.End, c.start, c.end)
		}
		if (len(r.Start) == 0) != (r.Start == nil) || (len(r.End) == 0) != (r.End == nil) {
			t.Errorf("ParseKeyRange(%q): got {%#v %#v}, want unbounded ends as nil", c.in, r.Start, r.End)
		}
		if got := r.String(); got != c.want {
			t.Errorf("ParseKeyRange(%q).String(): got %q, want %q", c.in, got, c.want)
		}
		again, err := ParseKeyRange(r.String())
		if err != nil || again.String() != r.String() {
			t.Errorf("ParseKeyRange(%q) again: got %v, %v, want %s", r.String(), again, err, r)
		}
		if got, want := r.IsFull(), c.want == "-"; got != want {
			t.Errorf("ParseKeyRange(%q).IsFull(): got %v, want %v", c.in, got, want)
		}
	}
}

func TestParseKeyRangeErrors(t *testing.T) {
	for _, in := range []string{
		"80", "1", "x", "--", "-80-", "40-80-c0", "8-", "-8", "080-", "zz-", "-zz", "0x80-",
		" -80", "-80 ", "80-40", "80-80", "80-7fff", "8000-80", "ff-00", "+80-", "٨٠-",
	} {
		r, err := ParseKeyRange(in)
		if err == nil {
			t.Errorf("ParseKeyRange(%q): got %s, want error", in, r)
			continue
		}
		if !errors.Is(err, ErrInvalidKeyRange) {
			t.Errorf("ParseKeyRange(%q): got %v, want error wrapping ErrInvalidKeyRange", in, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", in)) {
			t.Errorf("ParseKeyRange(%q): got error %q, want it to quote the input", in, err)
		}
	}
}

func mustKeyRange(t testing.TB, s string) KeyRange {
	t.Helper()
	r, err := ParseKeyRange(s)
	if err != nil {
		t.Fatalf("ParseKeyRange(%q): %v", s, err)
	}
	return r
}

func TestKeyRangeContains(t *testing.T) {
	cases := []struct {
		r    string
		id   KeyspaceID
		want bool
	}{
		{"-", nil, true},
		{"-", KeyspaceID{}, true},
		{"-", KeyspaceID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true},
		{"-80", KeyspaceID{0x00, 0, 0, 0, 0, 0, 0, 0}, true},
		{"-80", KeyspaceID{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true},
		{"-80", KeyspaceID{0x80}, false},
		{"-80", KeyspaceID{0x80, 0, 0, 0, 0, 0, 0, 0}, false},
		{"-80", nil, true},
		{"80-", KeyspaceID{0x80}, true},
		{"80-", KeyspaceID{0x80, 0, 0, 0, 0, 0, 0, 0}, true},
		{"80-", KeyspaceID{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false},
		{"80-", KeyspaceID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true},
		{"80-", nil, false},
		{"40-80", KeyspaceID{0x3f, 0xff}, false},
		{"40-80", KeyspaceID{0x40}, true},
		{"40-80", KeyspaceID{0x40, 0x00}, true},
		{"40-80", KeyspaceID{0x7f, 0xff, 0xff}, true},
		{"40-80", KeyspaceID{0x80}, false},
		{"40-80", KeyspaceID{0x80, 0x00}, false},
		// Bytewise: a shorter id sorts before a longer one with its prefix.
		{"8000-", KeyspaceID{0x80}, false},
		{"-8000", KeyspaceID{0x80}, true},
		// hash(1) = 166b40b44aba4bd6 lives in -20 of 8 shards, not in 20-40.
		{"-20", KeyspaceID{0x16, 0x6b, 0x40, 0xb4, 0x4a, 0xba, 0x4b, 0xd6}, true},
		{"20-40", KeyspaceID{0x16, 0x6b, 0x40, 0xb4, 0x4a, 0xba, 0x4b, 0xd6}, false},
	}
	for _, c := range cases {
		if got := mustKeyRange(t, c.r).Contains(c.id); got != c.want {
			t.Errorf("KeyRange(%q).Contains(%s): got %v, want %v", c.r, c.id, got, c.want)
		}
	}
}

func TestKeyRangeIntersects(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"-", "-", true},
		{"-", "-80", true},
		{"-", "80-", true},
		{"-", "40-80", true},
		{"-80", "80-", false},
		{"-80", "-80", true},
		{"-80", "-40", true},
		{"-80", "40-80", true},
		{"-80", "7f-", true},
		{"-80", "80-c0", false},
		{"-80", "8000-", false},
		{"-8000", "80-", true}, // [80] is in both
		{"40-80", "80-c0", false},
		{"40-80", "60-a0", true},
		{"40-80", "00-40", false},
		{"40-80", "00-41", true},
		{"40-80", "20-c0", true},
		{"40-80", "50-60", true},
		{"c0-", "80-", true},
		{"c0-", "80-c0", false},
	}
	for _, c := range cases {
		a, b := mustKeyRange(t, c.a), mustKeyRange(t, c.b)
		if got := a.Intersects(b); got != c.want {
			t.Errorf("KeyRange(%q).Intersects(%q): got %v, want %v", c.a, c.b, got, c.want)
		}
		if got := b.Intersects(a); got != c.want {
			t.Errorf("KeyRange(%q).Intersects(%q): got %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

func TestKeyRangeIsFull(t *testing.T) {
	if !(KeyRange{}).IsFull() {
		t.Errorf("KeyRange{}.IsFull(): got false, want true")
	}
	if !(KeyRange{Start: []byte{}, End: []byte{}}).IsFull() {
		t.Errorf("KeyRange{[]byte{}, []byte{}}.IsFull(): got false, want true")
	}
	for _, s := range []string{"-80", "80-", "40-80", "00-"} {
		if mustKeyRange(t, s).IsFull() {
			t.Errorf("KeyRange(%q).IsFull(): got true, want false", s)
		}
	}
}

func TestSplitKeyRange(t *testing.T) {
	cases := []struct {
		n    int
		want string
	}{
		{1, "-"},
		{2, "-80 80-"},
		{3, "-5555555555555555 5555555555555555-aaaaaaaaaaaaaaaa aaaaaaaaaaaaaaaa-"},
		{4, "-40 40-80 80-c0 c0-"},
		{5, "-3333333333333333 3333333333333333-6666666666666666 6666666666666666-9999999999999999 9999999999999999-cccccccccccccccc cccccccccccccccc-"},
		{6, "-2aaaaaaaaaaaaaaa 2aaaaaaaaaaaaaaa-5555555555555555 5555555555555555-8000000000000000 8000000000000000-aaaaaaaaaaaaaaaa aaaaaaaaaaaaaaaa-d555555555555555 d555555555555555-"},
		{8, "-20 20-40 40-60 60-80 80-a0 a0-c0 c0-e0 e0-"},
		{16, "-10 10-20 20-30 30-40 40-50 50-60 60-70 70-80 80-90 90-a0 a0-b0 b0-c0 c0-d0 d0-e0 e0-f0 f0-"},
	}
	for _, c := range cases {
		got := splitNames(t, c.n)
		if strings.Join(got, " ") != c.want {
			t.Errorf("SplitKeyRange(%d): got %s, want %s", c.n, strings.Join(got, " "), c.want)
		}
	}

	// 256 shards: -01, 01-02, ..., fe-ff, ff-; 512 and 65536: two bytes each,
	// as Vitess names them (-0080, 0080-0100, ..., ff80-).
	names := splitNames(t, 256)
	if got, want := strings.Join([]string{names[0], names[1], names[127], names[128], names[255]}, " "), "-01 01-02 7f-80 80-81 ff-"; got != want {
		t.Errorf("SplitKeyRange(256): got %s, want %s", got, want)
	}
	names = splitNames(t, 512)
	if got, want := strings.Join([]string{names[0], names[1], names[2], names[256], names[511]}, " "), "-0080 0080-0100 0100-0180 8000-8080 ff80-"; got != want {
		t.Errorf("SplitKeyRange(512): got %s, want %s", got, want)
	}
	names = splitNames(t, MaxSplit)
	if got, want := strings.Join([]string{names[0], names[1], names[MaxSplit/2], names[MaxSplit-1]}, " "), "-0001 0001-0002 8000-8001 ffff-"; got != want {
		t.Errorf("SplitKeyRange(%d): got %s, want %s", MaxSplit, got, want)
	}
}

// splitNames splits into n shards and checks that they tile the keyspace:
// the first starts unbounded, the last ends unbounded, each starts where the
// one before ends, and each name parses back to the same range.
func splitNames(t *testing.T, n int) []string {
	t.Helper()
	ranges, err := SplitKeyRange(n)
	if err != nil {
		t.Fatalf("SplitKeyRange(%d): %v", n, err)
	}
	if len(ranges) != n {
		t.Fatalf("SplitKeyRange(%d): got %d ranges, want %d", n, len(ranges), n)
	}
	names := make([]string, n)
	for i, r := range ranges {
		names[i] = r.String()
		if i == 0 && r.Start != nil {
			t.Errorf("SplitKeyRange(%d)[0]: got start %x, want unbounded", n, r.Start)
		}
		if i == n-1 && r.End != nil {
			t.Errorf("SplitKeyRange(%d)[%d]: got end %x, want unbounded", n, i, r.End)
		}
		if i > 0 && !bytes.Equal(r.Start, ranges[i-1].End) {
			t.Errorf("SplitKeyRange(%d)[%d]: got start %x, want the end of the one before, %x", n, i, r.Start, ranges[i-1].End)
		}
		if back, err := ParseKeyRange(names[i]); err != nil || !bytes.Equal(back.Start, r.Start) || !bytes.Equal(back.End, r.End) {
			t.Errorf("SplitKeyRange(%d)[%d] = %s: parses back as %v, %v", n, i, names[i], back, err)
		}
	}
	return names
}

func TestSplitKeyRangeErrors(t *testing.T) {
	for _, n := range []int{-1, 0, MaxSplit + 1, 1 << 40} {
		if got, err := SplitKeyRange(n); !errors.Is(err, ErrInvalidKeyRange) {
			t.Errorf("SplitKeyRange(%d): got %v, %v, want error wrapping ErrInvalidKeyRange", n, got, err)
		}
	}
}

// TestSplitKeyRangeCoversMapped checks that every keyspace id the hash-like
// vindexes give falls in exactly one shard of each split.
func TestSplitKeyRangeCoversMapped(t *testing.T) {
	var ids []KeyspaceID
	for _, typ := range functionalTypes() {
		vx := mustNew(t, typ)
		for i := int64(-500); i <= 500; i++ {
			ids = append(ids, mustMap(t, vx, i))
		}
		for _, v := range []any{uint64(1 << 63), uint64(1<<64 - 1), int64(-1 << 63), "", "abc", []byte{0x80}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
			if id, err := vx.Map(v); err == nil {
				ids = append(ids, id)
			}
		}
	}
	ids = append(ids, nil, KeyspaceID{}, KeyspaceID{0x80}, KeyspaceID{0x7f, 0xff})
	for _, n := range []int{1, 2, 3, 4, 5, 8, 16, 256, 512} {
		ranges, err := SplitKeyRange(n)
		if err != nil {
			t.Fatalf("SplitKeyRange(%d): %v", n, err)
		}
		for _, id := range ids {
			var in []string
			for _, r := range ranges {
				if r.Contains(id) {
					in = append(in, r.String())
				}
			}
			if len(in) != 1 {
				t.Errorf("SplitKeyRange(%d): keyspace id %s is in %v, want exactly one range", n, id, in)
			}
		}
	}
}

func mustMap(t testing.TB, vx Functional, v any) KeyspaceID {
	t.Helper()
	id, err := vx.Map(v)
	if err != nil {
		t.Fatalf("%s Map(%T %#v): %v", vx.Type(), v, v, err)
	}
	return id
}

func FuzzParseKeyRange(f *testing.F) {
	for _, s := range []string{"", "-", "0", "-80", "80-", "40-80", "8A-bC", "80-40", "8-", "a-b-c", "\xff-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseKeyRange(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidKeyRange) {
				t.Fatalf("ParseKeyRange(%q): got %v, want error wrapping ErrInvalidKeyRange", s, err)
			}
			return
		}
		if len(r.Start) > 0 && len(r.End) > 0 && bytes.Compare(r.Start, r.End) >= 0 {
			t.Fatalf("ParseKeyRange(%q): got start %x not below end %x", s, r.Start, r.End)
		}
		again, err := ParseKeyRange(r.String())
		if err != nil || !bytes.Equal(again.Start, r.Start) || !bytes.Equal(again.End, r.End) {
			t.Fatalf("ParseKeyRange(%q) = %s: parses back as %v, %v", s, r, again, err)
		}
		if !strings.EqualFold(r.String(), s) && s != "" && s != "0" {
			t.Fatalf("ParseKeyRange(%q).String(): got %q, want the input up to case", s, r.String())
		}
	})
}
