package acl

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/auth"
)

// The authentication methods (MySQL's plugin names).
const (
	NativePassword      = "mysql_native_password"
	CachingSHA2Password = "caching_sha2_password"
)

// sha2Prefix starts every caching_sha2_password hash MySQL writes: "$A$"
// (SHA-256 crypt), "005" (5 × 1000 rounds, in hex), "$", then a 20-byte
// salt and the 43-character crypt.
const (
	sha2Prefix  = "$A$005$"
	sha2SaltLen = 20
	sha2HashLen = len(sha2Prefix) + sha2SaltLen + 43
)

// HashPassword returns password stored as MySQL stores it for method (the
// authentication_string of mysql.user); an empty password is stored
// empty, as MySQL does.
func HashPassword(method, password string) (string, error) {
	if password == "" {
		if err := checkMethod(method); err != nil {
			return "", err
		}
		return "", nil
	}
	switch method {
	case NativePassword:
		return "*" + strings.ToUpper(hex.EncodeToString(nativeStage2([]byte(password)))), nil
	case CachingSHA2Password:
		return auth.NewHashPassword(password, CachingSHA2Password), nil
	}
	return "", checkMethod(method)
}

func checkMethod(method string) error {
	if method != NativePassword && method != CachingSHA2Password {
		return fmt.Errorf("acl: unknown authentication method %q (%s or %s)", method, NativePassword, CachingSHA2Password)
	}
	return nil
}

// CheckHash says whether hash is one HashPassword could have written for
// method (etcd is written by hand too; a malformed hash must refuse the
// user's logins, not panic the check).
func CheckHash(method, hash string) error {
	if err := checkMethod(method); err != nil {
		return err
	}
	if hash == "" {
		return nil
	}
	switch method {
	case NativePassword:
		if len(hash) != 41 || hash[0] != '*' {
			return fmt.Errorf("acl: %s hash must be '*' and 40 hex digits", method)
		}
		if _, err := hex.DecodeString(hash[1:]); err != nil {
			return fmt.Errorf("acl: %s hash: %w", method, err)
		}
	case CachingSHA2Password:
		if len(hash) != sha2HashLen || !strings.HasPrefix(hash, sha2Prefix) || strings.Contains(hash[len(sha2Prefix):], "$") {
			return fmt.Errorf("acl: %s hash must be %q, a 20-byte salt and 43 characters", method, sha2Prefix)
		}
	}
	return nil
}

// nativeStage2 is SHA1(SHA1(password)), what mysql_native_password stores.
func nativeStage2(password []byte) []byte {
	s1 := sha1.Sum(password)
	s2 := sha1.Sum(s1[:])
	return s2[:]
}

// checkNativeScramble checks a mysql_native_password response against
// stage2 = SHA1(SHA1(password)) and the salt it answered:
// scramble = SHA1(password) XOR SHA1(salt + stage2), so
// SHA1(scramble XOR SHA1(salt + stage2)) must be stage2.
func checkNativeScramble(stage2, salt, scramble []byte) bool {
	if len(scramble) != sha1.Size || len(stage2) != sha1.Size {
		return false
	}
	h := sha1.New()
	h.Write(salt)
	h.Write(stage2)
	mix := h.Sum(nil)
	for i := range mix {
		mix[i] ^= scramble[i]
	}
	got := sha1.Sum(mix)
	return subtle.ConstantTimeCompare(got[:], stage2) == 1
}

// checkSHA2Password checks a plaintext password (received over TLS or
// RSA-encrypted) against a caching_sha2_password hash.
func checkSHA2Password(hash, password string) bool {
	if CheckHash(CachingSHA2Password, hash) != nil || hash == "" {
		return false
	}
	ok, err := auth.CheckHashingPassword([]byte(hash), password, CachingSHA2Password)
	return ok && err == nil
}

// sha2Digest is SHA256(SHA256(password)), what caching_sha2_password's
// fast authentication checks a scramble against (MySQL keeps it in memory
// after one full authentication; it is not derivable from the stored
// hash).
func sha2Digest(password []byte) []byte {
	d1 := sha256.Sum256(password)
	d2 := sha256.Sum256(d1[:])
	return d2[:]
}

// checkSHA2Scramble checks a caching_sha2_password fast-auth scramble,
// XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) + salt)), against the cached
// digest = SHA256(SHA256(pw)).
func checkSHA2Scramble(digest, salt, scramble []byte) bool {
	if len(scramble) != sha256.Size || len(digest) != sha256.Size {
		return false
	}
	h := sha256.New()
	h.Write(digest)
	h.Write(salt)
	mix := h.Sum(nil)
	for i := range mix {
		mix[i] ^= scramble[i]
	}
	got := sha256.Sum256(mix)
	return subtle.ConstantTimeCompare(got[:], digest) == 1
}

// trimNUL drops the NUL a client appends to a plaintext password.
func trimNUL(b []byte) []byte {
	return bytes.TrimSuffix(b, []byte{0})
}
