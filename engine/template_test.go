package engine

import "testing"

func TestAppendLiteral(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, "null"},
		{int64(-5), "-5"},
		{uint64(18446744073709551615), "18446744073709551615"},
		{1.5, "1.5e0"},
		{1e21, "1e+21"},
		{"it's", `'it\'s'`},
		{"a\\b\x00\n\r\"\x1a", `'a\\b\0\n\r\"\Z'`},
		{[]byte("x'y"), `'x\'y'`},
		{true, "1"},
	} {
		got, err := SQLLiteral(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("SQLLiteral(%#v): got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []any{struct{}{}, []int{1}} {
		if _, err := SQLLiteral(bad); err == nil {
			t.Errorf("SQLLiteral(%#v): want an error", bad)
		}
	}
}
