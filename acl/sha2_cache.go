package acl

import (
	"sync"
)

// SHA2Cache is caching_sha2_password's fast-authentication cache, as in
// MySQL: after a user's full authentication (its password in clear over
// TLS, or RSA-encrypted) it keeps SHA256(SHA256(password)), which is what
// a fast-auth scramble is checked against and what the stored hash can't
// give. Entries are keyed by user and stored hash, so a changed password
// or a removed user never matches an old entry. Safe for concurrent use.
type SHA2Cache struct {
	mu      sync.Mutex
	entries map[sha2Key][]byte
	max     int
}

type sha2Key struct{ user, hash string }

// NewSHA2Cache makes a cache of at most max entries (MySQL's is
// unbounded; a gateway's is bounded so a stream of users can't grow it).
func NewSHA2Cache(max int) *SHA2Cache {
	return &SHA2Cache{entries: map[sha2Key][]byte{}, max: max}
}

// Remember records a full authentication's password for a.
func (c *SHA2Cache) Remember(a *Account, password []byte) {
	if a.never || a.anyPassword || a.hash == "" {
		return
	}
	d := sha2Digest(trimNUL(password))
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k := range c.entries { // drop an arbitrary entry: it costs one full auth
			delete(c.entries, k)
			break
		}
	}
	c.entries[sha2Key{a.Name, a.hash}] = d
}

// FastAuth checks a fast-auth scramble; false when a has no entry (the
// client must then do a full authentication) or the scramble is wrong.
func (c *SHA2Cache) FastAuth(a *Account, salt, scramble []byte) bool {
	if a.never || a.Method != CachingSHA2Password {
		return false
	}
	c.mu.Lock()
	d := c.entries[sha2Key{a.Name, a.hash}]
	c.mu.Unlock()
	return d != nil && checkSHA2Scramble(d, salt, scramble)
}
