package failover

import "testing"

func TestParsePosition(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{in: "", want: ""},
		{in: "0-101-42", want: "0-*-42"},
		{in: "1-102-7,0-101-42", want: "0-*-42,1-*-7"},
		{in: " 0-101-42 , 0-102-43", want: "0-*-43"},
		{in: "0-101", err: true},
		{in: "x-101-42", err: true},
		{in: "0-101-y", err: true},
	} {
		p, err := ParsePosition(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("ParsePosition(%q): got %v, want an error", tc.in, p)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("ParsePosition(%q): got %q, %v, want %q", tc.in, p, err, tc.want)
		}
	}
}

func TestMostAdvanced(t *testing.T) {
	pos := func(s string) Position {
		p, err := ParsePosition(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		in   []string
		want int
	}{
		{in: nil, want: -1},
		{in: []string{"0-1-5"}, want: 0},
		{in: []string{"0-1-5", "0-1-7", "0-2-6"}, want: 1},
		{in: []string{"0-1-7", "0-1-7"}, want: 0},
		{in: []string{"0-1-7", "0-1-7,1-3-1"}, want: 1},
		{in: []string{"", "0-1-1"}, want: 1},
		// Diverged: neither covers the other; the higher total wins.
		{in: []string{"0-1-9,1-1-1", "0-1-3,1-1-4"}, want: 0},
	} {
		ps := make([]Position, len(tc.in))
		for i, s := range tc.in {
			ps[i] = pos(s)
		}
		if got := mostAdvanced(ps); got != tc.want {
			t.Errorf("mostAdvanced(%q): got %d, want %d", tc.in, got, tc.want)
		}
	}
	if !pos("0-1-5,1-1-2").Merge(pos("0-2-7")).Covers(pos("0-1-7,1-9-2")) {
		t.Errorf("Merge(0-1-5,1-1-2; 0-2-7) should cover 0-1-7,1-9-2")
	}
}
