package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/acl"
	"github.com/shardgate/shardgate/topo"
)

// userCommands manage the gateway users kept in etcd (issue 15). The
// gateways watch them: a change applies without a restart.
func userCommands() []*command {
	var password, method string
	var passwordSet bool
	return []*command{
		{
			group: "user", verb: "add", args: "NAME --password P [--auth-method mysql_native_password|caching_sha2_password]",
			summary: "add a gateway user (the password is stored hashed, as MySQL stores it); it has no grants yet",
			flags: func(fs *flag.FlagSet) {
				fs.Func("password", "the user's password (an empty one means none)", func(v string) error {
					password, passwordSet = v, true
					return nil
				})
				fs.StringVar(&method, "auth-method", acl.NativePassword, "how the gateways check the password: "+acl.NativePassword+" or "+acl.CachingSHA2Password)
			},
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args, "NAME"); err != nil {
					return err
				}
				if !passwordSet {
					return usageErrorf("--password is required (--password '' for a user without one)")
				}
				hash, err := acl.HashPassword(method, password)
				if err != nil {
					return usageErrorf("%v", err)
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				if err := s.CreateUser(ctx, &topo.User{Name: args[0], AuthMethod: method, PasswordHash: hash}); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "added user %s (%s)\n", args[0], method)
				return nil
			},
		},
		{
			group: "user", verb: "remove", args: "NAME",
			summary: "remove a gateway user: new logins are refused; open sessions keep their grants until they end, as in MySQL",
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args, "NAME"); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				if err := s.DeleteUser(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "removed user %s\n", args[0])
				return nil
			},
		},
		{
			group: "user", verb: "list",
			summary: "list the gateway users, their authentication method and grants (never their hashes)",
			run: func(ctx context.Context, e *env, args []string) error {
				if err := wantArgs(args); err != nil {
					return err
				}
				s, err := e.Store(ctx)
				if err != nil {
					return err
				}
				users, err := s.ListUsers(ctx)
				if err != nil {
					return err
				}
				w := e.table("USER", "AUTH METHOD", "PASSWORD", "GRANTS")
				for _, u := range users {
					pw := "yes"
					if u.PasswordHash == "" {
						pw = "none"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Name, u.AuthMethod, pw, grantsText(u.Grants))
				}
				return w.Flush()
			},
		},
	}
}

// grantsText renders grants as "ks.*:read,write ks.t:read", "-" for none.
func grantsText(grants []topo.Grant) string {
	if len(grants) == 0 {
		return "-"
	}
	parts := make([]string, len(grants))
	for i, g := range grants {
		parts[i] = grantObject(g.Keyspace, g.Table) + ":" + strings.Join(g.Privileges, ",")
	}
	return strings.Join(parts, " ")
}

// grantObject names what a grant is on, as MySQL writes it: ks.* or ks.t.
func grantObject(keyspace, table string) string {
	if table == "" {
		table = "*"
	}
	return keyspace + "." + table
}
