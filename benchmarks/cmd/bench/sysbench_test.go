package main

import (
	"math"
	"strings"
	"testing"
)

// sysbench 1.0.20's report with --histogram=on --percentile=99, trimmed.
const sysbenchReport = `sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

Latency histogram (values are in milliseconds)
       value  ------------- distribution ------------- count
       0.070 |*                                        10
       0.090 |****************************************  70
       0.150 |***********                              19
       1.000 |*                                        1

SQL statistics:
    queries performed:
        read:                            100
        write:                           0
        other:                           0
        total:                           100
    transactions:                        100    (33.30 per sec.)
    queries:                             100    (33.30 per sec.)
    ignored errors:                      2      (0.67 per sec.)
    reconnects:                          0      (0.00 per sec.)

Latency (ms):
         min:                                    0.07
         avg:                                    0.12
         max:                                    1.00
         99th percentile:                        0.15
`

func TestParseSysbench(t *testing.T) {
	r, err := parseSysbench([]byte(sysbenchReport))
	if err != nil {
		t.Fatal(err)
	}
	want := sbResult{Queries: 100, Transactions: 100, QPS: 33.30, TPS: 33.30, Errors: 2, P50us: 90, P99us: 150, AvgUs: 120}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	if r.Queries != want.Queries || r.Transactions != want.Transactions || r.Errors != want.Errors ||
		!near(r.QPS, want.QPS) || !near(r.P50us, want.P50us) || !near(r.P99us, want.P99us) || !near(r.AvgUs, want.AvgUs) {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	if _, err := parseSysbench([]byte(strings.Split(sysbenchReport, "SQL statistics")[0])); err == nil {
		t.Error("a report without statistics parsed")
	}
}

func TestCPUSecondsOfSelf(t *testing.T) {
	if _, err := cpuSeconds(1 << 30); err == nil {
		t.Error("no error for a pid that does not exist")
	}
}
