package controlplane

import (
	"errors"
	"strings"
	"testing"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/topology"
)

func TestCheckTiers(t *testing.T) {
	top := topology.Default()
	for _, tc := range []struct {
		name string
		d    *edgelabv1.Distribution
		want string // "" = valid
	}{
		{"no shield", &edgelabv1.Distribution{}, ""},
		{"shield with a REC", &edgelabv1.Distribution{OriginShield: "us-east-1"}, ""},
		{"shield region unknown", &edgelabv1.Distribution{OriginShield: "mars-1"}, `originShield: region "mars-1" does not exist`},
		{"shield region without REC", &edgelabv1.Distribution{OriginShield: "sa-east-1"}, `originShield: region "sa-east-1" has no regional edge cache`},
		{"origin region unknown", &edgelabv1.Distribution{Origins: []*edgelabv1.Origin{{Id: "web", Region: "nowhere"}}}, `origins[0] (web).region: region "nowhere" does not exist`},
		{"origin region known", &edgelabv1.Distribution{Origins: []*edgelabv1.Origin{{Id: "web", Region: "eu-west-1"}}}, ""},
	} {
		err := checkTiers(tc.d, top)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var inv *invalidError
		if err == nil || !errors.As(err, &inv) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want an invalid-argument error containing %q", tc.name, err, tc.want)
		}
	}
}
