package console

import (
	"context"
	"database/sql"
	"net/http"
	"strings"

	_ "github.com/go-sql-driver/mysql" // the VEXPLAIN box's MySQL driver
)

// VExplainResult is what the VEXPLAIN box shows: the statement's result
// set as text.
type VExplainResult struct {
	Statement string     `json:"statement"`
	Columns   []string   `json:"columns"`
	Rows      [][]string `json:"rows"`
}

// vexplain runs VEXPLAIN PLAN or VEXPLAIN QUERIES (mode) of query in
// keyspace, over the MySQL protocol, as the gateway's user. It never
// executes a write: PLAN runs nothing, the gateway refuses QUERIES of a
// write (error 1235) unless the statement says EXECUTE, which the box
// refuses to send.
func (c *Console) vexplain(ctx context.Context, r *http.Request) (any, error) {
	if c.db == nil {
		return nil, &apiError{http.StatusNotFound, "the VEXPLAIN box is off (no gateway DSN)"}
	}
	mode := strings.ToUpper(strings.TrimSpace(r.FormValue("mode")))
	if mode == "" {
		mode = "PLAN"
	}
	if mode != "PLAN" && mode != "QUERIES" {
		return nil, &apiError{http.StatusBadRequest, "mode must be PLAN or QUERIES"}
	}
	query := strings.TrimRight(strings.TrimSpace(r.FormValue("query")), "; \t\r\n")
	if query == "" {
		return nil, &apiError{http.StatusBadRequest, "no query"}
	}
	if words := strings.Fields(query); len(words) > 0 && strings.EqualFold(words[0], "execute") {
		return nil, &apiError{http.StatusBadRequest, "the console never runs VEXPLAIN QUERIES EXECUTE: it would change data"}
	}
	if strings.Contains(query, ";") {
		return nil, &apiError{http.StatusBadRequest, "one statement at a time"}
	}
	keyspace := strings.TrimSpace(r.FormValue("keyspace"))
	stmt := "VEXPLAIN " + mode + " " + query

	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if keyspace != "" {
		if _, err := conn.ExecContext(ctx, "USE `"+strings.ReplaceAll(keyspace, "`", "``")+"`"); err != nil {
			return nil, &apiError{http.StatusBadRequest, err.Error()}
		}
	}
	rows, err := conn.QueryContext(ctx, stmt)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, err.Error()}
	}
	defer rows.Close()
	res := &VExplainResult{Statement: stmt, Rows: [][]string{}}
	if res.Columns, err = rows.Columns(); err != nil {
		return nil, err
	}
	for rows.Next() {
		vals := make([]sql.NullString, len(res.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = v.String
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, &apiError{http.StatusBadRequest, err.Error()}
	}
	return res, nil
}
