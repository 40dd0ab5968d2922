package signedurl

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// urlSafe maps standard base64 to CloudFront's query-safe alphabet and back.
var (
	toSafe   = strings.NewReplacer("+", "-", "=", "_", "/", "~")
	fromSafe = strings.NewReplacer("-", "+", "_", "=", "~", "/")
)

// Encode is CloudFront's URL-safe base64: standard base64 with '+'
// written '-', '=' written '_' and '/' written '~'.
func Encode(b []byte) string {
	return toSafe.Replace(base64.StdEncoding.EncodeToString(b))
}

// Decode reverses Encode. Standard base64 ('+', '/', '=') is accepted
// too, as CloudFront does; anything else, or more than max decoded bytes,
// is an error.
func Decode(s string, max int) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > max+2 {
		return nil, fmt.Errorf("%d base64 characters, more than %d bytes", len(s), max)
	}
	b, err := base64.StdEncoding.DecodeString(fromSafe.Replace(s))
	if err != nil {
		return nil, fmt.Errorf("not CloudFront base64: %w", err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%d bytes, more than %d", len(b), max)
	}
	return b, nil
}
