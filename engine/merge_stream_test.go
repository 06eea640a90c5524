package engine

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/shardgate/shardgate/internal/leakcheck"
)

// streamingFake is a fakeVCursor that also streams single shards, one row
// per call, as the gateway does; MergeSort then merges with one reader per
// shard (merge_stream.go).
type streamingFake struct{ *fakeVCursor }

var _ ShardStreamer = streamingFake{}

func (f streamingFake) BeginShards(context.Context, string, []string) (func(error) error, error) {
	return func(err error) error { return err }, nil
}

func (f streamingFake) StreamShard(ctx context.Context, keyspace, shard, query string, fn func(*Result) error) error {
	r, err := f.result(keyspace, shard, query)
	if err != nil {
		return err
	}
	if err := fn(&Result{Fields: r.Fields}); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(&Result{Rows: [][][]byte{row}}); err != nil {
			return err
		}
	}
	return nil
}

func numbers(from, to, step int) [][][]byte {
	var out [][][]byte
	for i := from; i <= to; i += step {
		out = append(out, [][]byte{[]byte(strconv.Itoa(i))})
	}
	return out
}

// A shard that finishes first (ids 1-3), an empty one, and two long ones
// interleaved: the merged stream is in order and complete.
func TestMergeSortStreamingShards(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)}
	vc := streamingFake{shardResults(fields, numbers(1, 3, 1), nil, numbers(4, 5000, 2), numbers(5, 5000, 2))}
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: NoWeight}}}
	var got []string
	fieldsSeen := 0
	err := ms.Stream(context.Background(), vc, nil, func(r *Result) error {
		if r.Fields != nil {
			fieldsSeen++
		}
		for _, row := range r.Rows {
			got = append(got, string(row[0]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fieldsSeen != 1 || len(got) != 5000 {
		t.Fatalf("got fields %d times and %d rows, want 1 and 5000", fieldsSeen, len(got))
	}
	for i, v := range got {
		if v != strconv.Itoa(i+1) {
			t.Fatalf("row %d: got %s, want %d", i, v, i+1)
		}
	}
}

// A failing shard's error is the merge's; a failing consumer stops every
// shard reader (no goroutine is left behind).
func TestMergeSortStreamingErrors(t *testing.T) {
	fields := []*mysql.Field{field("id", mysql.MYSQL_TYPE_LONGLONG, binaryCharset)}
	boom := errors.New("shard 80-c0 failed")
	base := shardResults(fields, numbers(1, 1000, 1), numbers(1, 1000, 1), numbers(1, 1000, 1), numbers(1, 1000, 1))
	results := base.results
	base.results = func(ks, shard, q string) (*Result, error) {
		if shard == "80-c0" {
			return nil, boom
		}
		return results(ks, shard, q)
	}
	ms := &MergeSort{Input: scatterRoute("q"), Keys: []OrderKey{{Col: 0, Weight: NoWeight}}}
	before := leakcheck.Take()
	err := ms.Stream(context.Background(), streamingFake{base}, nil, func(*Result) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("failing shard: got %v, want %v", err, boom)
	}

	stop := errors.New("client went away")
	vc := streamingFake{shardResults(fields, numbers(1, 100000, 1), numbers(1, 100000, 1))}
	n := 0
	err = ms.Stream(context.Background(), vc, nil, func(r *Result) error {
		n += len(r.Rows)
		if n > 1000 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("failing consumer: got %v, want %v", err, stop)
	}
	if err := before.Leaked(); err != nil {
		t.Fatal(err)
	}
}
