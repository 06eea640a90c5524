package topo

import (
	"fmt"
	"strconv"
	"strings"
)

// TabletAlias names a tablet: the cell it runs in and a number unique in
// that cell.
type TabletAlias struct {
	Cell string
	UID  uint32
}

// String returns the alias as Vitess prints it, the UID padded to ten
// digits: "zone1-0000000100".
func (a TabletAlias) String() string {
	return fmt.Sprintf("%s-%010d", a.Cell, a.UID)
}

// ParseTabletAlias parses "zone1-100" or "zone1-0000000100". The UID is
// what follows the last '-', so a cell may itself contain '-'.
func ParseTabletAlias(s string) (TabletAlias, error) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return TabletAlias{}, fmt.Errorf("tablet alias %q: want CELL-UID, e.g. zone1-100: %w", s, ErrInvalid)
	}
	cell, num := s[:i], s[i+1:]
	if err := checkName("cell", cell); err != nil {
		return TabletAlias{}, fmt.Errorf("tablet alias %q: %w", s, err)
	}
	uid, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return TabletAlias{}, fmt.Errorf("tablet alias %q: uid %q is not a number below 2^32: %w", s, num, ErrInvalid)
	}
	return TabletAlias{Cell: cell, UID: uint32(uid)}, nil
}

// MarshalText writes the alias in its String form, so JSON holds
// "zone1-0000000100".
func (a TabletAlias) MarshalText() ([]byte, error) {
	if err := checkName("cell", a.Cell); err != nil {
		return nil, fmt.Errorf("tablet alias: %w", err)
	}
	return []byte(a.String()), nil
}

// UnmarshalText parses what ParseTabletAlias accepts.
func (a *TabletAlias) UnmarshalText(b []byte) error {
	p, err := ParseTabletAlias(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// checkName accepts the names used in etcd keys: 1 to 64 ASCII letters,
// digits, '_' and '-'.
func checkName(what, s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%s name %q must be 1 to 64 characters: %w", what, s, ErrInvalid)
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%s name %q may hold only letters, digits, '_' and '-': %w", what, s, ErrInvalid)
		}
	}
	return nil
}
