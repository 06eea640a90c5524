package acl

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/topo"
)

// AllKeyspaces in a grant's keyspace covers every keyspace, present and
// future, and the system schemas (mysql, performance_schema, ...).
const AllKeyspaces = "*"

// Account is one user as the gateway checks it: how its password is
// verified and what its grants allow. Immutable once built; shared by
// every session of the user.
type Account struct {
	Name   string
	Method string
	hash   string
	// stage2 is SHA1(SHA1(password)) for mysql_native_password.
	stage2 []byte
	// anyPassword: every password is accepted (--insecure-no-auth).
	anyPassword bool
	// never: no password matches (an unknown user, a malformed hash).
	never  bool
	grants map[string]*keyspaceGrant
}

// keyspaceGrant is what a user may do in one keyspace: on every table,
// and on particular tables.
type keyspaceGrant struct {
	all    Privilege
	tables map[string]Privilege
}

// NewAccount builds the account of a stored user. A record with a hash
// that doesn't fit its method gives an account no password opens, and
// the error says why (the gateway logs it).
func NewAccount(u *topo.User) (*Account, error) {
	a := &Account{Name: u.Name, Method: u.AuthMethod, hash: u.PasswordHash, grants: map[string]*keyspaceGrant{}}
	err := CheckHash(u.AuthMethod, u.PasswordHash)
	if err != nil {
		a.never = true
		if checkMethod(u.AuthMethod) != nil {
			a.Method = NativePassword
		}
	} else if u.AuthMethod == NativePassword && u.PasswordHash != "" {
		a.stage2, _ = hex.DecodeString(u.PasswordHash[1:])
	}
	for _, g := range u.Grants {
		p, perr := ParsePrivileges(strings.Join(g.Privileges, ","))
		if perr != nil {
			if err == nil {
				err = fmt.Errorf("acl: user %s: grant on %s: %w", u.Name, g.Keyspace, perr)
			}
			continue
		}
		a.grant(g.Keyspace, g.Table, p)
	}
	return a, err
}

func (a *Account) grant(keyspace, table string, p Privilege) {
	g := a.grants[keyspace]
	if g == nil {
		g = &keyspaceGrant{}
		a.grants[keyspace] = g
	}
	if table == "" {
		g.all |= p
		return
	}
	if g.tables == nil {
		g.tables = map[string]Privilege{}
	}
	g.tables[table] |= p
}

// Superuser is an account with every privilege on every keyspace and
// the given password (empty: none), checked with method: serve's
// --user/--password bootstrap user, and up's passwordless root.
func Superuser(name, method, password string) (*Account, error) {
	hash, err := HashPassword(method, password)
	if err != nil {
		return nil, err
	}
	a, err := NewAccount(&topo.User{Name: name, AuthMethod: method, PasswordHash: hash})
	if err != nil {
		return nil, err
	}
	a.grant(AllKeyspaces, "", All)
	return a, nil
}

// Insecure is the account every login gets under --insecure-no-auth:
// any name, any password, every privilege.
func Insecure(name, method string) *Account {
	a := &Account{Name: name, Method: method, anyPassword: true, grants: map[string]*keyspaceGrant{}}
	a.grant(AllKeyspaces, "", All)
	return a
}

// Unknown is the account a login for a user that doesn't exist is checked
// against: it goes through the same exchange and the same hashing work
// as a real user of method, and no password opens it, so the client
// can't tell an unknown user from a wrong password (issue 15, finding 6).
func Unknown(name, method string) *Account {
	if checkMethod(method) != nil {
		method = NativePassword
	}
	random := make([]byte, 16)
	_, _ = rand.Read(random)
	hash, _ := HashPassword(method, hex.EncodeToString(random))
	a, _ := NewAccount(&topo.User{Name: name, AuthMethod: method, PasswordHash: hash})
	a.never = true
	return a
}

// HasPassword says whether the account needs a password.
func (a *Account) HasPassword() bool { return a.hash != "" || a.never }

// CheckNative checks a mysql_native_password scramble computed with salt.
// An empty scramble is an empty password.
func (a *Account) CheckNative(salt, scramble []byte) bool {
	switch {
	case a.anyPassword:
		return true
	case a.never || a.Method != NativePassword:
		return false
	case len(scramble) == 0:
		return a.hash == ""
	case a.hash == "":
		// A password sent for a user without one is wrong, as in
		// MySQL (go-mysql panicked decoding the empty hash here).
		return false
	}
	return checkNativeScramble(a.stage2, salt, scramble)
}

// CheckSHA2Password checks a caching_sha2_password full authentication:
// the plaintext password (its trailing NUL, if any, is ignored).
func (a *Account) CheckSHA2Password(password []byte) bool {
	password = trimNUL(password)
	switch {
	case a.anyPassword:
		return true
	case a.never:
		checkSHA2Password(a.hash, string(password)) // the same work as a real check
		return false
	case a.Method != CachingSHA2Password:
		return false
	case len(password) == 0:
		return a.hash == ""
	case a.hash == "":
		return false
	}
	return checkSHA2Password(a.hash, string(password))
}

// Allowed says whether the account may use p on table of keyspace (table
// empty: on the keyspace itself, which needs a keyspace-wide grant).
func (a *Account) Allowed(keyspace, table string, p Privilege) bool {
	return a.privileges(keyspace, table)&p == p
}

func (a *Account) privileges(keyspace, table string) Privilege {
	var have Privilege
	for _, ks := range [2]string{AllKeyspaces, keyspace} {
		g := a.grants[ks]
		if g == nil {
			continue
		}
		have |= g.all
		if table != "" {
			have |= g.tables[table]
		}
	}
	return have
}

// AnyGrant says whether the account has some privilege in keyspace, on
// it or on one of its tables: it may USE it and SHOW DATABASES lists it.
func (a *Account) AnyGrant(keyspace string) bool {
	if g := a.grants[AllKeyspaces]; g != nil && g.all != 0 {
		return true
	}
	g := a.grants[keyspace]
	if g == nil {
		return false
	}
	if g.all != 0 {
		return true
	}
	for _, p := range g.tables {
		if p != 0 {
			return true
		}
	}
	return false
}

// AdminAnywhere says whether the account holds admin on some keyspace:
// what the gateway-wide admin statements (SHOW VITESS_*, VEXPLAIN, KILL
// and PROCESSLIST of other users) need.
func (a *Account) AdminAnywhere() bool {
	for _, g := range a.grants {
		if g.all&Admin != 0 {
			return true
		}
	}
	return false
}

// Users is the set of accounts a gateway lets in, by name. Immutable;
// the gateway swaps in a new one when etcd changes.
type Users struct {
	byName map[string]*Account
}

// NewUsers builds the set from stored users, plus extra accounts (a
// bootstrap superuser), which win over a stored user of the same name.
// Records that don't check out still get an account no password opens;
// errs says what was wrong with them.
func NewUsers(records []*topo.User, extra ...*Account) (u *Users, errs []error) {
	u = &Users{byName: make(map[string]*Account, len(records)+len(extra))}
	for _, r := range records {
		a, err := NewAccount(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("user %s: %w", r.Name, err))
		}
		u.byName[r.Name] = a
	}
	for _, a := range extra {
		u.byName[a.Name] = a
	}
	return u, errs
}

// Lookup returns the account of name, nil if there is none.
func (u *Users) Lookup(name string) *Account {
	if u == nil {
		return nil
	}
	return u.byName[name]
}

// Len is the number of accounts.
func (u *Users) Len() int {
	if u == nil {
		return 0
	}
	return len(u.byName)
}
