package acl

import (
	"slices"
	"strings"
)

// GrantStatements renders the account's grants as SHOW GRANTS shows a
// MySQL account's: a USAGE line first, then one GRANT per keyspace and
// per table, in name order. Each shardgate privilege is shown as the
// MySQL privileges it stands for (read is SELECT, write INSERT, UPDATE,
// DELETE; ddl CREATE, DROP, ALTER, INDEX; admin SUPER), every privilege
// as ALL PRIVILEGES, a grant on every keyspace as ON *.*. Password
// hashes are never shown.
func (a *Account) GrantStatements(host string) []string {
	to := " TO " + quoteName(a.Name) + "@" + quoteName(host)
	out := []string{"GRANT USAGE ON *.*" + to}
	keyspaces := make([]string, 0, len(a.grants))
	for ks := range a.grants {
		keyspaces = append(keyspaces, ks)
	}
	slices.Sort(keyspaces) // "*" sorts before every name
	for _, ks := range keyspaces {
		g := a.grants[ks]
		on := "*.*"
		if ks != AllKeyspaces {
			on = quoteName(ks) + ".*"
		}
		if g.all != 0 {
			out = append(out, "GRANT "+mysqlPrivileges(g.all)+" ON "+on+to)
		}
		tables := make([]string, 0, len(g.tables))
		for t, p := range g.tables {
			if p != 0 {
				tables = append(tables, t)
			}
		}
		slices.Sort(tables)
		for _, t := range tables {
			out = append(out, "GRANT "+mysqlPrivileges(g.tables[t])+" ON "+strings.TrimSuffix(on, "*")+quoteName(t)+to)
		}
	}
	return out
}

// mysqlPrivileges names p in MySQL's words.
func mysqlPrivileges(p Privilege) string {
	if p == All {
		return "ALL PRIVILEGES"
	}
	var words []string
	if p&Read != 0 {
		words = append(words, "SELECT")
	}
	if p&Write != 0 {
		words = append(words, "INSERT", "UPDATE", "DELETE")
	}
	if p&DDL != 0 {
		words = append(words, "CREATE", "DROP", "INDEX", "ALTER")
	}
	if p&Admin != 0 {
		words = append(words, "SUPER")
	}
	return strings.Join(words, ", ")
}

// quoteName quotes an identifier with backquotes, as SHOW GRANTS does.
func quoteName(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
