package viewerinfo

import "strings"

// Device is the viewer's device type as CloudFront reads it from the
// User-Agent header. Exactly one of Desktop, Mobile, Tablet and SmartTV is
// set; Android and IOS say the operating system besides.
type Device struct {
	Desktop, Mobile, Tablet, SmartTV bool
	Android, IOS                     bool
}

// DeviceOf classifies a User-Agent: smart TVs and consoles first, then
// tablets (iPad, Android without "Mobile", Kindle), then phones; anything
// else is a desktop.
func DeviceOf(userAgent string) Device {
	ua := strings.ToLower(userAgent)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(ua, w) {
				return true
			}
		}
		return false
	}
	d := Device{Android: has("android"), IOS: has("iphone", "ipad", "ipod")}
	switch {
	case has("smart-tv", "smarttv", "googletv", "appletv", "hbbtv", "roku", "crkey", "tizen", "webos", "bravia", "aftb", "aftm", "playstation", "xbox"):
		d.SmartTV = true
	case has("ipad", "tablet", "kindle", "silk/", "playbook") || d.Android && !has("mobile"):
		d.Tablet = true
	case has("mobi", "iphone", "ipod", "windows phone", "blackberry", "opera mini"):
		d.Mobile = true
	default:
		d.Desktop = true
	}
	return d
}
