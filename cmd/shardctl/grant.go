package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/topo"
)

// grantCommands give and take a user's privileges (issue 15): on a
// keyspace ('*' for every keyspace) or one table of it. Open sessions
// see the change at their next statement.
func grantCommands() []*command {
	var keyspace, table, privileges string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&keyspace, "keyspace", "", "the keyspace ('*': every keyspace, and the system schemas)")
		fs.StringVar(&table, "table", "", "one table of the keyspace (default: all its tables)")
		fs.StringVar(&privileges, "privileges", "", "comma-separated: read, write, ddl, admin (or all)")
	}
	change := func(give bool) func(ctx context.Context, e *env, args []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			if err := wantArgs(args, "NAME"); err != nil {
				return err
			}
			if keyspace == "" || privileges == "" {
				return usageErrorf("--keyspace and --privileges are required")
			}
			p, err := acl.ParsePrivileges(privileges)
			if err != nil {
				return usageErrorf("%v", err)
			}
			s, err := e.Store(ctx)
			if err != nil {
				return err
			}
			var now acl.Privilege
			err = s.UpdateUser(ctx, args[0], func(u *topo.User) error {
				now = changeGrant(u, keyspace, table, p, give)
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s on %s: %s\n", args[0], grantObject(keyspace, table), privilegeWord(now))
			return nil
		}
	}
	return []*command{
		{
			group: "grant", args: "NAME --keyspace KS [--table T] --privileges read,write,ddl,admin",
			summary: "give a gateway user privileges on a keyspace or one of its tables",
			flags:   flags, run: change(true),
		},
		{
			group: "revoke", args: "NAME --keyspace KS [--table T] --privileges read,write,ddl,admin",
			summary: "take privileges back (open sessions lose them at their next statement)",
			flags:   flags, run: change(false),
		},
	}
}

// changeGrant adds p to (give) or removes it from u's grant on
// keyspace/table, dropping a grant left with nothing, and returns what
// that grant holds afterwards.
func changeGrant(u *topo.User, keyspace, table string, p acl.Privilege, give bool) acl.Privilege {
	var have acl.Privilege
	i := -1
	for j, g := range u.Grants {
		if g.Keyspace == keyspace && g.Table == table {
			i = j
			have, _ = acl.ParsePrivileges(strings.Join(g.Privileges, ","))
		}
	}
	if give {
		have |= p
	} else {
		have &^= p
	}
	switch {
	case have == 0 && i >= 0:
		u.Grants = append(u.Grants[:i], u.Grants[i+1:]...)
	case have == 0:
	case i >= 0:
		u.Grants[i].Privileges = have.Names()
	default:
		u.Grants = append(u.Grants, topo.Grant{Keyspace: keyspace, Table: table, Privileges: have.Names()})
	}
	return have
}

func privilegeWord(p acl.Privilege) string {
	if p == 0 {
		return "no privileges"
	}
	return p.String()
}
