package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/shardgate/shardgate/acl"
)

// TestShowGrantsShowsTheGatewayUser: SHOW GRANTS answers the gateway
// user's own grants in MySQL's form (it used to reach a shard and show
// the shard account's), SHOW GRANTS FOR another user is the admin's
// (1044 on mysql for others, as MySQL), and an unknown user is 1141.
func TestShowGrantsShowsTheGatewayUser(t *testing.T) {
	addr := shared.Get(t).Gateway.Addr()
	rootExec(t, "create table if not exists acl_g1 (id bigint primary key)")
	addUser(t, addr, "acl_granted", acl.NativePassword, "g-pw",
		grant("service", "", "read"), grant("global", "", "read", "write"), grant("service", "acl_g1", "write"))
	db := userDB(t, "acl_granted", "g-pw", "service")
	want := []string{
		"GRANT USAGE ON *.* TO `acl_granted`@`%`",
		"GRANT SELECT, INSERT, UPDATE, DELETE ON `global`.* TO `acl_granted`@`%`",
		"GRANT SELECT ON `service`.* TO `acl_granted`@`%`",
		"GRANT INSERT, UPDATE, DELETE ON `service`.`acl_g1` TO `acl_granted`@`%`",
	}
	for _, q := range []string{"show grants", "show grants for current_user()", "show grants for current_user"} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		var got []string
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				t.Fatal(err)
			}
			got = append(got, g)
		}
		rows.Close()
		if !slices.Equal(got, want) || len(cols) != 1 || cols[0] != "Grants for acl_granted@%" {
			t.Errorf("%s: got %q %q, want %q [Grants for acl_granted@%%]", q, cols, got, want)
		}
		for _, g := range got {
			if strings.Contains(g, "shardgate_app") || strings.Contains(g, "PASSWORD") {
				t.Errorf("%s shows %q", q, g)
			}
		}
	}
	_, err := db.Query("show grants for root")
	wantErr(t, "show grants for another user, not an admin", err, 1044, "")

	root := shared.db(t, "service", "")
	got := queryStrings(t, root, "show grants for acl_granted")
	if len(got) != len(want) || got[1][0] != want[1] {
		t.Errorf("show grants for acl_granted as root: got %q, want %q", got, want)
	}
	if got := queryStrings(t, root, "show grants"); len(got) != 2 || !strings.HasPrefix(got[1][0], "GRANT ALL PRIVILEGES ON *.* TO ") {
		t.Errorf("root's show grants: got %q, want USAGE then ALL PRIVILEGES ON *.*", got)
	}
	_, err = root.Query("show grants for nobody_here")
	wantErr(t, "show grants for an unknown user", err, 1141, "There is no such grant defined for user 'nobody_here' on host '%'")
}
