package cfevent

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse: any bytes either fail to parse with an error or give an
// event with a request, which Marshal renders (unless the JSON named an
// origin URL url.Parse refuses) as JSON that parses to the same event,
// and Marshal of that is byte for byte the same (a fixed point). Seeds:
// the sample events of testdata/ and testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	samples, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(samples) == 0 {
		f.Fatalf("sample events: %v", err)
	}
	for _, name := range samples {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"cf":{"config":{},"request":{}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Parse(data)
		if err != nil {
			if ev != nil {
				t.Fatal("Parse returned an event with its error")
			}
			return
		}
		if ev.Request == nil || ev.Request.Header == nil {
			t.Fatalf("Parse succeeded without a request or its header: %+v", ev)
		}
		b, err := Marshal(ev)
		if err != nil {
			if ev.Request.Origin == nil {
				t.Fatalf("Marshal of a parsed event without an origin: %v", err)
			}
			return // an origin URL the JSON built but url.Parse refuses
		}
		ev2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-parse of Marshal output failed: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(ev, ev2) {
			t.Fatalf("round trip differs:\n%+v\n%+v\n%s", ev, ev2, b)
		}
		b2, err := Marshal(ev2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("Marshal is not a fixed point (%v):\n%s\n%s", err, b, b2)
		}
	})
}
