package sqlerror_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const goMySQLPackage = "github.com/go-mysql-org/go-mysql/mysql"

// handBuiltAllowed lists the files, relative to the module root, that may
// build a *mysql.MyError outside this package, each with its reason.
func handBuiltAllowed() map[string]string {
	return map[string]string{
		// Decoding a server's ERR packet: the shard's number, SQLSTATE and
		// message are read into go-mysql's type and passed through untouched.
		"wire/packets.go": "decodes a shard's ERR packet",
	}
}

// No package builds MySQL errors by hand: every error a client sees gets
// its class, number and SQLSTATE here (sqlerror.New, NotSupported,
// NewSentinel, ToMyError). The check reads the syntax, so an import
// renamed (gomysql.NewError) is caught too; test files are exempt.
func TestNoPackageBuildsMySQLErrorsByHand(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	allowed := handBuiltAllowed()
	var found []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel == "sqlerror" || name == "testdata" || name == "node_modules" || (strings.HasPrefix(name, ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || allowed[rel] != "" {
			return nil
		}
		for _, at := range handBuiltErrors(t, path) {
			found = append(found, rel+":"+at)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s builds a MySQL error by hand; use sqlerror.New, NotSupported or NewSentinel (or sqlerror.ToMyError where go-mysql needs a *mysql.MyError)", f)
	}
	for rel := range allowed {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
			t.Errorf("allow-listed %s: %v (moved? update handBuiltAllowed)", rel, err)
		}
	}
}

// handBuiltErrors returns the line:column of every mysql.NewError,
// mysql.NewDefaultError call and mysql.MyError literal in the file.
func handBuiltErrors(t *testing.T, path string) []string {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	name := ""
	for _, imp := range file.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == goMySQLPackage {
			name = "mysql"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" || name == "_" {
		return nil
	}
	isMySQL := func(e ast.Expr, names ...string) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok || pkg.Name != name {
			return false
		}
		for _, n := range names {
			if sel.Sel.Name == n {
				return true
			}
		}
		return false
	}
	var at []string
	ast.Inspect(file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if isMySQL(x.Fun, "NewError", "NewDefaultError") {
				at = append(at, fset.Position(x.Pos()).String())
			}
		case *ast.CompositeLit:
			if isMySQL(x.Type, "MyError") {
				at = append(at, fset.Position(x.Pos()).String())
			}
		}
		return true
	})
	for i, p := range at {
		at[i] = p[strings.LastIndex(p, ".go:")+len(".go:"):]
	}
	return at
}
