package main

import (
	"flag"
	"log/slog"
	"strings"

	"github.com/shardgate/shardgate/gateway"
	"github.com/shardgate/shardgate/tablet"
)

// shardAccessFlags say who may do what on the shards: the account the
// controllers (failover, resharding) log in to the MySQL instances with —
// they change replication, toggle read_only, read binlogs and create
// databases, rights the gateway's own account (--db-user) should not
// have — and the gateway users who may run the statements refused to
// everyone else (docs/SECURITY.md).
type shardAccessFlags struct {
	adminDBUser     string
	adminDBPassword string
	adminUsers      string
}

func (f *shardAccessFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.adminDBUser, "admin-db-user", "", "user the failover and resharding controllers log in to the MySQL instances with (replication admin, read_only, binlogs); empty: --db-user")
	fs.StringVar(&f.adminDBPassword, "admin-db-password", "", "password for --admin-db-user")
	fs.StringVar(&f.adminUsers, "admin-users", "", "comma-separated gateway users who may run server administration toward the shards (SHUTDOWN, user management, INTO OUTFILE, LOAD_FILE, SET GLOBAL, the mysql database, ...); everyone else gets MySQL's access-denied error")
}

// apply sets the gateway's admin users.
func (f *shardAccessFlags) apply(cfg *gateway.Config) {
	for _, u := range strings.Split(f.adminUsers, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.AdminUsers = append(cfg.AdminUsers, u)
		}
	}
}

// adminConn is how the controllers log in: --admin-db-user, or the
// gateway's --db-user when it is not set.
func (g *gatewayFlags) adminConn() tablet.ConnConfig {
	if g.dbAccess.adminDBUser != "" {
		return tablet.ConnConfig{User: g.dbAccess.adminDBUser, Password: g.dbAccess.adminDBPassword}
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
