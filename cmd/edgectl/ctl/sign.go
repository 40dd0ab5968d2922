package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/signedurl"
)

// signFlags are the flags sign-url and sign-cookies share: the key, and
// either a canned policy (an expiry), a custom one built from flags, or a
// policy file.
type signFlags struct {
	keyPairID, privateKey, hash     string
	expires, lessThan, greaterThan  string
	ipAddress, resource, policyFile string
}

func (f *signFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.keyPairID, "key-pair-id", "", "id of the public key in a trusted key group (Key-Pair-Id; required)")
	fl.StringVar(&f.privateKey, "private-key", "", "PEM file of the RSA private key (required)")
	fl.StringVar(&f.hash, "hash-algorithm", "SHA1", "signature hash: SHA1 or SHA256 (adds Hash-Algorithm=SHA256)")
	fl.StringVar(&f.expires, "expires", "", "expiry: a duration from now (1h), Unix seconds, RFC 3339 or YYYY-MM-DD (UTC)")
	fl.StringVar(&f.lessThan, "date-less-than", "", "the same as --expires (aws cloudfront sign's name)")
	fl.StringVar(&f.greaterThan, "date-greater-than", "", "custom policy: not valid before this time")
	fl.StringVar(&f.ipAddress, "ip-address", "", "custom policy: the viewer address range, CIDR (192.0.2.0/24; one address: /32)")
	fl.StringVar(&f.resource, "resource", "", "custom policy: the URL pattern granted, with * and ? wildcards")
	fl.StringVar(&f.policyFile, "policy", "", "custom policy statement file (JSON), signed as it is once white space is removed")
}

// signer reads the private key.
func (f *signFlags) signer() (signedurl.Signer, error) {
	if f.keyPairID == "" || f.privateKey == "" {
		return signedurl.Signer{}, usagef("--key-pair-id and --private-key are required")
	}
	h, err := signedurl.ParseHash(strings.ToUpper(f.hash))
	if err != nil {
		return signedurl.Signer{}, usagef("--hash-algorithm: %v", err)
	}
	pemData, err := os.ReadFile(f.privateKey)
	if err != nil {
		return signedurl.Signer{}, fmt.Errorf("reading the private key: %w", err)
	}
	key, err := signedurl.ParsePrivateKey(string(pemData))
	if err != nil {
		return signedurl.Signer{}, fmt.Errorf("%s: %w", f.privateKey, err)
	}
	return signedurl.Signer{KeyPairID: f.keyPairID, Key: key, Hash: h}, nil
}

// policy returns the policy to sign: nil with canned set for a canned
// policy (only an expiry), else the custom policy's JSON. resource is the
// custom policy's default Resource.
func (f *signFlags) policy(resource string, now time.Time) (js []byte, expires time.Time, canned bool, err error) {
	if f.policyFile != "" {
		if f.expires != "" || f.lessThan != "" || f.greaterThan != "" || f.ipAddress != "" || f.resource != "" {
			return nil, time.Time{}, false, usagef("--policy replaces --expires, --date-less-than, --date-greater-than, --ip-address and --resource")
		}
		return readPolicy(f.policyFile)
	}
	p := signedurl.Policy{Resource: resource}
	exp := f.expires
	if exp == "" {
		exp = f.lessThan
	}
	if exp == "" || (f.expires != "" && f.lessThan != "") {
		return nil, time.Time{}, false, usagef("give one of --expires, --date-less-than or --policy")
	}
	if p.Expires, err = parseWhen(exp, now); err != nil {
		return nil, time.Time{}, false, usagef("--expires: %v", err)
	}
	if f.greaterThan != "" {
		if p.Starts, err = parseWhen(f.greaterThan, now); err != nil {
			return nil, time.Time{}, false, usagef("--date-greater-than: %v", err)
		}
	}
	if f.ipAddress != "" {
		if p.SourceIP, err = netip.ParsePrefix(f.ipAddress); err != nil {
			return nil, time.Time{}, false, usagef("--ip-address %q: want a CIDR range such as 192.0.2.0/24", f.ipAddress)
		}
		p.SourceIP = p.SourceIP.Masked()
	}
	if f.resource != "" {
		p.Resource = f.resource
	}
	if f.resource == "" && p.IsCanned() {
		return nil, p.Expires, true, nil
	}
	return p.JSON(), p.Expires, false, nil
}

