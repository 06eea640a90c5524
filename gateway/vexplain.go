package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/planner"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo"
)

// VEXPLAIN, Vitess's way for a DBA to see how the gateway runs a query.
// TiDB's parser does not know the statement, so its prefix is cut off here
// and the rest is parsed as the statement to explain:
//
//	VEXPLAIN [PLAN] <stmt>      the plan tree as JSON; nothing runs
//	VEXPLAIN QUERIES <select>   runs it; one row per shard query sent
//	VEXPLAIN QUERIES EXECUTE <stmt>
//	                            the same for a write: it really runs
//	VEXPLAIN ALL <select>       runs it; the plan, and each shard query
//	                            with the shard's EXPLAIN of it
//	VEXPLAIN KEYS <stmt>        the columns it filters, groups, joins and
//	                            orders on; nothing runs
//
// A write after QUERIES without EXECUTE, or after ALL, is refused (1235):
// VEXPLAIN must never change data by surprise.

// vexplainMode parses the prefix; ok is false when sql is not VEXPLAIN.
func vexplainMode(sql string) (mode, rest string, execute, ok bool) {
	s := strings.TrimSpace(sql)
	word, after := cutWord(s)
	if !strings.EqualFold(word, "vexplain") {
		return "", "", false, false
	}
	mode = "plan"
	if w, r := cutWord(after); w != "" {
		switch lw := strings.ToLower(w); lw {
		case "plan", "queries", "all", "keys":
			mode, after = lw, r
		}
	}
	if mode == "queries" {
		if w, r := cutWord(after); strings.EqualFold(w, "execute") {
			execute, after = true, r
		}
	}
	return mode, strings.TrimSpace(after), execute, true
}

// cutWord splits off the first whitespace-delimited word.
func cutWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\r\n")
	i := strings.IndexAny(s, " \t\r\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func errVExplain(msg string) error {
	return sqlerror.New(sqlerror.Unsupported, mysql.ER_NOT_SUPPORTED_YET, "%s", msg)
}

// execVExplain answers a VEXPLAIN statement.
func (s *session) execVExplain(ctx context.Context, mode, sql string, execute bool) error {
	if sql == "" {
		return sqlerror.New(sqlerror.User, mysql.ER_PARSE_ERROR, "VEXPLAIN needs a statement to explain")
	}
	stmts, err := s.parser.Parse(sql)
	if err != nil {
		return err
	}
	if len(stmts) != 1 {
		return errVExplain("VEXPLAIN explains exactly one statement")
	}
	stmt := stmts[0]
	if mode == "keys" {
		b, err := json.MarshalIndent(planner.Keys(stmt), "", "  ")
		if err != nil {
			return err
		}
		return s.writeResult(oneJSON("ColumnUsage", b), false, false)
	}
	plan, r, err := s.buildPlan(stmt, sql)
	if err != nil {
		return err
	}
	if plan.ParamCount > 0 && mode != "plan" {
		return errVExplain("VEXPLAIN " + strings.ToUpper(mode) + " cannot run a statement with ? parameters")
	}
	planJSON, err := engine.PlanJSON(plan.Root)
	if err != nil {
		return err
	}
	if mode == "plan" {
		return s.writeResult(oneJSON("JSON", planJSON), false, false)
	}
	if plan.Type != planner.StmtSelect && !execute {
		if mode == "all" {
			return errVExplain("VEXPLAIN ALL runs only SELECT statements; use VEXPLAIN PLAN for a write")
		}
		return errVExplain("VEXPLAIN QUERIES runs only SELECT statements; VEXPLAIN QUERIES EXECUTE <statement> runs a write and shows its queries")
	}
	if plan.Type == planner.StmtDDL {
		return errVExplain("VEXPLAIN does not run DDL")
	}
	if plan.Type != planner.StmtSelect && s.tx == nil && !s.autocommit && s.tabletType == topo.TabletPrimary {
		s.tx = s.newTransaction() // as execStmt: autocommit off opens one
	}
	vc := s.newVCursor(r)
	rec := engine.NewRecorder(vc)
	_, err = plan.Root.Execute(ctx, rec, nil)
	vc.flushWarnings()
	if err != nil {
		return err
	}
	queries := rec.Queries()
	if mode == "queries" {
		res := &engine.Result{Fields: []*mysql.Field{uintField("#"), textFields("keyspace")[0], textFields("shard")[0], textFields("query")[0]}}
		for i, q := range queries {
			res.Rows = append(res.Rows, [][]byte{strconv.AppendInt(nil, int64(i), 10), []byte(q.Keyspace), []byte(q.Shard), []byte(q.Query)})
		}
		return s.writeResult(res, false, false)
	}
	// ALL: each shard query with the shard's EXPLAIN.
	type shardExplain struct {
		Number   int                 `json:"#"`
		Keyspace string              `json:"Keyspace"`
		Shard    string              `json:"Shard"`
		Query    string              `json:"Query"`
		Explain  []map[string]string `json:"Explain"`
	}
	out := struct {
		Plan    json.RawMessage `json:"Plan"`
		Queries []shardExplain  `json:"Queries"`
	}{Plan: planJSON, Queries: []shardExplain{}}
	for i, q := range queries {
		res, err := vc.executeOne(ctx, q.Keyspace, q.Shard, "explain "+q.Query)
		if err != nil {
			return err
		}
		se := shardExplain{Number: i, Keyspace: q.Keyspace, Shard: q.Shard, Query: q.Query, Explain: []map[string]string{}}
		for _, row := range res.Rows {
			m := map[string]string{}
			for j, f := range res.Fields {
				if j < len(row) && row[j] != nil {
					m[string(f.Name)] = string(row[j])
				}
			}
			se.Explain = append(se.Explain, m)
		}
		out.Queries = append(out.Queries, se)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return s.writeResult(oneJSON("JSON", b), false, false)
}

func oneJSON(column string, b []byte) *engine.Result {
	return &engine.Result{Fields: textFields(column), Rows: [][][]byte{{b}}}
}
