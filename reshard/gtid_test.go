package reshard

import "testing"

func TestPositionCompare(t *testing.T) {
	p, err := parsePosition("0-101-42, 1-102-7")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		g    gtid
		want bool
	}{
		{gtid{0, 101, 42}, true}, {gtid{0, 103, 41}, true}, {gtid{0, 101, 43}, false},
		{gtid{1, 102, 8}, false}, {gtid{2, 1, 1}, false},
	} {
		if got := p.has(c.g); got != c.want {
			t.Errorf("%s has %s: got %v, want %v", p, c.g, got, c.want)
		}
	}
	q, _ := parsePosition("0-101-40,1-102-9,3-1-1")
	if got, want := minPosition([]position{p, q}).String(), "0-101-40,1-102-7"; got != want {
		t.Errorf("min(%s, %s): got %s, want %s", p, q, got, want)
	}
	if got, want := p.merge(q).String(), "0-101-42,1-102-9,3-1-1"; got != want {
		t.Errorf("merge(%s, %s): got %s, want %s", p, q, got, want)
	}
	if p.covers(q) || !p.merge(q).covers(p) {
		t.Errorf("covers: %s covers %s, or the merge doesn't cover %s", p, q, p)
	}
	if _, err := parsePosition("0-1"); err == nil {
		t.Errorf("parsePosition(0-1): got no error")
	}
}
