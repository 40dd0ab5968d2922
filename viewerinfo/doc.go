// Package viewerinfo is what CloudFront knows about a viewer and adds to
// origin requests as CloudFront-* headers: the viewer's location (country,
// region, city, time zone, coordinates), its device type from User-Agent,
// the protocol, address and HTTP version it used.
//
//	client IP --DB.Lookup (a ranges file)--> Location
//	          \-no match--> RegionLocation(the node's region)
//	override header (lab work) --> country only
//	User-Agent --DeviceOf--> Device
//	Viewer{Location, Device, Proto, Address, HTTPVersion}.Header(name)
//
// The location file (YAML or JSON) maps IP ranges to places:
//
//	ranges:
//	  - {cidr: 203.0.113.0/24, country: JP, region: "13", city: Tokyo,
//	     timeZone: Asia/Tokyo, latitude: 35.6895, longitude: 139.6917}
//
// The longest matching prefix wins. A DB is immutable after Parse and safe
// for concurrent use; the zero Viewer says nothing.
package viewerinfo
