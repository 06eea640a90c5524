package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

// TestSendLongDataEndToEnd: go-sql-driver, told the server takes packets
// of 16 KiB only, sends a 300 KB argument with COM_STMT_SEND_LONG_DATA in
// chunks; the row the gateway writes (sharded and unsharded) holds it
// whole, next to the arguments sent inline and a NULL.
func TestSendLongDataEndToEnd(t *testing.T) {
	blob := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 300_000/18)
	for _, ks := range []string{"service", "global"} {
		t.Run(ks, func(t *testing.T) {
			db := shared.db(t, ks, "maxAllowedPacket=16384")
			mustExec(t, shared.db(t, ks, ""), "create table long_data_t (id bigint primary key, note varchar(20), body longblob, n int)")
			for id := 1; id <= 3; id++ {
				mustExec(t, db, "insert into long_data_t (id, note, body, n) values (?, ?, ?, ?)", id, fmt.Sprint("row ", id), blob, nil)
			}
			for id := 1; id <= 3; id++ {
				var note string
				var body []byte
				var n *int
				if err := db.QueryRow("select note, body, n from long_data_t where id = ?", id).Scan(&note, &body, &n); err != nil {
					t.Fatal(err)
				}
				if note != fmt.Sprint("row ", id) || sha256.Sum256(body) != sha256.Sum256(blob) || n != nil {
					t.Errorf("row %d: got note %q, %d body bytes, n %v; want %q, the %d bytes sent, NULL", id, note, len(body), n, fmt.Sprint("row ", id), len(blob))
				}
			}
		})
	}
}

// TestSendLongDataOver16MiB: with go-sql-driver's limit at 32 MiB, a 17 MiB
// argument goes as one COM_STMT_SEND_LONG_DATA command split over two
// packets.
func TestSendLongDataOver16MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("17 MiB through the gateway")
	}
	blob := bytes.Repeat([]byte("shardgate\x00"), 17<<20/10)
	db := shared.db(t, "global", "maxAllowedPacket=33554432")
	mustExec(t, db, "create table long_data_big (id bigint primary key, body longblob)")
	mustExec(t, db, "insert into long_data_big (id, body) values (1, ?)", blob)
	var n int
	var sum string
	if err := db.QueryRow("select length(body), sha2(body, 256) from long_data_big where id = 1").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256(blob)); n != len(blob) || sum != want {
		t.Errorf("got %d bytes with sha256 %s, want %d bytes with %s", n, sum, len(blob), want)
	}
}
