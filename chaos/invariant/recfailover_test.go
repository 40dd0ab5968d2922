package invariant

import (
	"strings"
	"testing"

	"github.com/edgelab/edgelab/chaos/history"
)

// viaREC is an answered miss of PoP pop at ms whose miss rec answered ("":
// the PoP went to the origin itself).
func viaREC(ms int, pop, rec string) history.Request {
	r := req(ms, ms+5, "node-"+pop, 200, "Miss from edgelab")
	r.Pop, r.Rec = pop, rec
	return r
}

func TestRECFailover(t *testing.T) {
	// REC us-east-1 is down from 1000 to 3000 ms; Within is 200 ms.
	down := []RECDown{{REC: "us-east-1", Window: win(1000, 3000)}}
	good := []history.Request{
		viaREC(100, "IAD", "us-east-1"), viaREC(200, "NRT", "ap-northeast-1"),
		viaREC(1100, "IAD", "us-east-1"), // inside the bound: not judged
		viaREC(1500, "IAD", "eu-central-1"), viaREC(2500, "IAD", "eu-central-1"),
		viaREC(3400, "IAD", "us-east-1"),
	}
	hit := req(1600, 1605, "node-IAD", 200, "Hit from edgelab")
	hit.Pop = "IAD"
	failed := viaREC(1700, "IAD", "")
	failed.Status, failed.XCache = 502, "Error from edgelab"
	tests := []struct {
		name string
		reqs []history.Request
		want string // "" = passes; else words of a detail
	}{
		{"moved and came back", good, ""},
		{"a PoP hit and a failed request are not judged", append(append([]history.Request{}, good...), hit, failed), ""},
		{"load ended before the REC came back", good[:5], ""},
		{"dead REC answered", append(append([]history.Request{}, good...), viaREC(2000, "IAD", "us-east-1")), "after it went down"},
		{"PoP went to the origin", append(append([]history.Request{}, good...), viaREC(2000, "IAD", "")), "instead of the next REC"},
		{"PoP never moved", []history.Request{viaREC(100, "IAD", "us-east-1"), viaREC(2000, "NRT", "ap-northeast-1")}, "no miss of it was answered by another REC"},
		{"nothing used the REC before", []history.Request{viaREC(1500, "IAD", "eu-central-1")}, "nothing shows the PoPs used it"},
		{"never came back", []history.Request{viaREC(100, "IAD", "us-east-1"), viaREC(1500, "IAD", "eu-central-1"), viaREC(3400, "IAD", "eu-central-1")}, "came back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := RECFailover(tc.reqs, down, RECFailoverParams{Within: 200e6})
			if res.Passed != (tc.want == "") {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.want == "", res.Details)
			}
			if tc.want != "" && !strings.Contains(strings.Join(res.Details, "\n"), tc.want) {
				t.Fatalf("details %q, want one to contain %q", res.Details, tc.want)
			}
			if res.Checked != 1 {
				t.Errorf("Checked = %d, want 1", res.Checked)
			}
		})
	}
}

func TestRECFailoverShortOutageIsNotJudged(t *testing.T) {
	down := []RECDown{{REC: "us-east-1", Window: win(1000, 1100)}}
	res := RECFailover([]history.Request{viaREC(100, "IAD", "us-east-1")}, down, RECFailoverParams{Within: 200e6})
	if !res.Passed || len(res.Details) == 0 || !strings.Contains(res.Details[0], "not judged") {
		t.Fatalf("got %+v, want a pass that says the outage was not judged", res)
	}
}

func TestRECFailoverNoOutageChecksNothing(t *testing.T) {
	if res := RECFailover([]history.Request{viaREC(100, "IAD", "us-east-1")}, nil, RECFailoverParams{}); !res.Passed || res.Checked != 0 {
		t.Fatalf("got %+v, want a pass with nothing checked", res)
	}
}

func TestRECSlowed(t *testing.T) {
	// REC us-east-1 answers 400 ms late from 1000 to 5000 ms; Within is
	// 200 ms, so requests started from 1200 to 4600 ms are judged.
	slow := []RECSlow{{REC: "us-east-1", Window: win(1000, 5000), Latency: 400e6}}
	took := func(ms, d int, rec string) history.Request {
		r := req(ms, ms+d, "node-IAD", 200, "Miss from edgelab")
		r.Pop, r.Rec = "IAD", rec
		return r
	}
	good := []history.Request{
		took(100, 5, "us-east-1"),     // before the fault
		took(1100, 5, "us-east-1"),    // the fault on its way: not judged
		took(1500, 410, "us-east-1"),  // slowed
		took(2000, 5, "eu-central-1"), // another REC
		took(4800, 5, "us-east-1"),    // too close to the end: not judged
		took(3000, 900, "us-east-1"),  // slower still: passes
	}
	tests := []struct {
		name string
		reqs []history.Request
		want string
	}{
		{"every answer slowed", good, ""},
		{"an answer under the latency", append(append([]history.Request{}, good...), took(2500, 50, "us-east-1")), "under its injected 400ms"},
		// A request that joined a flight 300 ms in waits only its rest.
		{"requests collapsed into one slowed flight", append(append([]history.Request{}, good...), took(3300, 600, "us-east-1"), took(3600, 305, "us-east-1")), ""},
		{"a collapsed flight under the latency", append(append([]history.Request{}, good...), took(2500, 100, "us-east-1"), took(2550, 55, "us-east-1")), "(2 viewer requests)"},
		{"nothing answered by the REC meanwhile", []history.Request{took(100, 5, "us-east-1"), took(2000, 5, "eu-central-1")}, "nothing shows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := RECSlowed(tc.reqs, slow, RECSlowedParams{Within: 200e6})
			if res.Passed != (tc.want == "") {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.want == "", res.Details)
			}
			if tc.want != "" && !strings.Contains(strings.Join(res.Details, "\n"), tc.want) {
				t.Fatalf("details %q, want one to contain %q", res.Details, tc.want)
			}
		})
	}
}
