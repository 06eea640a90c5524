package wire

import (
	"bytes"
	"testing"
)

// TestAuthPacketSalts: the salts the gateway's authentication reads from
// the packets go-mysql writes (the greeting, its auth switch request).
func TestAuthPacketSalts(t *testing.T) {
	salt := []byte("ABCDEFGHIJKLMNOPQRST")
	greeting := []byte{0, 0, 0, 0, 10}
	greeting = append(greeting, "10.11.0-MariaDB-shardgate\x00"...)
	greeting = append(greeting, 1, 2, 3, 4) // connection id
	greeting = append(greeting, salt[:8]...)
	greeting = append(greeting, 0, 0xff, 0xf7, 45, 2, 0, 0xff, 0x81, 21)
	greeting = append(greeting, make([]byte, 10)...)
	greeting = append(greeting, salt[8:]...)
	greeting = append(greeting, 0)
	greeting = append(greeting, "mysql_native_password\x00"...)
	if got := GreetingSalt(greeting); !bytes.Equal(got, salt) {
		t.Errorf("GreetingSalt = %q, want %q", got, salt)
	}
	if got := GreetingSalt(greeting[:30]); got != nil {
		t.Errorf("GreetingSalt of a cut greeting = %q, want nil", got)
	}
	sw := AppendAuthSwitch([]byte{0, 0, 0, 0}, "caching_sha2_password", salt)
	if got := AuthSwitchSalt(sw); !bytes.Equal(got, salt) {
		t.Errorf("AuthSwitchSalt = %q, want %q", got, salt)
	}
	for _, p := range [][]byte{{0, 0, 0, 0, 0}, AppendAuthMoreData([]byte{0, 0, 0, 0}, SHA2FullAuth), {0, 0, 0, 0, 0xfe, 'x', 0, 1}} {
		if got := AuthSwitchSalt(p); got != nil {
			t.Errorf("AuthSwitchSalt(%x) = %q, want nil", p, got)
		}
	}
}
