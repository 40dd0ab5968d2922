package signedurl

import (
	"testing"
)

// FuzzParsePolicy: any input is parsed or refused without panicking, and
// a policy that parses writes JSON that parses back to the same policy.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		`{"Statement":[{"Resource":"http://d.test/*","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}`,
		`{"Statement":[{"Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1},"DateLessThan":{"AWS:EpochTime":2}}}]}`,
		`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2},"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}}]}`,
		`{"Statement":[{},{}]}`,
		`{"Statement":[{"Resource":"a\u0026b\"c","Condition":{"DateLessThan":{"AWS:EpochTime":2}}}]}`,
		`[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			return
		}
		again, err := ParsePolicy(p.JSON())
		if err != nil {
			t.Fatalf("JSON of %+v does not parse: %v\n%s", p, err, p.JSON())
		}
		if *again != *p {
			t.Fatalf("round trip: %+v, then %+v", p, again)
		}
	})
}
