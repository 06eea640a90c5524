package engine

import "testing"

func TestCompareDecimalAndTime(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		kind sortKind
		want int
	}{
		{"9", "10", sortDecimal, -1},
		{"-10", "-9", sortDecimal, -1},
		{"-0", "0", sortDecimal, 0},
		{"1.50", "1.5", sortDecimal, 0},
		{"0.05", "0.5", sortDecimal, -1},
		{"18446744073709551615", "9223372036854775807", sortDecimal, 1},
		{"-1", "0.1", sortDecimal, -1},
		{"1e3", "999", sortFloat, 1},
		{"-01:00:00", "00:59:59", sortTime, -1},
		{"100:00:00", "99:59:59.999999", sortTime, 1},
		{"2024-01-02 00:00:00", "2023-12-31 23:59:59", sortBytes, 1},
	} {
		if got := compareValue([]byte(tc.a), []byte(tc.b), tc.kind); got != tc.want {
			t.Errorf("compare(%q, %q): got %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareValue([]byte(tc.b), []byte(tc.a), tc.kind); got != -tc.want {
			t.Errorf("compare(%q, %q): got %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}
