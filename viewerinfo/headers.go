package viewerinfo

import (
	"net/http"
	"slices"
)

// The CloudFront-added request headers edgelab adds, in canonical form
// (the form http.Header keys take: "Cloudfront-Viewer-Country").
const (
	HeaderForwardedProto    = "Cloudfront-Forwarded-Proto"
	HeaderIsDesktopViewer   = "Cloudfront-Is-Desktop-Viewer"
	HeaderIsMobileViewer    = "Cloudfront-Is-Mobile-Viewer"
	HeaderIsTabletViewer    = "Cloudfront-Is-Tablet-Viewer"
	HeaderIsSmartTVViewer   = "Cloudfront-Is-Smarttv-Viewer"
	HeaderIsAndroidViewer   = "Cloudfront-Is-Android-Viewer"
	HeaderIsIOSViewer       = "Cloudfront-Is-Ios-Viewer"
	HeaderViewerAddress     = "Cloudfront-Viewer-Address"
	HeaderViewerHTTPVersion = "Cloudfront-Viewer-Http-Version"
	HeaderViewerCountry     = "Cloudfront-Viewer-Country"
	HeaderViewerRegion      = "Cloudfront-Viewer-Country-Region"
	HeaderViewerCity        = "Cloudfront-Viewer-City"
	HeaderViewerTimeZone    = "Cloudfront-Viewer-Time-Zone"
	HeaderViewerLatitude    = "Cloudfront-Viewer-Latitude"
	HeaderViewerLongitude   = "Cloudfront-Viewer-Longitude"
)

// OverrideHeader is the lab's own request header that sets the viewer's
// country (an ISO 3166-1 alpha-2 code) whatever its address says; it
// reaches neither functions nor origins (X-Edgelab-* is disallowed).
const OverrideHeader = "X-Edgelab-Viewer-Country"

var headers = []string{
	HeaderForwardedProto, HeaderIsDesktopViewer, HeaderIsMobileViewer, HeaderIsTabletViewer,
	HeaderIsSmartTVViewer, HeaderIsAndroidViewer, HeaderIsIOSViewer, HeaderViewerAddress,
	HeaderViewerHTTPVersion, HeaderViewerCountry, HeaderViewerRegion, HeaderViewerCity,
	HeaderViewerTimeZone, HeaderViewerLatitude, HeaderViewerLongitude,
}

// Headers returns the CloudFront-added header names edgelab knows, canonical.
func Headers() []string { return slices.Clone(headers) }

// IsHeader reports whether name (any case) is one of Headers.
func IsHeader(name string) bool {
	return slices.Contains(headers, http.CanonicalHeaderKey(name))
}