// readPolicy reads a policy file, checks it and removes its white space.
func readPolicy(path string) ([]byte, time.Time, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("reading the policy: %w", err)
	}
	p, err := signedurl.ParsePolicy(data)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("%s: %w", path, err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return nil, time.Time{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return b.Bytes(), p.Expires, false, nil
}

// parseWhen reads a time: a duration from now ("1h", "+30m"), Unix
// seconds, RFC 3339, "2006-01-02T15:04:05" or "2006-01-02" (UTC).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil {
		return now.Add(d).Truncate(time.Second), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a duration (1h), Unix seconds, RFC 3339 time or date", s)
}

func signURLCmd() *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "sign-url URL --key-pair-id ID --private-key FILE (--expires T | --policy FILE | custom policy flags)",
		Short: "Print a CloudFront signed URL for a behavior with trusted key groups",
		Long: `Sign URL for a behavior that trusts key groups (trustedKeyGroups, docs/distribution.md).
With only an expiry the URL carries a canned policy (Expires, Signature,
Key-Pair-Id); with --date-greater-than, --ip-address or --resource, or with
--policy FILE, a custom policy (Policy, Signature, Key-Pair-Id). URL must be
what viewers request: scheme, host (with port in the lab), path and query.
The signature is RSA with SHA-1 (or --hash-algorithm SHA256). Nothing is
sent anywhere: signing is local, as with 'aws cloudfront sign'.`,
		Example: `  edgectl sign-url http://127.0.0.1:8080/private/a.jpg --key-pair-id K2JCJMDEHXQW5F --private-key private.pem --expires 1h
  edgectl sign-url http://127.0.0.1:8080/private/a.jpg --key-pair-id K2JCJMDEHXQW5F --private-key private.pem \
      --date-less-than 2027-01-01 --ip-address 192.0.2.0/24 --resource 'http://127.0.0.1:8080/private/*'
  edgectl sign-url http://127.0.0.1:8080/private/a.jpg --key-pair-id K2JCJMDEHXQW5F --private-key private.pem --policy policy.json`,
		Args: exactArgs(1, "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.signer()
			if err != nil {
				return err
			}
			js, exp, canned, err := f.policy(args[0], time.Now())
			if err != nil {
				return err
			}
			var out string
			if canned {
				out, err = s.CannedURL(args[0], exp)
			} else {
				out, err = s.PolicyURL(args[0], js)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), out)
			return err
		},
	}
	f.register(cmd)
	return cmd
}

func signCookiesCmd() *cobra.Command {
	var f signFlags
	var domain, path string
	var secure, httpOnly bool
	cmd := &cobra.Command{
		Use:   "sign-cookies RESOURCE --key-pair-id ID --private-key FILE (--expires T | --policy FILE | custom policy flags)",
		Short: "Print Set-Cookie lines with CloudFront signed cookies",
		Long: `Print the Set-Cookie header lines an application sends a viewer so that
the viewer's requests to behaviors with trusted key groups are served.
RESOURCE is the URL granted; with a '*' wildcard in it, or with
--date-greater-than or --ip-address, the cookies carry a custom policy
(CloudFront-Policy, CloudFront-Signature, CloudFront-Key-Pair-Id), else a
canned one for exactly that URL (CloudFront-Expires instead of
CloudFront-Policy). Use --secure=false for a lab served over plain HTTP.`,
		Example: `  edgectl sign-cookies 'http://127.0.0.1:8080/private/*' --key-pair-id K2JCJMDEHXQW5F --private-key private.pem --expires 12h
  edgectl sign-cookies http://127.0.0.1:8080/private/a.jpg --key-pair-id K2JCJMDEHXQW5F --private-key private.pem \
      --expires 2027-01-01 --domain 127.0.0.1 --path /private --secure=false`,
		Args: exactArgs(1, "RESOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.signer()
			if err != nil {
				return err
			}
			if strings.Contains(args[0], "*") && f.resource == "" && f.policyFile == "" {
				f.resource = args[0]
			}
			js, exp, canned, err := f.policy(args[0], time.Now())
			if err != nil {
				return err
			}
			var cs []*http.Cookie
			if canned {
				cs, err = s.CannedCookies(args[0], exp)
			} else {
				cs, err = s.PolicyCookies(js)
			}
			if err != nil {
				return err
			}
			for _, c := range cs {
				c.Domain, c.Path, c.Secure, c.HttpOnly = domain, path, secure, httpOnly
				if _, err := fmt.Fprintf(cmd.OutOrStdout(), "Set-Cookie: %s\n", c.String()); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&domain, "domain", "", "cookie Domain attribute (default: none, the request's host)")
	cmd.Flags().StringVar(&path, "path", "/", "cookie Path attribute")
	cmd.Flags().BoolVar(&secure, "secure", true, "cookie Secure attribute (sent over HTTPS only)")
	cmd.Flags().BoolVar(&httpOnly, "http-only", true, "cookie HttpOnly attribute")
	return cmd
}
