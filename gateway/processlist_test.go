package gateway_test

import (
	"strings"
	"testing"
	"time"
)

// SHOW PROCESSLIST lists the gateway's client sessions (what KILL takes),
// not one shard's backend connections: a statement running in another
// session shows with its text, its id and the Query command.
func TestShowProcesslistListsGatewaySessions(t *testing.T) {
	db := shared.db(t, "service", "")
	db.SetMaxOpenConns(2)
	done := make(chan error, 1)
	go func() {
		_, err := db.Exec("select sleep(3) from dual where 1 = 1")
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found []string
		for _, row := range queryStrings(t, db, "show full processlist") {
			if len(row) != 9 {
				t.Fatalf("got a row of %d columns, want MariaDB's 9: %q", len(row), row)
			}
			if row[4] == "Query" && strings.Contains(row[7], "sleep(3)") {
				found = row
			}
		}
		if found != nil {
			if found[1] != "root" || found[3] != "service" || found[6] != "executing" {
				t.Errorf("got process %q, want user root, db service, state executing", found)
			}
			var self []string
			for _, row := range queryStrings(t, db, "show processlist") {
				if strings.Contains(row[7], "show processlist") {
					self = row
				}
			}
			if self == nil {
				t.Errorf("SHOW PROCESSLIST does not show itself")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running sleep(3) never showed in SHOW FULL PROCESSLIST")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
