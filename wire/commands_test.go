package wire

import (
	"bytes"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestParseChangeUser(t *testing.T) {
	// user "bob", a 3-byte auth response, database "app", collation 8
	// (latin1_swedish_ci) [2], auth plugin.
	payload := append([]byte("bob\x00\x03abcapp\x00\x08\x00"), "mysql_native_password\x00"...)
	got, err := ParseChangeUser(payload)
	want := ChangeUser{User: "bob", AuthResponse: []byte("abc"), DB: "app", Collation: 8, HasCollation: true}
	if err != nil || got.User != want.User || !bytes.Equal(got.AuthResponse, want.AuthResponse) || got.DB != want.DB ||
		got.Collation != want.Collation || got.HasCollation != want.HasCollation {
		t.Errorf("ParseChangeUser(%q) = %+v, %v; want %+v", payload, got, err, want)
	}
	// Without charset and plugin (an old client).
	if got, err := ParseChangeUser([]byte("bob\x00\x00\x00")); err != nil || got.User != "bob" || got.DB != "" || got.HasCollation {
		t.Errorf("ParseChangeUser(short) = %+v, %v", got, err)
	}
	for _, bad := range []string{"bob", "bob\x00", "bob\x00\x05ab"} {
		if _, err := ParseChangeUser([]byte(bad)); err != mysql.ErrMalformPacket {
			t.Errorf("ParseChangeUser(%q): got %v, want ErrMalformPacket", bad, err)
		}
	}
}

func TestAppendAuthSwitch(t *testing.T) {
	got := AppendAuthSwitch(nil, mysql.AUTH_NATIVE_PASSWORD, []byte("0123456789abcdefghij"))
	want := append([]byte{0xfe}, "mysql_native_password\x000123456789abcdefghij\x00"...)
	if !bytes.Equal(got, want) {
		t.Errorf("AppendAuthSwitch = %q, want %q", got, want)
	}
}

func TestAppendCommands(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want []byte
	}{
		{"query", AppendQuery(nil, "select 1"), append([]byte{0, 0, 0, 0, 0x03}, "select 1"...)},
		{"prepare", AppendStmtPrepare(nil, "select ?"), append([]byte{0, 0, 0, 0, 0x16}, "select ?"...)},
		{"execute", AppendStmtExecute(nil, 0x01020304), []byte{0, 0, 0, 0, 0x17, 4, 3, 2, 1, 0, 1, 0, 0, 0}},
		{"close", AppendStmtClose(nil, 7), []byte{0, 0, 0, 0, 0x19, 7, 0, 0, 0}},
		{"quit", AppendCommand(nil, mysql.COM_QUIT, nil), []byte{0, 0, 0, 0, 0x01}},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %x, want %x", tc.name, tc.got, tc.want)
		}
	}
}
