package accesslog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestMergeOneLogInTimeOrder: logs of several nodes become one log, the
// header once and every entry in time order, which a CloudFront log
// parser reads like any one node's log.
func TestMergeOneLogInTimeOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var nrt, syd bytes.Buffer
	wn, ws := NewWriter(&nrt, false), NewWriter(&syd, false)
	wn.Write(Entry{Time: t0, EdgeLocation: "NRT", URIStem: "/a", Status: 200, ResultType: "Miss"})
	ws.Write(Entry{Time: t0.Add(time.Second), EdgeLocation: "SYD", URIStem: "/b", Status: 200, ResultType: "Miss"})
	wn.Write(Entry{Time: t0.Add(2 * time.Second), EdgeLocation: "NRT", URIStem: "/c", Status: 404, ResultType: "Error"})
	ws.Write(Entry{Time: t0.Add(2 * time.Second), EdgeLocation: "SYD", URIStem: "/d", Status: 200, ResultType: "Hit"})
	var out bytes.Buffer
	n, err := Merge(&out, []string{"nrt", "syd"}, &nrt, strings.NewReader(""), &syd)
	if err != nil || n != 4 {
		t.Fatalf("Merge = %d, %v; want 4 entries", n, err)
	}
	if strings.Count(out.String(), "#Version") != 1 || !strings.HasPrefix(out.String(), Header()) {
		t.Fatalf("header not once, first:\n%s", out.String())
	}
	var got []string
	for _, e := range parseLog(t, out.Bytes()) {
		got = append(got, e["x-edge-location"]+e["cs-uri-stem"]+" "+e["sc-status"])
	}
	if want := "NRT/a 200,SYD/b 200,NRT/c 404,SYD/d 200"; strings.Join(got, ",") != want {
		t.Errorf("merged %v, want %s", got, want)
	}
	if _, err := Split("a\tb"); err == nil {
		t.Error("Split accepted a line of two fields")
	}
	line := Entry{Time: t0, EdgeLocation: "NRT"}.Line()
	if v, err := Split(line); err != nil || v[2] != "NRT" {
		t.Errorf("Split(%q) = %v, %v", line, v, err)
	}
}
