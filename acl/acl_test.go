package acl

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/topo"
)

// TestNativeHashIsMySQLs: mysql_native_password is stored as MySQL's
// PASSWORD('password') prints it.
func TestNativeHashIsMySQLs(t *testing.T) {
	got, err := HashPassword(NativePassword, "password")
	if err != nil {
		t.Fatal(err)
	}
	if want := "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"; got != want {
		t.Fatalf("HashPassword(native, %q) = %q, want %q", "password", got, want)
	}
}

// TestSHA2HashFormat: caching_sha2_password is stored as MySQL stores it
// ($A$005$, a 20-byte salt, 43 characters) and only its password checks
// out against it.
func TestSHA2HashFormat(t *testing.T) {
	hash, err := HashPassword(CachingSHA2Password, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$A$005$") || len(hash) != sha2HashLen || CheckHash(CachingSHA2Password, hash) != nil {
		t.Fatalf("got hash %q, want $A$005$ + 20 + 43 characters", hash)
	}
	a, err := NewAccount(&topo.User{Name: "u", AuthMethod: CachingSHA2Password, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	if !a.CheckSHA2Password([]byte("s3cret\x00")) || a.CheckSHA2Password([]byte("wrong")) || a.CheckSHA2Password(nil) {
		t.Fatal("CheckSHA2Password: want only s3cret accepted")
	}
}

// TestScramblesCheckAgainstStoredHashes: a client's scrambles (computed
// as go-mysql's client computes them) check out against the stored
// hash, with the salt they were made with only.
func TestScramblesCheckAgainstStoredHashes(t *testing.T) {
	salt, other := []byte("0123456789abcdefghij"), []byte("jihgfedcba9876543210")
	hash, _ := HashPassword(NativePassword, "pw")
	a, err := NewAccount(&topo.User{Name: "n", AuthMethod: NativePassword, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	if !a.CheckNative(salt, mysql.CalcNativePassword(salt, []byte("pw"))) {
		t.Error("native: right scramble refused")
	}
	for _, bad := range [][]byte{mysql.CalcNativePassword(other, []byte("pw")), mysql.CalcNativePassword(salt, []byte("px")), nil, {1, 2, 3}} {
		if a.CheckNative(salt, bad) {
			t.Errorf("native: scramble %x accepted", bad)
		}
	}

	sha2Hash, _ := HashPassword(CachingSHA2Password, "pw")
	b, _ := NewAccount(&topo.User{Name: "s", AuthMethod: CachingSHA2Password, PasswordHash: sha2Hash})
	cache := NewSHA2Cache(10)
	scramble := mysql.CalcCachingSha2Password(salt, []byte("pw"))
	if cache.FastAuth(b, salt, scramble) {
		t.Fatal("fast auth before any full authentication")
	}
	cache.Remember(b, []byte("pw"))
	if !cache.FastAuth(b, salt, scramble) {
		t.Fatal("fast auth after a full authentication refused")
	}
	if cache.FastAuth(b, other, scramble) || cache.FastAuth(b, salt, mysql.CalcCachingSha2Password(salt, []byte("px"))) {
		t.Fatal("fast auth accepted a wrong scramble")
	}
	// A new password is a new hash: the old digest no longer opens it.
	newHash, _ := HashPassword(CachingSHA2Password, "pw")
	c, _ := NewAccount(&topo.User{Name: "s", AuthMethod: CachingSHA2Password, PasswordHash: newHash})
	if cache.FastAuth(c, salt, scramble) {
		t.Fatal("fast auth accepted a digest cached for the user's previous hash")
	}
}

// TestPasswordlessUser: no password opens only with an empty response; a
// password sent for it is wrong (go-mysql panicked decoding the empty
// hash there).
func TestPasswordlessUser(t *testing.T) {
	a, err := Superuser("root", NativePassword, "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.CheckNative([]byte("01234567890123456789"), nil) {
		t.Error("empty response refused")
	}
	if a.CheckNative([]byte("01234567890123456789"), mysql.CalcNativePassword([]byte("01234567890123456789"), []byte("x"))) {
		t.Error("a password accepted for a user without one")
	}
}

// TestUnknownAndMalformedNeverOpen: the unknown-user account and a stored
// user with a malformed hash accept no password.
func TestUnknownAndMalformedNeverOpen(t *testing.T) {
	salt := []byte("01234567890123456789")
	for _, m := range []string{NativePassword, CachingSHA2Password} {
		u := Unknown("x", m)
		if u.CheckNative(salt, nil) || u.CheckSHA2Password(nil) || u.CheckSHA2Password([]byte("")) || !u.HasPassword() {
			t.Errorf("%s: the unknown account opened", m)
		}
	}
	for _, hash := range []string{"*12", "$A$005$short", "nothex-nothex-nothex-nothex-nothex-nothex"} {
		a, err := NewAccount(&topo.User{Name: "m", AuthMethod: NativePassword, PasswordHash: hash})
		if err == nil {
			t.Errorf("hash %q: no error", hash)
		}
		if a.CheckNative(salt, nil) || a.CheckNative(salt, mysql.CalcNativePassword(salt, []byte(""))) {
			t.Errorf("hash %q: opened", hash)
		}
	}
}

// TestGrants: keyspace grants cover every table, table grants one, '*'
// every keyspace; AnyGrant and AdminAnywhere follow.
func TestGrants(t *testing.T) {
	a, err := NewAccount(&topo.User{Name: "g", AuthMethod: NativePassword, Grants: []topo.Grant{
		{Keyspace: "shop", Privileges: []string{"read"}},
		{Keyspace: "shop", Table: "orders", Privileges: []string{"write"}},
		{Keyspace: "logs", Table: "events", Privileges: []string{"read"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ks, table string
		p         Privilege
		want      bool
	}{
		{"shop", "customers", Read, true},
		{"shop", "customers", Write, false},
		{"shop", "orders", Read | Write, true},
		{"shop", "orders", DDL, false},
		{"logs", "events", Read, true},
		{"logs", "other", Read, false},
		{"logs", "", Read, false},
		{"shop", "", Admin, false},
		{"mysql", "user", Read, false},
	} {
		if got := a.Allowed(tc.ks, tc.table, tc.p); got != tc.want {
			t.Errorf("Allowed(%s, %s, %s) = %v, want %v", tc.ks, tc.table, tc.p, got, tc.want)
		}
	}
	if !a.AnyGrant("logs") || a.AnyGrant("other") || a.AdminAnywhere() {
		t.Error("AnyGrant/AdminAnywhere wrong")
	}
	root, _ := Superuser("root", NativePassword, "")
	if !root.Allowed("anything", "t", All) || !root.Allowed("mysql", "user", Read) || !root.AdminAnywhere() {
		t.Error("superuser lacks a privilege")
	}
	if _, err := ParsePrivileges("read,fly"); err == nil {
		t.Error("ParsePrivileges accepted 'fly'")
	}
}
