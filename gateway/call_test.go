package gateway_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
)

// Stored procedures in an unsharded keyspace: a definition whose body the
// gateway's parser can't read (SIGNAL, compound statements) reaches the
// shard as written, also after other statements of a multi-statement
// query; CALL answers every result set the procedure produces, then its
// OK, in the text and the binary protocol; an error it raises after some
// results reaches the client. In a sharded keyspace both are refused (a
// procedure would see one shard's rows).
func TestStoredProcedures(t *testing.T) {
	db := shared.db(t, "global", "multiStatements=true")
	mustExec(t, db, `DROP PROCEDURE IF EXISTS sets_then_signal;
		CREATE PROCEDURE sets_then_signal(fail INT)
		BEGIN
			SELECT 1 AS a, 2 AS b UNION ALL SELECT 3, 4;
			DO 1;
			SELECT 'x' AS c;
			IF fail THEN
				SIGNAL SQLSTATE '45001' SET MESSAGE_TEXT = 'failed on purpose', MYSQL_ERRNO = 45001;
			END IF;
		END;`)
	t.Cleanup(func() { mustExec(t, db, "DROP PROCEDURE sets_then_signal") })

	readSets := func(rows *sql.Rows) ([][][]string, error) {
		var sets [][][]string
		for {
			cols, err := rows.Columns()
			if err != nil {
				return sets, err
			}
			var set [][]string
			for rows.Next() {
				vals := make([]sql.RawBytes, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return sets, err
				}
				row := make([]string, len(vals))
				for i, v := range vals {
					row[i] = string(v)
				}
				set = append(set, row)
			}
			sets = append(sets, set)
			if !rows.NextResultSet() {
				return sets, rows.Err()
			}
		}
	}
	want := [][][]string{{{"1", "2"}, {"3", "4"}}, {{"x"}}}
	for _, params := range []string{"", "interpolateParams=true"} {
		conn := shared.db(t, "global", params)
		for _, q := range []struct {
			text string
			args []any
		}{{"CALL sets_then_signal(0)", nil}, {"CALL sets_then_signal(?)", []any{0}}} {
			rows, err := conn.QueryContext(context.Background(), q.text, q.args...)
			if err != nil {
				t.Fatalf("%s (%s): %v", q.text, params, err)
			}
			got, err := readSets(rows)
			rows.Close()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s (%s): got %q, %v; want %q", q.text, params, got, err, want)
			}
			if got := queryStrings(t, conn, "SELECT 5"); fmt.Sprint(got) != "[[5]]" {
				t.Errorf("after CALL: got %v, want [[5]]", got)
			}
		}
		rows, err := conn.Query("CALL sets_then_signal(1)")
		if err == nil {
			_, err = readSets(rows)
			rows.Close()
		}
		if errNumber(err) != 45001 {
			t.Errorf("CALL that signals (%s): got %v, want error 45001", params, err)
		}
	}

	sharded := shared.db(t, "service", "")
	if _, err := sharded.Exec("CALL sets_then_signal(0)"); errNumber(err) != 1235 {
		t.Errorf("CALL in a sharded keyspace: got %v, want 1235", err)
	}
	_, err := sharded.Exec("CREATE PROCEDURE p_sharded() BEGIN SIGNAL SQLSTATE '45000'; END")
	if errNumber(err) != 1235 {
		t.Errorf("a routine definition the parser can't read, in a sharded keyspace: got %v, want 1235", err)
	}
}
