package engine

import (
	"context"
	"strings"
	"testing"
)

func TestNextValuesReservesFromTheSequence(t *testing.T) {
	vc := newFakeVCursor()
	n := &NextValues{Keyspace: "global", Table: "user_seq", Count: 5}
	res, err := n.Execute(context.Background(), vc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := show(res.Rows); got != "(1000)" || string(res.Fields[0].Name) != "nextval" {
		t.Errorf("got %s in %s, want (1000) in nextval", got, res.Fields[0].Name)
	}
	if got, want := strings.Join(vc.log, "\n"), "NextSequenceValues global.user_seq 5"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}
