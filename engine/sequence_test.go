package engine

import (
	"context"
	"reflect"
	"slices"
	"testing"
)

func TestAutoIncrementFillsNullZeroAndOmitted(t *testing.T) {
	// Three rows: the client's ? (argument 0), a row that omitted the
	// column (slot GenBase+1), and an explicit literal (-1).
	a := &AutoIncrement{Column: "id", SeqKeyspace: "global", SeqTable: "user_seq", Slots: []int{0, 3, -1}, GenBase: 2}
	for _, tc := range []struct {
		args      []any
		wantArgs  []any
		wantFirst uint64
		wantLog   []string
	}{
		{[]any{nil, "x"}, []any{int64(1000), "x", nil, int64(1001), nil}, 1000, []string{"NextSequenceValues global.user_seq 2"}},
		{[]any{int64(0), "x"}, []any{int64(1000), "x", nil, int64(1001), nil}, 1000, []string{"NextSequenceValues global.user_seq 2"}},
		{[]any{int64(7), "x"}, []any{int64(7), "x", nil, int64(1000), nil}, 1000, []string{"NextSequenceValues global.user_seq 1"}},
	} {
		vc := newFakeVCursor()
		got, first, err := a.fill(context.Background(), vc, slices.Clone(tc.args))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.wantArgs) || first != tc.wantFirst || !slices.Equal(vc.log, tc.wantLog) {
			t.Errorf("fill(%v): got %v, first %d, log %q; want %v, %d, %q", tc.args, got, first, vc.log, tc.wantArgs, tc.wantFirst, tc.wantLog)
		}
	}
	// Nothing to generate: no sequence call, the arguments unchanged.
	b := &AutoIncrement{Column: "id", SeqKeyspace: "global", SeqTable: "user_seq", Slots: []int{0}, GenBase: 1}
	vc := newFakeVCursor()
	got, first, err := b.fill(context.Background(), vc, []any{int64(5)})
	if err != nil || first != 0 || len(vc.log) != 0 || !reflect.DeepEqual(got, []any{int64(5)}) {
		t.Errorf("explicit id: got %v, first %d, log %q, err %v; want [5], 0, no calls", got, first, vc.log, err)
	}
}

func TestIsNullOrZero(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{nil, true}, {int64(0), true}, {uint64(0), true}, {0.0, true}, {"0", true}, {[]byte("0.0"), true},
		{int64(1), false}, {"x", false}, {[]byte("2"), false},
	} {
		if got := IsNullOrZero(tc.v); got != tc.want {
			t.Errorf("IsNullOrZero(%#v): got %v, want %v", tc.v, got, tc.want)
		}
	}
}
