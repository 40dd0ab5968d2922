package edge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Base64Encode encodes data with standard padded base64.
func Base64Encode(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// Base64URLEncode encodes data with unpadded URL-safe base64 (as in JWTs).
func Base64URLEncode(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

// Base64Decode decodes standard or URL-safe base64, padded or not.
func Base64Decode(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("base64 decode: %w", err)
	}
	return b, nil
}

// HMACSHA256 returns HMAC-SHA256(key, msg).
func HMACSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// HMACSHA256Hex returns HMAC-SHA256(key, msg) as lowercase hex.
func HMACSHA256Hex(key, msg []byte) string { return hex.EncodeToString(HMACSHA256(key, msg)) }

// VerifyHMACSHA256 reports, in constant time, whether mac is HMAC-SHA256(key, msg).
func VerifyHMACSHA256(key, msg, mac []byte) bool {
	return hmac.Equal(HMACSHA256(key, msg), mac)
}

// SHA256Hex returns the lowercase hex SHA-256 of data.
func SHA256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
