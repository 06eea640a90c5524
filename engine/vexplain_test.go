package engine

import (
	"context"
	"strings"
	"testing"
)

func TestVExplainModes(t *testing.T) {
	route := scatterRoute("select 1 from t")
	ctx := context.Background()

	vc := newFakeVCursor()
	res, err := (&VExplain{Mode: VExplainPlan, Input: route}).Execute(ctx, vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Rows[0][0]), `"OperatorType": "Route"`) || len(vc.log) != 0 {
		t.Errorf("PLAN: %s, log %v", res.Rows[0][0], vc.log)
	}

	vc = newFakeVCursor()
	res, err = (&VExplain{Mode: VExplainQueries, Input: route}).Execute(ctx, vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4 || string(res.Rows[3][2]) != "c0-" {
		t.Errorf("QUERIES: %s", show(res.Rows))
	}

	vc = newFakeVCursor()
	res, err = (&VExplain{Mode: VExplainAll, Input: route}).Execute(ctx, vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(vc.log, "\n"), ": explain select 1 from t"); n != 4 {
		t.Errorf("ALL sent %d EXPLAINs, want 4: %v", n, vc.log)
	}
	if !strings.Contains(string(res.Rows[0][0]), `"Queries"`) {
		t.Errorf("ALL: %s", res.Rows[0][0])
	}

	res, err = (&VExplain{Mode: VExplainKeys, Keys: []byte(`{}`)}).Execute(ctx, newFakeVCursor(), nil)
	if err != nil || string(res.Fields[0].Name) != "ColumnUsage" || string(res.Rows[0][0]) != "{}" {
		t.Errorf("KEYS: %v %v", res, err)
	}
}
