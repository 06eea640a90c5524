package main

import (
	"flag"
	"log/slog"

	"github.com/shardgate/shardgate/tablet"
)

// adminDBFlags name the account the controllers (failover, resharding)
// log in to the MySQL instances with. They change replication, toggle
// read_only, read binlogs and create databases: rights the gateway's own
// account (--db-user) should not have (docs/SECURITY.md).
type adminDBFlags struct {
	user     string
	password string
}

func (f *adminDBFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.user, "admin-db-user", "", "user the failover and resharding controllers log in to the MySQL instances with (replication admin, read_only, binlogs); empty: --db-user")
	fs.StringVar(&f.password, "admin-db-password", "", "password for --admin-db-user")
}

// adminConn is how the controllers log in: --admin-db-user, or the
// gateway's --db-user when it is not set.
func (g *gatewayFlags) adminConn() tablet.ConnConfig {
	if g.adminDB.user != "" {
		return tablet.ConnConfig{User: g.adminDB.user, Password: g.adminDB.password}
	}
	return tablet.ConnConfig{User: g.dbUser, Password: g.dbPassword}
}

func withLogger(c tablet.ConnConfig, logger *slog.Logger) tablet.ConnConfig {
	c.Logger = logger
	return c
}

// flagSet reports whether the command line named flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
