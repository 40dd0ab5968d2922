package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// maxAttempts bounds the optimistic-transaction retry loops. Each failed
// attempt means another writer committed, so the system as a whole makes
// progress; the bound only stops a pathological livelock.
const maxAttempts = 1000

// ErrInvalidName: a function name or distribution id is not a valid key segment.
var ErrInvalidName = errors.New("invalid name")

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$`)

// CheckName reports whether name can be used as a function name or
// distribution id: 1-64 characters of letters, digits, '-' and '_', starting
// with a letter or digit. kind names the thing in the error ("function").
func CheckName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%s name %q: %w: use 1-64 letters, digits, '-' or '_', starting with a letter or digit", kind, name, ErrInvalidName)
	}
	return nil
}

// Store is typed access to edgelab's state in etcd. It is safe for
// concurrent use, also from several processes on one etcd: every
// read-modify-write is an etcd transaction guarded by the revisions it read.
type Store struct {
	kv   clientv3.KV
	keys Keys
	now  func() time.Time
}

// New returns a Store on kv (a *clientv3.Client or any clientv3.KV) under keys.
func New(kv clientv3.KV, keys Keys) *Store {
	return &Store{kv: kv, keys: keys, now: time.Now}
}

// Keys returns the key layout the store uses.
func (s *Store) Keys() Keys { return s.keys }

func decode[T proto.Message](data []byte, m T, key string) (T, error) {
	if err := proto.Unmarshal(data, m); err != nil {
		return m, fmt.Errorf("decoding %s: %w", key, err)
	}
	return m, nil
}

func encode(m proto.Message) (string, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding %T: %w", m, err)
	}
	return string(b), nil
}

// ---- functions ----

// CreateFunction stores a new function. It fails with ErrExists when the name
// is taken. Created/Updated and DraftSha256 are filled in.
func (s *Store) CreateFunction(ctx context.Context, fn *edgelabv1.Function) (*edgelabv1.Function, error) {
	if err := CheckName("function", fn.GetName()); err != nil {
		return nil, err
	}
	fn = proto.CloneOf(fn)
	now := timestamppb.New(s.now())
	fn.Created, fn.Updated = now, now
	fn.DraftSha256 = SHA256(fn.GetDraft())
	fn.LatestVersion = 0
	val, err := encode(fn)
	if err != nil {
		return nil, err
	}
	key := s.keys.Function(fn.GetName())
	resp, err := s.kv.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, val)).
		Commit()
	if err != nil {
		return nil, fmt.Errorf("creating function %s: %w", fn.GetName(), err)
	}
	if !resp.Succeeded {
		return nil, fmt.Errorf("function %q: %w", fn.GetName(), ErrExists)
	}
	return fn, nil
}

// GetFunction returns a function and the ModRevision of its record.
func (s *Store) GetFunction(ctx context.Context, name string) (*edgelabv1.Function, int64, error) {
	key := s.keys.Function(name)
	resp, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("reading function %s: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, fmt.Errorf("function %q: %w", name, ErrNotFound)
	}
	fn, err := decode(resp.Kvs[0].Value, &edgelabv1.Function{}, key)
	return fn, resp.Kvs[0].ModRevision, err
}

// ListFunctions returns every function, sorted by name.
func (s *Store) ListFunctions(ctx context.Context) ([]*edgelabv1.Function, error) {
	resp, err := s.kv.Get(ctx, s.keys.Functions(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("listing functions: %w", err)
	}
	out := make([]*edgelabv1.Function, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		fn, err := decode(kv.Value, &edgelabv1.Function{}, string(kv.Key))
		if err != nil {
			return nil, err
		}
		out = append(out, fn)
	}
	return out, nil
}

// UpdateFunction applies mutate to the current function record and stores
// the result, retrying when another writer got there first. mutate may be
// called more than once and must not keep the pointer. DraftSha256 and
// Updated are recomputed; LatestVersion and Created cannot be changed.
func (s *Store) UpdateFunction(ctx context.Context, name string, mutate func(*edgelabv1.Function) error) (*edgelabv1.Function, error) {
	key := s.keys.Function(name)
	for range maxAttempts {
		fn, rev, err := s.GetFunction(ctx, name)
		if err != nil {
			return nil, err
		}
		latest, created := fn.GetLatestVersion(), fn.GetCreated()
		if err := mutate(fn); err != nil {
			return nil, err
		}
		fn.Name, fn.LatestVersion, fn.Created = name, latest, created
		fn.DraftSha256 = SHA256(fn.GetDraft())
		fn.Updated = timestamppb.New(s.now())
		val, err := encode(fn)
		if err != nil {
			return nil, err
		}
		resp, err := s.kv.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, val)).
			Commit()
		if err != nil {
			return nil, fmt.Errorf("updating function %s: %w", name, err)
		}
		if resp.Succeeded {
			return fn, nil
		}
	}
	return nil, fmt.Errorf("updating function %s: %w", name, ErrConflict)
}

// PublishFunction publishes the function's draft as the next numbered
// version. The function record and the version are written in one
// transaction guarded by the record's ModRevision, so concurrent publishes
// (from any number of control planes) get consecutive numbers with no gap or
// duplicate. description, when non-empty, overrides the version's
// description. It returns the version and the etcd revision of the publish.
func (s *Store) PublishFunction(ctx context.Context, name, description string) (*edgelabv1.FunctionVersion, int64, error) {
	key := s.keys.Function(name)
	for range maxAttempts {
		fn, rev, err := s.GetFunction(ctx, name)
		if err != nil {
			return nil, 0, err
		}
		if len(fn.GetDraft()) == 0 {
			return nil, 0, fmt.Errorf("function %q: %w", name, ErrNoDraft)
		}
		n := fn.GetLatestVersion() + 1
		cfg := proto.CloneOf(fn.GetConfig())
		if cfg == nil {
			cfg = &edgelabv1.FunctionConfig{}
		}
		if description != "" {
			cfg.Description = description
		}
		ver := &edgelabv1.FunctionVersion{
			Name:        name,
			Version:     n,
			Config:      cfg,
			Files:       fn.GetDraft(),
			Sha256:      SHA256(fn.GetDraft()),
			EntryPoints: fn.GetEntryPoints(),
			Published:   timestamppb.New(s.now()),
		}
		fn.LatestVersion = n
		fval, err := encode(fn)
		if err != nil {
			return nil, 0, err
		}
		vval, err := encode(ver)
		if err != nil {
			return nil, 0, err
		}
		vkey := s.keys.Version(name, n)
		resp, err := s.kv.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev),
				clientv3.Compare(clientv3.CreateRevision(vkey), "=", 0)).
			Then(clientv3.OpPut(key, fval), clientv3.OpPut(vkey, vval)).
			Commit()
		if err != nil {
			return nil, 0, fmt.Errorf("publishing function %s: %w", name, err)
		}
		if resp.Succeeded {
			return ver, resp.Header.Revision, nil
		}
	}
	return nil, 0, fmt.Errorf("publishing function %s: %w", name, ErrConflict)
}

// GetVersion returns one published version.
func (s *Store) GetVersion(ctx context.Context, name string, version int64) (*edgelabv1.FunctionVersion, error) {
	key := s.keys.Version(name, version)
	resp, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("reading function %s version %d: %w", name, version, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("function %q version %d: %w", name, version, ErrNotFound)
	}
	return decode(resp.Kvs[0].Value, &edgelabv1.FunctionVersion{}, key)
}

// ListVersions returns the published version numbers of a function, ascending.
func (s *Store) ListVersions(ctx context.Context, name string) ([]int64, error) {
	resp, err := s.kv.Get(ctx, s.keys.FunctionVersions(name), clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("listing versions of %s: %w", name, err)
	}
	out := make([]int64, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if n, v, ok := s.keys.ParseVersionKey(string(kv.Key)); ok && n == name {
			out = append(out, v)
		}
	}
	return out, nil
}

// references returns the first association in ds that references name
// (and version, when version > 0).
func references(ds []*edgelabv1.Distribution, name string, version int64) *ReferencedError {
	for _, d := range ds {
		for _, b := range d.GetBehaviors() {
			for _, a := range b.GetFunctions() {
				if a.GetFunction() == name && (version == 0 || a.GetVersion() == version) {
					return &ReferencedError{Function: name, Version: a.GetVersion(), Distribution: d.GetId(),
						Behavior: b.GetPath(), EventType: eventtype.Name(a.GetEventType())}
				}
			}
		}
	}
	return nil
}

// DeleteVersion deletes one published version. It fails with a
// *ReferencedError (errors.Is ErrReferenced) when a distribution references
// it. The delete transaction re-checks that no distribution changed since
// the check, so a concurrent apply cannot slip a reference in.
func (s *Store) DeleteVersion(ctx context.Context, name string, version int64) (int64, error) {
	vkey := s.keys.Version(name, version)
	for range maxAttempts {
		ds, rev, err := s.listDistributions(ctx)
		if err != nil {
			return 0, err
		}
		if ref := references(ds, name, version); ref != nil {
			return 0, ref
		}
		resp, err := s.kv.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(s.keys.Distributions()), "<", rev+1).WithPrefix(),
				clientv3.Compare(clientv3.CreateRevision(vkey), ">", 0)).
			Then(clientv3.OpDelete(vkey)).
			Else(clientv3.OpGet(vkey, clientv3.WithKeysOnly())).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("deleting function %s version %d: %w", name, version, err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		if len(resp.Responses) > 0 && len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return 0, fmt.Errorf("function %q version %d: %w", name, version, ErrNotFound)
		}
	}
	return 0, fmt.Errorf("deleting function %s version %d: %w", name, version, ErrConflict)
}

// DeleteFunction deletes a function and all its versions. It fails with a
// *ReferencedError when a distribution references any of its versions.
func (s *Store) DeleteFunction(ctx context.Context, name string) (int64, error) {
	fkey := s.keys.Function(name)
	for range maxAttempts {
		ds, rev, err := s.listDistributions(ctx)
		if err != nil {
			return 0, err
		}
		if ref := references(ds, name, 0); ref != nil {
			return 0, ref
		}
		resp, err := s.kv.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(s.keys.Distributions()), "<", rev+1).WithPrefix(),
				clientv3.Compare(clientv3.CreateRevision(fkey), ">", 0)).
			Then(clientv3.OpDelete(fkey), clientv3.OpDelete(s.keys.FunctionVersions(name), clientv3.WithPrefix())).
			Else(clientv3.OpGet(fkey, clientv3.WithKeysOnly())).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("deleting function %s: %w", name, err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		if len(resp.Responses) > 0 && len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return 0, fmt.Errorf("function %q: %w", name, ErrNotFound)
		}
	}
	return 0, fmt.Errorf("deleting function %s: %w", name, ErrConflict)
}

// ---- distributions ----

// ApplyDistribution creates or replaces a distribution. In the same
// transaction it verifies that every referenced function version still
// exists, so a concurrent version delete cannot leave a dangling reference;
// a missing one yields a *MissingVersionError. It returns the stored
// distribution (Updated set), the revision and whether it was created.
func (s *Store) ApplyDistribution(ctx context.Context, d *edgelabv1.Distribution) (*edgelabv1.Distribution, int64, bool, error) {
	for attempt := 0; ; attempt++ {
		out, rev, created, err := s.applyDistributionOnce(ctx, d)
		if errors.Is(err, ErrConflict) && attempt < maxAttempts && ctx.Err() == nil {
			continue // another distribution changed between the read and the put
		}
		return out, rev, created, err
	}
}

func (s *Store) applyDistributionOnce(ctx context.Context, d *edgelabv1.Distribution) (*edgelabv1.Distribution, int64, bool, error) {
	if err := CheckName("distribution", d.GetId()); err != nil {
		return nil, 0, false, err
	}
	d = proto.CloneOf(d)
	d.Updated = timestamppb.New(s.now())
	val, err := encode(d)
	if err != nil {
		return nil, 0, false, err
	}
	var cmps []clientv3.Cmp
	var refs []*edgelabv1.FunctionRef
	seen := map[string]bool{}
	for _, b := range d.GetBehaviors() {
		for _, a := range b.GetFunctions() {
			vkey := s.keys.Version(a.GetFunction(), a.GetVersion())
			if seen[vkey] {
				continue
			}
			seen[vkey] = true
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(vkey), ">", 0))
			refs = append(refs, &edgelabv1.FunctionRef{Name: a.GetFunction(), Version: a.GetVersion()})
		}
	}
	key := s.keys.Distribution(d.GetId())
	// Domains are unique across distributions (CloudFront's
	// CNAMEAlreadyExists): an edge node could not route a Host served twice.
	// The check holds atomically: the put only happens if no other
	// distribution changed since it was read.
	others, err := s.kv.Get(ctx, s.keys.Distributions(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, false, fmt.Errorf("applying distribution %s: %w", d.GetId(), err)
	}
	mine := map[string]bool{}
	for _, dom := range d.GetDomains() {
		mine[strings.ToLower(strings.TrimSpace(dom))] = true
	}
	for _, kv := range others.Kvs {
		if string(kv.Key) == key {
			continue
		}
		other, err := decode(kv.Value, &edgelabv1.Distribution{}, string(kv.Key))
		if err != nil {
			return nil, 0, false, err
		}
		for _, dom := range other.GetDomains() {
			if mine[strings.ToLower(strings.TrimSpace(dom))] {
				return nil, 0, false, &DomainConflictError{Domain: dom, Distribution: other.GetId()}
			}
		}
	}
	cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(s.keys.Distributions()), "<", others.Header.Revision+1).WithPrefix())
	resp, err := s.kv.Txn(ctx).If(cmps...).Then(clientv3.OpPut(key, val, clientv3.WithPrevKV())).Commit()
	if err != nil {
		return nil, 0, false, fmt.Errorf("applying distribution %s: %w", d.GetId(), err)
	}
	if !resp.Succeeded {
		// Find which one is missing for the error message.
		for _, r := range refs {
			if _, err := s.GetVersion(ctx, r.GetName(), r.GetVersion()); err != nil {
				if errors.Is(err, ErrNotFound) {
					return nil, 0, false, &MissingVersionError{Function: r.GetName(), Version: r.GetVersion()}
				}
				return nil, 0, false, err
			}
		}
		return nil, 0, false, fmt.Errorf("applying distribution %s: %w", d.GetId(), ErrConflict)
	}
	created := resp.Responses[0].GetResponsePut().GetPrevKv() == nil
	return d, resp.Header.Revision, created, nil
}

// GetDistribution returns a distribution and its ModRevision.
func (s *Store) GetDistribution(ctx context.Context, id string) (*edgelabv1.Distribution, int64, error) {
	key := s.keys.Distribution(id)
	resp, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("reading distribution %s: %w", id, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, fmt.Errorf("distribution %q: %w", id, ErrNotFound)
	}
	d, err := decode(resp.Kvs[0].Value, &edgelabv1.Distribution{}, key)
	return d, resp.Kvs[0].ModRevision, err
}

// ListDistributions returns every distribution, sorted by id.
func (s *Store) ListDistributions(ctx context.Context) ([]*edgelabv1.Distribution, error) {
	ds, _, err := s.listDistributions(ctx)
	return ds, err
}

// listDistributions also returns the etcd revision of the read.
func (s *Store) listDistributions(ctx context.Context) ([]*edgelabv1.Distribution, int64, error) {
	resp, err := s.kv.Get(ctx, s.keys.Distributions(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, 0, fmt.Errorf("listing distributions: %w", err)
	}
	out := make([]*edgelabv1.Distribution, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		d, err := decode(kv.Value, &edgelabv1.Distribution{}, string(kv.Key))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, resp.Header.Revision, nil
}

// DeleteDistribution deletes a distribution and its invalidations.
func (s *Store) DeleteDistribution(ctx context.Context, id string) (int64, error) {
	key := s.keys.Distribution(id)
	resp, err := s.kv.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), ">", 0)).
		Then(clientv3.OpDelete(key), clientv3.OpDelete(s.keys.Invalidations()+id+"/", clientv3.WithPrefix())).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("deleting distribution %s: %w", id, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("distribution %q: %w", id, ErrNotFound)
	}
	return resp.Header.Revision, nil
}

// ---- invalidations ----

// CreateInvalidation stores an invalidation for an existing distribution.
// The id is generated when empty; Created and Revision are filled in (the
// stored value carries no revision: it is the key's CreateRevision).
func (s *Store) CreateInvalidation(ctx context.Context, inv *edgelabv1.Invalidation) (*edgelabv1.Invalidation, error) {
	inv = proto.CloneOf(inv)
	now := s.now()
	if inv.GetId() == "" {
		inv.Id = fmt.Sprintf("I%d", now.UnixNano())
	}
	if err := CheckName("invalidation", inv.GetId()); err != nil {
		return nil, err
	}
	inv.Created = timestamppb.New(now)
	inv.Revision = 0
	val, err := encode(inv)
	if err != nil {
		return nil, err
	}
	dkey := s.keys.Distribution(inv.GetDistributionId())
	key := s.keys.Invalidation(inv.GetDistributionId(), inv.GetId())
	resp, err := s.kv.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(dkey), ">", 0),
			clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, val)).
		Else(clientv3.OpGet(dkey, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return nil, fmt.Errorf("creating invalidation for %s: %w", inv.GetDistributionId(), err)
	}
	if !resp.Succeeded {
		if len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return nil, fmt.Errorf("distribution %q: %w", inv.GetDistributionId(), ErrNotFound)
		}
		return nil, fmt.Errorf("invalidation %q: %w", inv.GetId(), ErrExists)
	}
	inv.Revision = resp.Header.Revision
	return inv, nil
}

// ListInvalidations returns the invalidations of one distribution, with
// Revision set from each key's CreateRevision.
func (s *Store) ListInvalidations(ctx context.Context, distribution string) ([]*edgelabv1.Invalidation, error) {
	resp, err := s.kv.Get(ctx, s.keys.Invalidations()+distribution+"/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("listing invalidations of %s: %w", distribution, err)
	}
	out := make([]*edgelabv1.Invalidation, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		inv, err := decode(kv.Value, &edgelabv1.Invalidation{}, string(kv.Key))
		if err != nil {
			return nil, err
		}
		inv.Revision = kv.CreateRevision
		out = append(out, inv)
	}
	return out, nil
}
