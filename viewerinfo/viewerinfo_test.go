package viewerinfo_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/viewerinfo"
)

func TestLookupLongestPrefix(t *testing.T) {
	db, err := viewerinfo.Parse([]byte(`
ranges:
  - {cidr: 10.0.0.0/8, country: US, region: VA, city: Ashburn}
  - {cidr: 10.1.0.0/16, country: JP, city: Tokyo, timeZone: Asia/Tokyo, latitude: "35.69", longitude: "139.69"}
  - {cidr: "2001:db8::/32", country: DE}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ip, country string
		ok          bool
	}{
		{"10.2.3.4", "US", true},
		{"10.1.3.4", "JP", true},
		{"::ffff:10.1.0.1", "JP", true},
		{"2001:db8::1", "DE", true},
		{"192.0.2.1", "", false},
	} {
		loc, ok := db.Lookup(netip.MustParseAddr(tc.ip))
		if ok != tc.ok || loc.Country != tc.country {
			t.Errorf("Lookup(%s) = %q, %v; want %q, %v", tc.ip, loc.Country, ok, tc.country, tc.ok)
		}
	}
	var nilDB *viewerinfo.DB
	if _, ok := nilDB.Lookup(netip.MustParseAddr("10.0.0.1")); ok {
		t.Error("nil DB found a location")
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`ranges: [{cidr: 10.0.0.0/33, country: US}]`, "ranges[0].cidr"},
		{`ranges: [{cidr: 10.0.0.0/8, country: XX}]`, "ranges[0].country"},
		{`ranges: [{cidr: 10.0.0.0/8, country: us}]`, "ranges[0].country"},
		{`ranges: [{cidr: 10.0.0.0/8, country: US, town: x}]`, "unknown field"},
	} {
		_, err := viewerinfo.Parse([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func TestDeviceOf(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		want viewerinfo.Device
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", viewerinfo.Device{Desktop: true}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", viewerinfo.Device{Mobile: true, IOS: true}},
		{"Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", viewerinfo.Device{Tablet: true, IOS: true}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36", viewerinfo.Device{Mobile: true, Android: true}},
		{"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/120.0 Safari/537.36", viewerinfo.Device{Tablet: true, Android: true}},
		{"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 SamsungBrowser/4.0 TV Safari/537.36", viewerinfo.Device{SmartTV: true}},
		{"curl/8.5.0", viewerinfo.Device{Desktop: true}},
	} {
		if got := viewerinfo.DeviceOf(tc.ua); got != tc.want {
			t.Errorf("DeviceOf(%q) = %+v, want %+v", tc.ua, got, tc.want)
		}
	}
}

func TestViewerHeaders(t *testing.T) {
	loc, ok := viewerinfo.RegionLocation("ap-northeast-1")
	if !ok || loc.Country != "JP" {
		t.Fatalf("RegionLocation(ap-northeast-1) = %+v, %v", loc, ok)
	}
	v := viewerinfo.Viewer{Location: loc, Device: viewerinfo.Device{Mobile: true}, Proto: "http", Address: "192.0.2.1:4711", HTTPVersion: "1.1"}
	want := map[string]string{
		viewerinfo.HeaderViewerCountry: "JP", viewerinfo.HeaderViewerCity: "Tokyo", viewerinfo.HeaderViewerTimeZone: "Asia/Tokyo",
		viewerinfo.HeaderIsMobileViewer: "true", viewerinfo.HeaderIsDesktopViewer: "false", viewerinfo.HeaderForwardedProto: "http",
		viewerinfo.HeaderViewerAddress: "192.0.2.1:4711", viewerinfo.HeaderViewerHTTPVersion: "1.1",
	}
	for _, name := range viewerinfo.Headers() {
		got, ok := v.Header(name)
		if w, listed := want[name]; listed && (got != w || !ok) {
			t.Errorf("Header(%s) = %q, %v; want %q", name, got, ok, w)
		}
	}
	if _, ok := (&viewerinfo.Viewer{}).Header(viewerinfo.HeaderViewerCountry); ok {
		t.Error("the zero Viewer knows a country")
	}
	if !viewerinfo.IsHeader("cloudfront-viewer-country") || viewerinfo.IsHeader("X-Country") {
		t.Error("IsHeader")
	}
	if !viewerinfo.ValidCountry("ZW") || viewerinfo.ValidCountry("ZZ") || viewerinfo.ValidCountry("W ") {
		t.Error("ValidCountry")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("ranges: [{cidr: 10.0.0.0/8, country: US}]"))
	f.Add([]byte(`{"ranges": [{"cidr": "::/0", "country": "JP", "city": "Tokyo"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := viewerinfo.Parse(data)
		if err != nil {
			return
		}
		if loc, ok := db.Lookup(netip.MustParseAddr("10.1.2.3")); ok && !viewerinfo.ValidCountry(loc.Country) {
			t.Fatalf("Lookup returned an invalid country %q", loc.Country)
		}
	})
}
