package engine

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// VExplainMode is what a VEXPLAIN shows.
type VExplainMode string

// VEXPLAIN's modes.
const (
	// VExplainPlan shows the plan tree as JSON; nothing runs.
	VExplainPlan VExplainMode = "PLAN"
	// VExplainQueries runs the statement and shows one row per shard query.
	VExplainQueries VExplainMode = "QUERIES"
	// VExplainAll runs it and shows the plan and each shard query with the
	// shard's EXPLAIN of it.
	VExplainAll VExplainMode = "ALL"
	// VExplainKeys shows the columns the statement filters, groups, joins
	// and orders on, which the planner worked out (Keys); nothing runs.
	VExplainKeys VExplainMode = "KEYS"
)

// VExplain answers VEXPLAIN: it wraps the explained statement's plan. The
// planner has already refused what must not run (a write without
// EXECUTE, DDL, ? parameters).
type VExplain struct {
	Mode  VExplainMode
	Input Primitive // nil for KEYS
	// Keys is the KEYS answer, as JSON.
	Keys []byte
	// Writes says the explained statement is not a SELECT and runs
	// (QUERIES EXECUTE): the gateway opens the transaction autocommit off
	// would open for the statement itself.
	Writes bool
}

// Execute implements Primitive.
func (v *VExplain) Execute(ctx context.Context, vc VCursor, _ []any) (*Result, error) {
	if v.Mode == VExplainKeys {
		return oneJSON("ColumnUsage", v.Keys), nil
	}
	planJSON, err := PlanJSON(v.Input)
	if err != nil {
		return nil, err
	}
	if v.Mode == VExplainPlan {
		return oneJSON("JSON", planJSON), nil
	}
	rec := NewRecorder(vc)
	if _, err := v.Input.Execute(ctx, rec, nil); err != nil {
		return nil, err
	}
	queries := rec.Queries()
	if v.Mode == VExplainQueries {
		res := &Result{Fields: []*mysql.Field{UintField("#"), TextFields("keyspace")[0], TextFields("shard")[0], TextFields("query")[0]}}
		for i, q := range queries {
			res.Rows = append(res.Rows, [][]byte{strconv.AppendInt(nil, int64(i), 10), []byte(q.Keyspace), []byte(q.Shard), []byte(q.Query)})
		}
		return res, nil
	}
	return v.explainAll(ctx, vc, planJSON, queries)
}

// explainAll asks each shard for its EXPLAIN of the query it was sent.
func (v *VExplain) explainAll(ctx context.Context, vc VCursor, planJSON []byte, queries []ShardQuery) (*Result, error) {
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
		rs, err := vc.ExecuteMulti(ctx, q.Keyspace, []string{q.Shard}, []string{"explain " + q.Query})
		if err != nil {
			return nil, err
		}
		res := rs[0]
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
		return nil, err
	}
	return oneJSON("JSON", b), nil
}

func oneJSON(column string, b []byte) *Result {
	return &Result{Fields: TextFields(column), Rows: [][][]byte{{b}}}
}

// Stream implements Primitive.
func (v *VExplain) Stream(ctx context.Context, vc VCursor, args []any, fn func(*Result) error) error {
	return streamExecuted(ctx, v, vc, args, fn)
}

// Inputs implements Primitive.
func (v *VExplain) Inputs() []Primitive {
	if v.Input == nil {
		return nil
	}
	return []Primitive{v.Input}
}

func (v *VExplain) description() Description {
	d := Description{OperatorType: "VEXPLAIN", Variant: string(v.Mode)}
	if v.Writes {
		d.Other = map[string]any{"Writes": true}
	}
	return d
}
