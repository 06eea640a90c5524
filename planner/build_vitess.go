package planner

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/engine"
	"github.com/shardgate/shardgate/sqlerror"
	"github.com/shardgate/shardgate/topo/vschema"
)

// BuildVitess plans the Vitess statements the TiDB parser does not parse,
// from their text: SHOW VITESS_KEYSPACES/SHARDS/TABLETS (and SHOW
// KEYSPACES), SELECT NEXT n VALUES FROM seq, and VEXPLAIN, whose explained
// statement p parses. ok is false, with nothing done, when sql is none of
// them; the caller then parses it and calls Build. Its plans are never
// cached (their text is not normalised).
func BuildVitess(p *Parser, sql string, vs *vschema.VSchema, target Target) (plan *Plan, ok bool, err error) {
	if vs == nil {
		vs = &vschema.VSchema{}
	}
	if m := nextValuesRE.FindStringSubmatch(sql); m != nil {
		root, err := buildNextValues(m, vs, target)
		plan := &Plan{Type: StmtLocal, Root: root, Original: sql}
		if nv, ok := root.(*engine.NextValues); ok {
			// Taking values writes the sequence's row.
			plan.Access = []TableAccess{{Keyspace: nv.Keyspace, Table: nv.Table, Kind: AccessWrite, Command: "UPDATE"}}
		}
		return plan, true, err
	}
	if mode, rest, execute, ok := vexplainMode(sql); ok {
		plan, err := buildVExplain(p, mode, strings.TrimRight(rest, "; \t\n"), execute, vs, target)
		return plan, true, err
	}
	words := strings.Fields(strings.ToLower(strings.TrimRight(strings.TrimSpace(sql), "; \t\n")))
	if len(words) == 3 && words[0] == "show" && words[1] == "query" && words[2] == "stats" {
		// The gateway's query digests (no Vitess statement lists them;
		// the name follows the issue and MySQL's "statement digests").
		return &Plan{Type: StmtShow, Root: &engine.ShowQueryStats{}, Original: sql, Admin: true}, true, nil
	}
	if len(words) != 2 || words[0] != "show" {
		return nil, false, nil
	}
	var root engine.Primitive
	// Everything but the keyspace list (SHOW DATABASES by another name,
	// filtered by grants) shows the estate: admin only.
	admin := true
	switch words[1] {
	case "vitess_keyspaces", "keyspaces":
		root = &engine.Show{Kind: engine.ShowDatabases, Column: "Database"}
		admin = false
	case "vitess_shards":
		root = &engine.Show{Kind: engine.ShowShards}
	case "vitess_tablets":
		root = &engine.Show{Kind: engine.ShowTablets}
	case "vitess_query_stats":
		root = &engine.ShowQueryStats{}
	default:
		return nil, false, nil
	}
	return &Plan{Type: StmtShow, Root: root, Original: sql, Admin: admin}, true, nil
}

// nextValuesRE matches Vitess's `SELECT NEXT [n] VALUE[S] FROM seq`.
var nextValuesRE = regexp.MustCompile(`(?i)^\s*select\s+next\s+(?:(\d+)\s+)?values?\s+from\s+(?:` + "`?" + `(\w+)` + "`?" + `\.)?` + "`?" + `(\w+)` + "`?" + `\s*;?\s*$`)

// buildNextValues plans NEXT n VALUES from nextValuesRE's match: count,
// keyspace (may be empty), table.
func buildNextValues(m []string, vs *vschema.VSchema, target Target) (engine.Primitive, error) {
	n := int64(1)
	if m[1] != "" {
		var err error
		if n, err = strconv.ParseInt(m[1], 10, 64); err != nil || n < 1 {
			return nil, sqlerror.New(sqlerror.User, mysql.ER_WRONG_ARGUMENTS, "Incorrect arguments to NEXT VALUES")
		}
	}
	seq, err := vs.FindTable(m[2], m[3])
	if err != nil || seq.Type != vschema.TypeSequence {
		ks := m[2]
		if ks == "" {
			ks = target.Keyspace
		}
		return nil, sqlerror.New(sqlerror.User, mysql.ER_NO_SUCH_TABLE, "Table '%s.%s' is not a sequence", ks, m[3])
	}
	return &engine.NextValues{Keyspace: seq.Keyspace, Table: seq.Name, Count: n}, nil
}

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

// VExplainStatement returns the statement a VEXPLAIN explains (and may
// run); ok is false when sql is not VEXPLAIN. The gateway checks it as it
// checks the statements it runs (CheckRestricted).
func VExplainStatement(sql string) (explained string, ok bool) {
	_, rest, _, ok := vexplainMode(sql)
	return strings.TrimRight(rest, "; \t\n"), ok
}

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

// buildVExplain plans VEXPLAIN mode sql, refusing what must not run.
func buildVExplain(p *Parser, mode, sql string, execute bool, vs *vschema.VSchema, target Target) (*Plan, error) {
	if sql == "" {
		return nil, sqlerror.New(sqlerror.User, mysql.ER_PARSE_ERROR, "VEXPLAIN needs a statement to explain")
	}
	stmts, err := p.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, errVExplain("VEXPLAIN explains exactly one statement")
	}
	if mode == "keys" {
		b, err := json.MarshalIndent(Keys(stmts[0]), "", "  ")
		if err != nil {
			return nil, err
		}
		return &Plan{Type: StmtVExplain, Root: &engine.VExplain{Mode: engine.VExplainKeys, Keys: b}, Original: sql, Admin: true}, nil
	}
	inner, err := Build(stmts[0], sql, vs, target)
	if err != nil {
		return nil, err
	}
	if inner.ParamCount > 0 && mode != "plan" {
		return nil, errVExplain("VEXPLAIN " + strings.ToUpper(mode) + " cannot run a statement with ? parameters")
	}
	if mode != "plan" && inner.Type != StmtSelect && !execute {
		if mode == "all" {
			return nil, errVExplain("VEXPLAIN ALL runs only SELECT statements; use VEXPLAIN PLAN for a write")
		}
		return nil, errVExplain("VEXPLAIN QUERIES runs only SELECT statements; VEXPLAIN QUERIES EXECUTE <statement> runs a write and shows its queries")
	}
	if mode != "plan" && inner.Type == StmtDDL {
		return nil, errVExplain("VEXPLAIN does not run DDL")
	}
	root := &engine.VExplain{Mode: engine.VExplainMode(strings.ToUpper(mode)), Input: inner.Root}
	root.Writes = mode != "plan" && inner.Type != StmtSelect
	// VEXPLAIN is an operator's tool (admin), and what it runs needs the
	// explained statement's own privileges.
	return &Plan{Type: StmtVExplain, Root: root, Original: sql, Admin: true, Access: inner.Access}, nil
}
