package distribution

import (
	"crypto/rsa"
	"fmt"
	"regexp"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/signedurl"
)

// Key group limits (CloudFront's quotas).
const (
	MaxKeyGroups                = 10
	MaxKeysPerGroup             = 5
	MaxTrustedGroupsPerBehavior = 4
)

// keyIDRE is a Key-Pair-Id: it travels unescaped in query strings and cookies.
var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// keyGroupFile is a key group in the file, its public keys inline.
type keyGroupFile struct {
	ID         string          `json:"id"`
	Name       string          `json:"name,omitempty"`
	Comment    string          `json:"comment,omitempty"`
	PublicKeys []publicKeyFile `json:"publicKeys"`
}

type publicKeyFile struct {
	ID         string `json:"id"`
	EncodedKey string `json:"encodedKey"`
}

func keyGroupsToProto(in []keyGroupFile) []*edgelabv1.KeyGroup {
	var out []*edgelabv1.KeyGroup
	for _, g := range in {
		pg := &edgelabv1.KeyGroup{Id: g.ID, Name: g.Name, Comment: g.Comment}
		for _, k := range g.PublicKeys {
			pg.PublicKeys = append(pg.PublicKeys, &edgelabv1.PublicKey{Id: k.ID, EncodedKey: k.EncodedKey})
		}
		out = append(out, pg)
	}
	return out
}

func keyGroupsToFile(in []*edgelabv1.KeyGroup) []keyGroupFile {
	var out []keyGroupFile
	for _, g := range in {
		fg := keyGroupFile{ID: g.GetId(), Name: g.GetName(), Comment: g.GetComment()}
		for _, k := range g.GetPublicKeys() {
			fg.PublicKeys = append(fg.PublicKeys, publicKeyFile{ID: k.GetId(), EncodedKey: k.GetEncodedKey()})
		}
		out = append(out, fg)
	}
	return out
}

// trustedToProto and trustedToFile carry each behavior's trustedKeyGroups
// (the behaviors themselves are converted in file.go, in the same order).
func (f *file) trustedToProto(d *edgelabv1.Distribution) {
	for i, b := range f.Behaviors {
		if i < len(d.Behaviors) {
			d.Behaviors[i].TrustedKeyGroups = b.TrustedKeyGroups
		}
	}
}

func trustedToFile(d *edgelabv1.Distribution, f *file) {
	for i, b := range d.GetBehaviors() {
		if i < len(f.Behaviors) {
			f.Behaviors[i].TrustedKeyGroups = b.GetTrustedKeyGroups()
		}
	}
}

// validateKeyGroups checks the key groups (ids, 1-5 RSA keys in PEM, a
// Key-Pair-Id naming one key only) and the behaviors' references to them.
func validateKeyGroups(p *problems, d *edgelabv1.Distribution) {
	if len(d.GetKeyGroups()) > MaxKeyGroups {
		p.add("keyGroups", "%d key groups, the limit is %d", len(d.GetKeyGroups()), MaxKeyGroups)
	}
	groups := map[string]bool{}
	keys := map[string]string{} // Key-Pair-Id -> PEM
	for i, g := range d.GetKeyGroups() {
		path := fmt.Sprintf("keyGroups[%d]", i)
		switch {
		case !idRE.MatchString(g.GetId()):
			p.add(path+".id", "%q is not a valid id: use 1-64 letters, digits, '-' or '_'", g.GetId())
		case groups[g.GetId()]:
			p.add(path+".id", "duplicate key group id %q", g.GetId())
		}
		groups[g.GetId()] = true
		if n := len(g.GetPublicKeys()); n == 0 || n > MaxKeysPerGroup {
			p.add(path+".publicKeys", "%d public keys, want 1 to %d", n, MaxKeysPerGroup)
		}
		for j, k := range g.GetPublicKeys() {
			validatePublicKey(p, fmt.Sprintf("%s.publicKeys[%d]", path, j), k, keys)
		}
	}
	for i, b := range d.GetBehaviors() {
		path := fmt.Sprintf("behaviors[%d].trustedKeyGroups", i)
		if len(b.GetTrustedKeyGroups()) > MaxTrustedGroupsPerBehavior {
			p.add(path, "%d key groups, at most %d per behavior", len(b.GetTrustedKeyGroups()), MaxTrustedGroupsPerBehavior)
		}
		seen := map[string]bool{}
		for j, id := range b.GetTrustedKeyGroups() {
			switch {
			case !groups[id]:
				p.add(fmt.Sprintf("%s[%d]", path, j), "unknown key group %q (define it under keyGroups)", id)
			case seen[id]:
				p.add(fmt.Sprintf("%s[%d]", path, j), "duplicate key group %q", id)
			}
			seen[id] = true
		}
	}
}

func validatePublicKey(p *problems, path string, k *edgelabv1.PublicKey, keys map[string]string) {
	if !keyIDRE.MatchString(k.GetId()) {
		p.add(path+".id", "%q is not a valid key id: use 1-128 letters, digits, '-' or '_' (such as K2JCJMDEHXQW5F)", k.GetId())
	} else if prev, dup := keys[k.GetId()]; dup && prev != k.GetEncodedKey() {
		p.add(path+".id", "key id %q names another key already: a Key-Pair-Id must name one key", k.GetId())
	}
	keys[k.GetId()] = k.GetEncodedKey()
	if k.GetEncodedKey() == "" {
		p.add(path+".encodedKey", "the public key (PEM) is required")
	} else if _, err := signedurl.ParsePublicKey(k.GetEncodedKey()); err != nil {
		p.add(path+".encodedKey", "%v", err)
	}
}

// TrustedKeys returns the public keys, by Key-Pair-Id, of the key groups
// behavior b of d trusts; nil when it trusts none (the behavior is public).
func TrustedKeys(d *edgelabv1.Distribution, b *edgelabv1.Behavior) (map[string]*rsa.PublicKey, error) {
	if len(b.GetTrustedKeyGroups()) == 0 {
		return nil, nil
	}
	keys := map[string]*rsa.PublicKey{}
	for _, id := range b.GetTrustedKeyGroups() {
		var g *edgelabv1.KeyGroup
		for _, kg := range d.GetKeyGroups() {
			if kg.GetId() == id {
				g = kg
			}
		}
		if g == nil {
			return nil, fmt.Errorf("trusted key group %q: no such key group", id)
		}
		for _, k := range g.GetPublicKeys() {
			pub, err := signedurl.ParsePublicKey(k.GetEncodedKey())
			if err != nil {
				return nil, fmt.Errorf("key group %q, key %q: %w", id, k.GetId(), err)
			}
			keys[k.GetId()] = pub
		}
	}
	return keys, nil
}
