package signedurl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// MaxPolicyBytes bounds a custom policy's JSON (CloudFront bounds the URL
// that carries it to 8,192 bytes).
const MaxPolicyBytes = 8192

// maxEpoch is the latest time a policy may name: 9999-12-31T23:59:59Z.
const maxEpoch = 253402300799

// Policy is one policy statement: the URL pattern it grants and its
// conditions.
type Policy struct {
	// Resource is the URL the statement grants, with the wildcards '*'
	// (any characters) and '?' (one character); "" means the statement has
	// no Resource and grants every URL.
	Resource string
	// Expires is DateLessThan: the policy grants requests before it. Required.
	Expires time.Time
	// Starts is DateGreaterThan: requests after it (zero: no start).
	Starts time.Time
	// SourceIP is IpAddress's AWS:SourceIp (invalid: any address).
	SourceIP netip.Prefix
}

// Canned returns the canned policy statement for resource and expires, the
// bytes a canned signature signs.
func Canned(resource string, expires time.Time) []byte {
	p := Policy{Resource: resource, Expires: expires}
	return p.JSON()
}

// IsCanned reports whether p is expressible as a canned policy: a Resource
// and an expiry, nothing else.
func (p *Policy) IsCanned() bool {
	return p.Resource != "" && p.Starts.IsZero() && !p.SourceIP.IsValid()
}

// JSON returns the statement as CloudFront writes it, without white space:
// Resource, then DateLessThan, DateGreaterThan and IpAddress when set.
func (p *Policy) JSON() []byte {
	var b bytes.Buffer
	b.WriteString(`{"Statement":[{`)
	if p.Resource != "" {
		b.WriteString(`"Resource":`)
		writeString(&b, p.Resource)
		b.WriteByte(',')
	}
	b.WriteString(`"Condition":{"DateLessThan":{"AWS:EpochTime":`)
	b.WriteString(strconv.FormatInt(p.Expires.Unix(), 10))
	b.WriteString(`}`)
	if !p.Starts.IsZero() {
		b.WriteString(`,"DateGreaterThan":{"AWS:EpochTime":`)
		b.WriteString(strconv.FormatInt(p.Starts.Unix(), 10))
		b.WriteString(`}`)
	}
	if p.SourceIP.IsValid() {
		b.WriteString(`,"IpAddress":{"AWS:SourceIp":`)
		writeString(&b, p.SourceIP.String())
		b.WriteString(`}`)
	}
	b.WriteString(`}}]}`)
	return b.Bytes()
}

// writeString writes s as a JSON string without HTML escaping ('&' stays
// '&', as in the URLs a canned policy is rebuilt from).
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

// Allows reports whether p grants a request for url from ip at now; the
// error says which condition refused it.
func (p *Policy) Allows(url string, ip netip.Addr, now time.Time) error {
	switch {
	case p.Resource != "" && !Match(p.Resource, url):
		return fmt.Errorf("resource %q does not match %q", p.Resource, url)
	case !now.Before(p.Expires):
		return fmt.Errorf("expired at %s", p.Expires.UTC().Format(time.RFC3339))
	case !p.Starts.IsZero() && !now.After(p.Starts):
		return fmt.Errorf("not valid before %s", p.Starts.UTC().Format(time.RFC3339))
	case p.SourceIP.IsValid() && (!ip.IsValid() || !p.SourceIP.Contains(ip.Unmap())):
		return fmt.Errorf("client address %s is not in %s", ip, p.SourceIP)
	}
	return nil
}

// Match reports whether url matches pattern, where '*' matches any run of
// characters and '?' exactly one; case-sensitive, in
// O(len(pattern)*len(url)) time.
func Match(pattern, url string) bool {
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(url) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == url[s]):
			p++
			s++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case star >= 0:
			p = star + 1
			mark++
			s = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ParsePolicy reads a policy statement strictly: exactly one statement,
// the documented names spelt exactly and each at most once, integer epoch
// times, DateLessThan required, an IPv4 or IPv6 CIDR prefix.
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("policy is %d bytes, the limit is %d", len(data), MaxPolicyBytes)
	}
	top, err := object(data, "Statement")
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, errors.New("policy: no Statement")
	}
	var stmts []json.RawMessage
	if err := json.Unmarshal(raw, &stmts); err != nil || len(stmts) != 1 {
		return nil, errors.New("policy: Statement must be a list of exactly one statement")
	}
	return parseStatement(stmts[0])
}

func parseStatement(raw []byte) (*Policy, error) {
	st, err := object(raw, "Resource", "Condition")
	if err != nil {
		return nil, fmt.Errorf("policy statement: %w", err)
	}
	p := &Policy{}
	if r, ok := st["Resource"]; ok {
		if err := json.Unmarshal(r, &p.Resource); err != nil || p.Resource == "" {
			return nil, errors.New("policy: Resource must be a non-empty string")
		}
	}
	c, ok := st["Condition"]
	if !ok {
		return nil, errors.New("policy: no Condition (DateLessThan is required)")
	}
	cond, err := object(c, "DateLessThan", "DateGreaterThan", "IpAddress")
	if err != nil {
		return nil, fmt.Errorf("policy Condition: %w", err)
	}
	dl, ok := cond["DateLessThan"]
	if !ok {
		return nil, errors.New("policy: no DateLessThan")
	}
	if p.Expires, err = epoch(dl, "DateLessThan"); err != nil {
		return nil, err
	}
	if dg, ok := cond["DateGreaterThan"]; ok {
		if p.Starts, err = epoch(dg, "DateGreaterThan"); err != nil {
			return nil, err
		}
	}
	if ip, ok := cond["IpAddress"]; ok {
		if p.SourceIP, err = sourceIP(ip); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// epoch reads {"AWS:EpochTime": N}, N an unquoted integer of seconds.
func epoch(raw []byte, name string) (time.Time, error) {
	o, err := object(raw, "AWS:EpochTime")
	if err != nil {
		return time.Time{}, fmt.Errorf("policy %s: %w", name, err)
	}
	n, err := strconv.ParseInt(string(o["AWS:EpochTime"]), 10, 64)
	if err != nil || n < 0 || n > maxEpoch {
		return time.Time{}, fmt.Errorf("policy %s: AWS:EpochTime must be an unquoted number of seconds since 1970", name)
	}
	return time.Unix(n, 0), nil
}

// sourceIP reads {"AWS:SourceIp": "192.0.2.0/24"}.
func sourceIP(raw []byte) (netip.Prefix, error) {
	o, err := object(raw, "AWS:SourceIp")
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("policy IpAddress: %w", err)
	}
	var s string
	if err := json.Unmarshal(o["AWS:SourceIp"], &s); err != nil {
		return netip.Prefix{}, errors.New("policy IpAddress: AWS:SourceIp must be a string")
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("policy IpAddress: %q is not a CIDR prefix such as 192.0.2.0/24 (one address: /32)", s)
	}
	return pfx.Masked(), nil
}

// object decodes a JSON object whose keys are among allowed (exact case),
// each at most once, with nothing after it. With a single allowed name,
// that name is required.
func object(data []byte, allowed ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("want a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("malformed JSON")
		}
		key, _ := tok.(string)
		if !contains(allowed, key) {
			return nil, fmt.Errorf("unknown field %q (allowed: %v)", key, allowed)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("duplicate field %q", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("field %q: malformed JSON", key)
		}
		out[key] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	if len(allowed) == 1 && len(out) == 0 {
		return nil, fmt.Errorf("no %q", allowed[0])
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
