package sqlquote

import "testing"

func TestAppend(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "''"},
		{"plain", "'plain'"},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{"say \"hi\"", `'say \"hi\"'`},
		{"nul\x00nl\ncr\rz\x1a", `'nul\0nl\ncr\rz\Z'`},
		{"ünï", "'ünï'"},
	} {
		if got := string(Append(nil, tc.in)); got != tc.want {
			t.Errorf("Append(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := string(Append([]byte("x="), []byte(tc.in))); got != "x="+tc.want {
			t.Errorf("Append(bytes %q) = %s, want x=%s", tc.in, got, tc.want)
		}
	}
}
