package topo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// User is a gateway user (issue 15): who may log in to the gateways, how
// their password is checked, and what they may do. The topology stores
// it as written; hashing and checking live in package acl, so topo knows
// neither passwords nor SQL.
type User struct {
	Name string `json:"name"`
	// AuthMethod is mysql_native_password or caching_sha2_password.
	AuthMethod string `json:"auth_method"`
	// PasswordHash is the password as MySQL stores it for AuthMethod
	// (mysql.user's authentication_string): "*" and 40 hex digits for
	// mysql_native_password, "$A$005$" with a salt and a SHA-256 crypt
	// for caching_sha2_password; empty for a user with no password.
	PasswordHash string `json:"password_hash"`
	// Grants are what the user may do, by keyspace and table.
	Grants []Grant `json:"grants,omitempty"`
	// Created and Updated are set by the store.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Grant gives privileges on one keyspace ("*": every keyspace, the
// system schemas included) or one table of it.
type Grant struct {
	Keyspace string `json:"keyspace"`
	// Table is empty for the whole keyspace.
	Table string `json:"table,omitempty"`
	// Privileges: "read", "write", "ddl", "admin".
	Privileges []string `json:"privileges"`
}

func (s *Store) usersDir() string           { return s.root + "/users/" }
func (s *Store) userKey(name string) string { return s.usersDir() + name }

func validUserName(name string) error {
	if name == "" || len(name) > 80 || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("user name %q (1 to 80 characters, no '/'): %w", name, ErrInvalid)
	}
	return nil
}

// CreateUser records a new user: ErrNodeExists if one of that name
// exists. Created and Updated are set to now.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := validUserName(u.Name); err != nil {
		return err
	}
	what := "user " + u.Name
	n := *u
	n.Created = time.Now().UTC()
	n.Updated = n.Created
	data, err := json.Marshal(&n)
	if err != nil {
		return fmt.Errorf("topo: encode %s: %w", what, err)
	}
	key := s.userKey(u.Name)
	resp, err := s.cli.Txn(ctx).If(absent(key)).Then(clientv3.OpPut(key, string(data))).Commit()
	if err != nil {
		return fmt.Errorf("topo: create %s: %w", what, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("%s: %w", what, ErrNodeExists)
	}
	u.Created, u.Updated = n.Created, n.Updated
	return nil
}

// GetUser returns a user; ErrNoNode if there is none of that name.
func (s *Store) GetUser(ctx context.Context, name string) (*User, error) {
	var u User
	if _, err := s.get(ctx, s.userKey(name), "user "+name, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateUser changes a user with fn (its grants, its password):
// ErrNoNode if it doesn't exist. The name can't change.
func (s *Store) UpdateUser(ctx context.Context, name string, fn func(*User) error) error {
	return updateJSON(ctx, s, s.userKey(name), "user "+name, func(u *User) error {
		if err := fn(u); err != nil {
			return err
		}
		u.Updated = time.Now().UTC()
		return nil
	}, func(old, new *User) error {
		if new.Name != old.Name {
			return fmt.Errorf("user %s: the name can't change: %w", old.Name, ErrInvalid)
		}
		return nil
	})
}

// DeleteUser removes a user: ErrNoNode if it doesn't exist.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	resp, err := s.cli.Delete(ctx, s.userKey(name))
	if err != nil {
		return fmt.Errorf("topo: delete user %s: %w", name, err)
	}
	if resp.Deleted == 0 {
		return fmt.Errorf("user %s: %w", name, ErrNoNode)
	}
	return nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]*User, error) {
	users, _, err := s.listUsers(ctx)
	return users, err
}

func (s *Store) listUsers(ctx context.Context) ([]*User, int64, error) {
	resp, err := s.cli.Get(ctx, s.usersDir(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("topo: list users: %w", err)
	}
	users, err := decodeAll[User](resp.Kvs, "user")
	return users, resp.Header.Revision, err
}

// WatchUsers calls fn with every user at once and again after each change
// (a batch of changes at a time), until ctx is done; it then returns
// ctx.Err(). Errors are logged and retried with backoff, starting over
// from a fresh list, as WatchSnapshots does. Users deliver no Snapshot:
// they don't route.
//
// Goroutines: it runs in the caller's goroutine and calls fn there; the
// etcd watch it opens is cancelled before it returns. fn owns the slice;
// the records are never changed afterwards.
func (s *Store) WatchUsers(ctx context.Context, fn func([]*User)) error {
	return recordWatch[User]{prefix: s.usersDir(), what: "user", sorted: sortedUsers}.watch(ctx, s, fn)
}

func sortedUsers(list []*User) []*User {
	slices.SortFunc(list, func(a, b *User) int { return strings.Compare(a.Name, b.Name) })
	return list
}
