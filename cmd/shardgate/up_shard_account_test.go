package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/shardgate/shardgate/tablet/localcluster"
)

// checkUpShardAccount: the gateway of `shardgate up` logs in to its shards
// as shardgate_app (CURRENT_USER() through a shard target), whose password
// is in the data directory; its client, with no admin grant, gets 1227
// for SHUTDOWN; and that account, logged in to the shard directly as if
// the gateway's check were bypassed, can neither shut the shard down nor
// read mysql.user. (TestUpRestartKeepsRows calls it.)
func checkUpShardAccount(t *testing.T, addr, dataDir string) {
	t.Helper()
	gw, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/%s", addr, "service:-40"))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	var user, port string
	if err := gw.QueryRow("SELECT CURRENT_USER(), @@port").Scan(&user, &port); err != nil {
		t.Fatal(err)
	}
	if user != "shardgate_app@127.0.0.1" {
		t.Errorf("CURRENT_USER() through `service:-40` = %s, want shardgate_app@127.0.0.1", user)
	}
	_, err = gw.Exec("SHUTDOWN")
	wantNumber(t, "SHUTDOWN through the gateway", err, 1227)

	cnf, err := os.ReadFile(filepath.Join(dataDir, localcluster.AppCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	var password string
	for _, line := range strings.Split(string(cnf), "\n") {
		if v, ok := strings.CutPrefix(line, "password="); ok {
			password = v
		}
	}
	direct, err := sql.Open("mysql", fmt.Sprintf("shardgate_app:%s@tcp(127.0.0.1:%s)/service", password, port))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	_, err = direct.Exec("SHUTDOWN")
	wantNumber(t, "SHUTDOWN as shardgate_app on the shard", err, 1227)
	_, err = direct.Query("SELECT authentication_string FROM mysql.user")
	wantNumber(t, "SELECT FROM mysql.user as shardgate_app on the shard", err, 1142)
	if err := gw.QueryRow("SELECT 1").Scan(&port); err != nil {
		t.Errorf("the shard after the refused SHUTDOWNs: %v", err)
	}
}

func wantNumber(t *testing.T, what string, err error, number uint16) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != number {
		t.Errorf("%s: got %v, want error %d", what, err, number)
	}
}
