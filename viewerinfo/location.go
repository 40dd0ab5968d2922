package viewerinfo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"

	"sigs.k8s.io/yaml"
)

// Location is where a viewer is, as far as the lab knows. Empty fields are
// unknown; their headers are not added.
type Location struct {
	// Country is an ISO 3166-1 alpha-2 code ("US").
	Country string `json:"country"`
	// Region is the ISO 3166-2 subdivision code without the country ("VA").
	Region   string `json:"region,omitempty"`
	City     string `json:"city,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
	// Latitude and Longitude are decimal degrees, as CloudFront writes them
	// ("39.04", "-77.48"); empty = unknown.
	Latitude  string `json:"latitude,omitempty"`
	Longitude string `json:"longitude,omitempty"`
}

// regionLocations place each AWS region the lab's topologies use at the
// city its data centres are named for.
var regionLocations = map[string]Location{
	"us-east-1":      {Country: "US", Region: "VA", City: "Ashburn", TimeZone: "America/New_York", Latitude: "39.04", Longitude: "-77.49"},
	"us-east-2":      {Country: "US", Region: "OH", City: "Columbus", TimeZone: "America/New_York", Latitude: "39.96", Longitude: "-83.00"},
	"us-west-1":      {Country: "US", Region: "CA", City: "San Jose", TimeZone: "America/Los_Angeles", Latitude: "37.34", Longitude: "-121.89"},
	"us-west-2":      {Country: "US", Region: "OR", City: "Boardman", TimeZone: "America/Los_Angeles", Latitude: "45.84", Longitude: "-119.70"},
	"ca-central-1":   {Country: "CA", Region: "QC", City: "Montreal", TimeZone: "America/Toronto", Latitude: "45.50", Longitude: "-73.57"},
	"eu-west-1":      {Country: "IE", Region: "D", City: "Dublin", TimeZone: "Europe/Dublin", Latitude: "53.35", Longitude: "-6.26"},
	"eu-west-2":      {Country: "GB", Region: "ENG", City: "London", TimeZone: "Europe/London", Latitude: "51.51", Longitude: "-0.13"},
	"eu-west-3":      {Country: "FR", Region: "IDF", City: "Paris", TimeZone: "Europe/Paris", Latitude: "48.86", Longitude: "2.35"},
	"eu-central-1":   {Country: "DE", Region: "HE", City: "Frankfurt am Main", TimeZone: "Europe/Berlin", Latitude: "50.11", Longitude: "8.68"},
	"eu-north-1":     {Country: "SE", Region: "AB", City: "Stockholm", TimeZone: "Europe/Stockholm", Latitude: "59.33", Longitude: "18.07"},
	"ap-northeast-1": {Country: "JP", Region: "13", City: "Tokyo", TimeZone: "Asia/Tokyo", Latitude: "35.69", Longitude: "139.69"},
	"ap-northeast-2": {Country: "KR", Region: "11", City: "Seoul", TimeZone: "Asia/Seoul", Latitude: "37.57", Longitude: "126.98"},
	"ap-southeast-1": {Country: "SG", City: "Singapore", TimeZone: "Asia/Singapore", Latitude: "1.29", Longitude: "103.85"},
	"ap-southeast-2": {Country: "AU", Region: "NSW", City: "Sydney", TimeZone: "Australia/Sydney", Latitude: "-33.87", Longitude: "151.21"},
	"ap-south-1":     {Country: "IN", Region: "MH", City: "Mumbai", TimeZone: "Asia/Kolkata", Latitude: "19.08", Longitude: "72.88"},
	"sa-east-1":      {Country: "BR", Region: "SP", City: "Sao Paulo", TimeZone: "America/Sao_Paulo", Latitude: "-23.55", Longitude: "-46.63"},
}

// RegionLocation is where the lab places a viewer served in an AWS region
// when no range matches its address; ok is false for a region it does not
// know.
func RegionLocation(region string) (loc Location, ok bool) {
	loc, ok = regionLocations[region]
	return loc, ok
}

// DB maps IP ranges to locations.
type DB struct {
	// ranges sorted by prefix length, longest first.
	ranges []dbRange
}

type dbRange struct {
	prefix netip.Prefix
	loc    Location
}

type dbFile struct {
	Ranges []rangeFile `json:"ranges"`
}

type rangeFile struct {
	CIDR string `json:"cidr"`
	Location
}

// maxDBBytes bounds a location file.
const maxDBBytes = 4 << 20

// Parse reads a location file (YAML or JSON). Every range needs a valid
// CIDR and country code; errors name the entry ("ranges[2].country: ...").
func Parse(data []byte) (*DB, error) {
	if len(data) > maxDBBytes {
		return nil, fmt.Errorf("viewer location file is %d bytes, the limit is %d", len(data), maxDBBytes)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing viewer location file: %w", err)
	}
	var f dbFile
	if err := decodeStrict(js, &f); err != nil {
		return nil, fmt.Errorf("parsing viewer location file: %w", err)
	}
	db := &DB{}
	for i, r := range f.Ranges {
		p, err := netip.ParsePrefix(r.CIDR)
		if err != nil {
			return nil, fmt.Errorf("ranges[%d].cidr: %q is not an IP range such as 203.0.113.0/24", i, r.CIDR)
		}
		if !ValidCountry(r.Country) {
			return nil, fmt.Errorf("ranges[%d].country: %q is not an ISO 3166-1 alpha-2 country code (such as US, JP)", i, r.Country)
		}
		db.ranges = append(db.ranges, dbRange{prefix: p.Masked(), loc: r.Location})
	}
	sort.SliceStable(db.ranges, func(i, j int) bool { return db.ranges[i].prefix.Bits() > db.ranges[j].prefix.Bits() })
	return db, nil
}

func decodeStrict(js []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// Load reads and parses a location file.
func Load(path string) (*DB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading viewer location file: %w", err)
	}
	db, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return db, nil
}

// Lookup returns the location of the longest range holding ip; ok is false
// when none does (or db is nil).
func (db *DB) Lookup(ip netip.Addr) (loc Location, ok bool) {
	if db == nil || !ip.IsValid() {
		return Location{}, false
	}
	ip = ip.Unmap()
	for _, r := range db.ranges {
		if r.prefix.Contains(ip) {
			return r.loc, true
		}
	}
	return Location{}, false
}
