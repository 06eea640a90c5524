package vindex

import "testing"

func TestKeyspaceIDString(t *testing.T) {
	cases := []struct {
		id   KeyspaceID
		want string
	}{
		{nil, ""},
		{KeyspaceID{}, ""},
		{KeyspaceID{0x16, 0x6b, 0x40, 0xb4, 0x4a, 0xba, 0x4b, 0xd6}, "166b40b44aba4bd6"},
		{KeyspaceID{0xAB, 0x00}, "ab00"},
	}
	for _, c := range cases {
		if got := c.id.String(); got != c.want {
			t.Errorf("KeyspaceID(%#v).String(): got %q, want %q", []byte(c.id), got, c.want)
		}
	}
}
