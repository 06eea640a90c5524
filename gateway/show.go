package gateway

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
)

// execShow answers SHOW statements: keyspaces and warnings from the
// gateway's own state, table metadata from one shard of the table's
// keyspace (every shard has the same schema), and server-level SHOWs
// (VARIABLES, STATUS, COLLATION, ...) from a shard of the session's keyspace.
func (s *session) execShow(ctx context.Context, st *ast.ShowStmt, sql string, binary, more bool) error {
	r := s.routing()
	switch st.Tp {
	case ast.ShowDatabases:
		return s.writeResult(keyspaceRows(r, "Database"), binary, more)
	case ast.ShowWarnings, ast.ShowErrors:
		res := &engine.Result{Fields: []*mysql.Field{textFields("Level")[0], uintField("Code"), textFields("Message")[0]}}
		// They are the previous statement's, and stay for the next
		// SHOW WARNINGS, as in MySQL.
		s.warnings = append(s.warnings[:0], s.prevWarnings...)
		for _, w := range s.warnings {
			if st.Tp == ast.ShowErrors && w.level != "Error" {
				continue
			}
			res.Rows = append(res.Rows, [][]byte{[]byte(w.level), strconv.AppendUint(nil, uint64(w.code), 10), []byte(w.message)})
		}
		return s.writeResult(res, binary, more)
	}

	ks := st.DBName
	if ks == "" && st.Table != nil {
		ks = st.Table.Schema.O
	}
	switch st.Tp {
	case ast.ShowTables, ast.ShowCreateTable, ast.ShowColumns, ast.ShowIndex, ast.ShowTableStatus, ast.ShowCreateView, ast.ShowTriggers:
		if ks == "" {
			ks = s.keyspace
		}
		if ks == "" {
			return sqlerror.New(sqlerror.User, mysql.ER_NO_DB_ERROR, "No database selected")
		}
	default:
		if ks == "" {
			ks = s.keyspace
		}
		if ks == "" {
			ks = anyKeyspace(r)
		}
	}
	if r.snap == nil || r.snap.Keyspaces[ks] == nil {
		return sqlerror.New(sqlerror.User, mysql.ER_BAD_DB_ERROR, "Unknown database '%s'", ks)
	}
	shard := s.shard
	if shard == "" || ks != s.keyspace {
		ranges, err := r.shardRanges(ks, s.tabletType)
		if err != nil {
			return err
		}
		shard = ranges[0].Name
	}
	vc := s.newVCursor(r)
	res, err := vc.executeOne(ctx, ks, shard, sql)
	vc.flushWarnings()
	if err != nil {
		return err
	}
	return s.writeResult(res, binary, more)
}

// execSpecial answers the Vitess statements TiDB's parser does not know
// (SHOW VITESS_*, SELECT NEXT n VALUES FROM seq, VEXPLAIN). It reports
// whether sql was one of them.
func (s *session) execSpecial(ctx context.Context, sql string) (bool, error) {
	if m := nextValuesRE.FindStringSubmatch(sql); m != nil {
		return true, s.execNextValues(ctx, m)
	}
	if mode, rest, execute, ok := vexplainMode(sql); ok {
		return true, s.execVExplain(ctx, mode, strings.TrimRight(rest, "; \t\n"), execute)
	}
	words := strings.Fields(strings.ToLower(strings.TrimRight(strings.TrimSpace(sql), "; \t\n")))
	if len(words) != 2 || words[0] != "show" {
		return false, nil
	}
	r := s.routing()
	var res *engine.Result
	switch words[1] {
	case "vitess_keyspaces", "keyspaces":
		res = keyspaceRows(r, "Database")
	case "vitess_shards":
		res = &engine.Result{Fields: textFields("Shards")}
		for _, ks := range sortedKeyspaces(r) {
			for _, sh := range r.snap.Shards[ks] {
				res.Rows = append(res.Rows, [][]byte{[]byte(ks + "/" + sh.Name)})
			}
		}
	case "vitess_tablets":
		res = &engine.Result{Fields: textFields("Cell", "Keyspace", "Shard", "TabletType", "State", "Alias", "Hostname", "PrimaryTermStartTime")}
		if r.snap != nil {
			tablets := append(r.snap.Tablets[:0:0], r.snap.Tablets...)
			sort.Slice(tablets, func(i, j int) bool { return tablets[i].Alias.String() < tablets[j].Alias.String() })
			for _, t := range tablets {
				res.Rows = append(res.Rows, [][]byte{
					[]byte(t.Alias.Cell), []byte(t.Keyspace), []byte(t.Shard), []byte(strings.ToUpper(string(t.Type))),
					[]byte("SERVING"), []byte(t.Alias.String()), []byte(t.Host), []byte(""),
				})
			}
		}
	default:
		return false, nil
	}
	return true, s.writeResult(res, false, false)
}

func keyspaceRows(r *routing, column string) *engine.Result {
	res := &engine.Result{Fields: textFields(column)}
	for _, ks := range sortedKeyspaces(r) {
		res.Rows = append(res.Rows, [][]byte{[]byte(ks)})
	}
	return res
}

func sortedKeyspaces(r *routing) []string {
	if r.snap == nil {
		return nil
	}
	names := make([]string, 0, len(r.snap.Keyspaces))
	for name := range r.snap.Keyspaces {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// anyKeyspace picks a keyspace for statements about the server rather than
// a table: an unsharded one if there is one, so it is stable.
func anyKeyspace(r *routing) string {
	names := sortedKeyspaces(r)
	for _, name := range names {
		if !r.snap.Keyspaces[name].Sharded {
			return name
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}
