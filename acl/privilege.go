package acl

import (
	"fmt"
	"strings"
)

// Privilege is a set of the rights a grant gives.
type Privilege uint8

// The privileges. Read is SELECT and SHOW on a table; Write is INSERT,
// UPDATE, DELETE, REPLACE and LOAD; DDL is CREATE, ALTER, DROP, TRUNCATE
// and RENAME; Admin is what operators do: shard targeting, SHOW VITESS_*,
// VEXPLAIN, seeing and killing other users' sessions, and the statements
// the gateway refuses to everyone else (SHUTDOWN, user management, ...).
const (
	Read Privilege = 1 << iota
	Write
	DDL
	Admin

	// All is every privilege.
	All = Read | Write | DDL | Admin
)

var privilegeNames = []struct {
	p    Privilege
	name string
}{{Read, "read"}, {Write, "write"}, {DDL, "ddl"}, {Admin, "admin"}}

// ParsePrivileges reads a comma-separated list of privilege names
// ("read,write", "all").
func ParsePrivileges(list string) (Privilege, error) {
	var out Privilege
	for word := range strings.SplitSeq(list, ",") {
		word = strings.ToLower(strings.TrimSpace(word))
		if word == "all" {
			out |= All
			continue
		}
		found := false
		for _, n := range privilegeNames {
			if n.name == word {
				out |= n.p
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("acl: unknown privilege %q (read, write, ddl, admin, all)", word)
		}
	}
	return out, nil
}

// Names lists p's privileges by name, in a fixed order.
func (p Privilege) Names() []string {
	var out []string
	for _, n := range privilegeNames {
		if p&n.p != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

func (p Privilege) String() string { return strings.Join(p.Names(), ",") }

// Command is the MySQL command name an error 1142 names for p
// ("SELECT command denied ...").
func (p Privilege) Command() string {
	switch {
	case p&Admin != 0:
		return "SUPER"
	case p&DDL != 0:
		return "DDL"
	case p&Write != 0:
		return "INSERT"
	}
	return "SELECT"
}
