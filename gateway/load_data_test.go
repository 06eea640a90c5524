package gateway_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// LOAD DATA LOCAL INFILE: into an unsharded table the file is relayed to
// the shard; into a sharded table the gateway cuts it into rows and each
// row lands on the shard that owns its id (checked on the shards
// directly), with MySQL's escapes, enclosures and NULLs, duplicate keys
// skipped as LOCAL does, IGNORE n LINES, a missing field read as an
// empty value (0 for a number, as MariaDB reads it); a client that did not enable local files gets 1148.
func TestLoadDataLocal(t *testing.T) {
	const rows = 300
	var file strings.Builder
	file.WriteString("id,v,n\n") // skipped: IGNORE 1 LINES
	for id := 1; id <= rows; id++ {
		switch id {
		case 7:
			file.WriteString("7,\"quoted, with \"\"comma\"\"\",\\N\n")
		case 8:
			file.WriteString("8,escaped \\n newline,NULL\n")
		case 9:
			file.WriteString("9,too few\n")
		default:
			fmt.Fprintf(&file, "%d,row %d,%d\n", id, id, id*10)
		}
	}
	file.WriteString("5,duplicate of 5,0\n") // skipped as LOCAL does
	content := file.String()
	mysql.RegisterReaderHandler("shardgate_load", func() io.Reader { return strings.NewReader(content) })
	t.Cleanup(func() { mysql.DeregisterReaderHandler("shardgate_load") })
	load := `LOAD DATA LOCAL INFILE 'Reader::shardgate_load' INTO TABLE ld_t
		FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' IGNORE 1 LINES (id, v, n)`

	for _, ks := range []string{"global", "service"} {
		db := shared.db(t, ks, "")
		mustExec(t, db, "CREATE TABLE ld_t (id BIGINT PRIMARY KEY, v VARCHAR(64), n INT DEFAULT 42)")
		t.Cleanup(func() { mustExec(t, db, "DROP TABLE ld_t") })
		res, err := db.Exec(load)
		if err != nil {
			t.Fatalf("%s: %v", ks, err)
		}
		if n, _ := res.RowsAffected(); n != rows {
			t.Errorf("%s: %d rows affected, want %d", ks, n, rows)
		}
		got := queryStrings(t, db, "SELECT id, v, COALESCE(n, 'NULL') FROM ld_t WHERE id IN (5, 7, 8, 9) ORDER BY id")
		want := `[[5 row 5 50] [7 quoted, with "comma" NULL] [8 escaped ` + "\n" + ` newline NULL] [9 too few 0]]`
		if fmt.Sprint(got) != want {
			t.Errorf("%s: rows\n got %q\nwant %q", ks, fmt.Sprint(got), want)
		}
		if got := queryStrings(t, db, "SELECT COUNT(*) FROM ld_t"); got[0][0] != fmt.Sprint(rows) {
			t.Errorf("%s: %s rows, want %d", ks, got[0][0], rows)
		}
	}

	// Each row on the shard that owns it, and on no other.
	for _, shard := range serviceShards {
		for _, r := range queryStrings(t, shared.shardDB(t, "service", shard), "SELECT id FROM ld_t") {
			var id int64
			fmt.Sscan(r[0], &id)
			if owner := shardOf(t, id); owner != shard {
				t.Errorf("row %d on shard %s, owned by %s", id, shard, owner)
			}
		}
	}

	off := shared.db(t, "service", "allowAllFiles=false")
	mustExec(t, off, "CREATE TABLE ld_off (id BIGINT PRIMARY KEY)")
	t.Cleanup(func() { mustExec(t, off, "DROP TABLE ld_off") })
	if _, err := off.Exec("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE ld_off"); err == nil {
		t.Error("LOAD DATA LOCAL of a file the client does not allow: got no error")
	}
}
