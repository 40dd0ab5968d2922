package viewerinfo

import "strconv"

// Viewer is what CloudFront knows about one viewer request.
type Viewer struct {
	Location Location
	Device   Device
	// Proto is "http" or "https".
	Proto string
	// Address is the viewer's "ip:port" ("[ip]:port" for IPv6).
	Address string
	// HTTPVersion is "1.0", "1.1", "2.0" or "3.0".
	HTTPVersion string
}

// Header returns the value of the CloudFront-added header name (canonical,
// one of Headers) for v; ok is false when v does not know it.
func (v *Viewer) Header(name string) (value string, ok bool) {
	switch name {
	case HeaderForwardedProto:
		value = v.Proto
	case HeaderViewerAddress:
		value = v.Address
	case HeaderViewerHTTPVersion:
		value = v.HTTPVersion
	case HeaderViewerCountry:
		value = v.Location.Country
	case HeaderViewerRegion:
		value = v.Location.Region
	case HeaderViewerCity:
		value = v.Location.City
	case HeaderViewerTimeZone:
		value = v.Location.TimeZone
	case HeaderViewerLatitude:
		value = v.Location.Latitude
	case HeaderViewerLongitude:
		value = v.Location.Longitude
	case HeaderIsDesktopViewer:
		value = strconv.FormatBool(v.Device.Desktop)
	case HeaderIsMobileViewer:
		value = strconv.FormatBool(v.Device.Mobile)
	case HeaderIsTabletViewer:
		value = strconv.FormatBool(v.Device.Tablet)
	case HeaderIsSmartTVViewer:
		value = strconv.FormatBool(v.Device.SmartTV)
	case HeaderIsAndroidViewer:
		value = strconv.FormatBool(v.Device.Android)
	case HeaderIsIOSViewer:
		value = strconv.FormatBool(v.Device.IOS)
	}
	return value, value != ""
}
