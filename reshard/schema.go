package reshard

import (
	"context"
	"fmt"
	"strings"

	"github.com/shardgate/shardgate/tablet"
)

// copySchema creates every base table of the source's database on each
// target (CREATE TABLE IF NOT EXISTS with the source's SHOW CREATE TABLE,
// so running it again is harmless), and copies the rows of the reference
// tables, which every shard holds whole.
//
// A target whose split tables already hold rows is refused: the copy
// would mix them with the source's.
func copySchema(ctx context.Context, cc tablet.ConnConfig, db, source string, targets []string, split, reference []string) error {
	login := cc
	login.Addr, login.DB = source, db
	return copyTables(ctx, login, cc, db, targets, nil, split, reference)
}

// copyTables is copySchema from a source reached with srcLogin (Addr and
// DB set) into database db of the targets, reached with cc: only the
// tables named in only, or every base table when only is nil.
func copyTables(ctx context.Context, srcLogin, cc tablet.ConnConfig, db string, targets, only, split, reference []string) error {
	source := srcLogin.Addr
	src, err := tablet.Dial(ctx, srcLogin)
	if err != nil {
		return fmt.Errorf("source %s: %w", source, err)
	}
	defer src.Close()
	tables := only
	if tables == nil {
		if tables, err = baseTables(ctx, src); err != nil {
			return fmt.Errorf("source %s: %w", source, err)
		}
	}
	var creates []string
	for _, t := range tables {
		res, err := src.Execute(ctx, "SHOW CREATE TABLE "+quoteIdent(t))
		if err != nil {
			return fmt.Errorf("source %s: table %q: %w", source, t, err)
		}
		stmt := string(res.Rows[0][1])
		rest, ok := strings.CutPrefix(stmt, "CREATE TABLE ")
		if !ok {
			return fmt.Errorf("source %s: table %q: unexpected SHOW CREATE TABLE %.40q", source, t, stmt)
		}
		creates = append(creates, "CREATE TABLE IF NOT EXISTS "+rest)
	}
	refRows := make(map[string]*tablet.Result, len(reference))
	for _, t := range reference {
		// Reference tables are small (every shard holds them whole), so
		// one buffered read does.
		res, err := src.Execute(ctx, "SELECT * FROM "+quoteIdent(t))
		if err != nil {
			return fmt.Errorf("source %s: reference table %q: %w", source, t, err)
		}
		refRows[t] = res
	}
	for _, addr := range targets {
		if err := createOn(ctx, cc, addr, db, creates, split, refRows); err != nil {
			return fmt.Errorf("target %s: %w", addr, err)
		}
	}
	return nil
}

// createOn creates the database and tables on one target and writes the
// reference tables' rows.
func createOn(ctx context.Context, cc tablet.ConnConfig, addr, db string, creates, split []string, refRows map[string]*tablet.Result) error {
	cc.Addr, cc.DB = addr, ""
	admin, err := tablet.Dial(ctx, cc)
	if err != nil {
		return err
	}
	_, err = admin.Execute(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db))
	if err == nil {
		err = ensurePositionTable(ctx, admin)
	}
	admin.Close()
	if err != nil {
		return err
	}
	conn, err := dialTarget(ctx, cc, addr, db)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, stmt := range creates {
		if _, err := conn.Execute(ctx, stmt); err != nil {
			return fmt.Errorf("%.60s...: %w", stmt, err)
		}
	}
	for _, t := range split {
		res, err := conn.Execute(ctx, "SELECT 1 FROM "+quoteIdent(t)+" LIMIT 1")
		if err != nil {
			return fmt.Errorf("table %q: %w", t, err)
		}
		if len(res.Rows) > 0 {
			return fmt.Errorf("table %q already has rows; a target must start empty: %w", t, ErrInvalid)
		}
	}
	for t, res := range refRows {
		if err := writeRows(ctx, conn, t, res.Fields, res.Rows); err != nil {
			return fmt.Errorf("reference table %q: %w", t, err)
		}
	}
	return nil
}
