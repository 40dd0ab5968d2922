package origin

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// S3 mode (Config.S3Buckets): the origin answers like an S3 REST endpoint
// for a set of buckets, so a distribution's S3 origin has something to talk
// to in the lab. A bucket is named by the first label of a virtual-hosted
// Host ("media.s3.eu-west-1.example") or, failing that, by the first path
// segment ("/media/cat.jpg", path style). Every key exists (its body names
// the bucket, key and origin) except keys under "missing/" (404 NoSuchKey)
// and those deleted; PUT stores an object in memory and, as S3 does,
// answers 411 MissingContentLength to a body without a Content-Length.
// Objects carry an ETag (the body's MD5), Last-Modified, x-amz-meta-*
// metadata (x-amz-meta-bucket, and any sent with the PUT) and
// x-amz-request-id; If-None-Match and If-Modified-Since answer 304.

// s3Store is the objects PUT into S3 mode; safe for concurrent use.
type s3Store struct {
	buckets []string
	id      string // the origin's id, named in generated bodies
	started time.Time
	mu      sync.Mutex
	objects map[string]s3Object // by bucket + "/" + key
	seq     uint64
}

type s3Object struct {
	body     []byte
	header   http.Header // Content-Type and x-amz-meta-*
	modified time.Time
}

func newS3Store(id string, buckets []string) *s3Store {
	if len(buckets) == 0 {
		return nil
	}
	return &s3Store{id: id, buckets: slices.Clone(buckets), started: time.Now().UTC().Truncate(time.Second), objects: map[string]s3Object{}}
}

// bucketKey splits a request into bucket and key.
func (st *s3Store) bucketKey(r *http.Request) (bucket, key string) {
	host, _, _ := strings.Cut(r.Host, ":")
	if label, rest, ok := strings.Cut(host, "."); ok && strings.HasPrefix(rest, "s3") {
		return label, strings.TrimPrefix(r.URL.Path, "/")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return bucket, key
}

// s3Route answers one request in S3 mode.
func (s *Server) s3Route(w http.ResponseWriter, r *http.Request) (int, []byte) {
	st, h := s.s3, w.Header()
	st.mu.Lock()
	st.seq++
	h.Set("X-Amz-Request-Id", fmt.Sprintf("%s-%016X", s.cfg.ID, st.seq))
	st.mu.Unlock()
	h.Set("Server", "AmazonS3")
	bucket, key := st.bucketKey(r)
	if !slices.Contains(st.buckets, bucket) {
		return s3Error(h, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", bucket)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return st.get(w, r, bucket, key)
	case http.MethodPut:
		return st.put(h, r, bucket, key)
	case http.MethodDelete:
		st.mu.Lock()
		st.objects[bucket+"/"+key] = s3Object{} // a tombstone: body nil
		st.mu.Unlock()
		return http.StatusNoContent, nil
	}
	return s3Error(h, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource", r.Method)
}

func (st *s3Store) object(bucket, key string) (s3Object, bool) {
	st.mu.Lock()
	o, stored := st.objects[bucket+"/"+key]
	st.mu.Unlock()
	switch {
	case stored:
		return o, o.body != nil
	case key == "" || strings.HasPrefix(key, "missing/"):
		return s3Object{}, false
	}
	return s3Object{body: fmt.Appendf(nil, "object %s/%s from %s\n", bucket, key, st.id),
		header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, modified: st.started}, true
}

func (st *s3Store) get(w http.ResponseWriter, r *http.Request, bucket, key string) (int, []byte) {
	h := w.Header()
	o, ok := st.object(bucket, key)
	if !ok {
		return s3Error(h, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", key)
	}
	sum := md5.Sum(o.body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	for k, vs := range o.header {
		h[k] = vs
	}
	h.Set("ETag", etag)
	h.Set("Last-Modified", o.modified.Format(http.TimeFormat))
	h.Set("X-Amz-Meta-Bucket", bucket)
	h.Set("Accept-Ranges", "bytes")
	if inm := r.Header.Get("If-None-Match"); inm == etag {
		return http.StatusNotModified, nil
	}
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !o.modified.After(ims) {
		return http.StatusNotModified, nil
	}
	return http.StatusOK, o.body
}

func (st *s3Store) put(h http.Header, r *http.Request, bucket, key string) (int, []byte) {
	if r.ContentLength < 0 {
		return s3Error(h, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.", key)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return s3Error(h, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header", key)
	}
	oh := http.Header{"Content-Type": {r.Header.Get("Content-Type")}}
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "X-Amz-Meta-") {
			oh[k] = vs
		}
	}
	st.mu.Lock()
	st.objects[bucket+"/"+key] = s3Object{body: append([]byte{}, body...), header: oh, modified: time.Now().UTC().Truncate(time.Second)}
	st.mu.Unlock()
	sum := md5.Sum(body)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	return http.StatusOK, nil
}

// s3Error is S3's XML error document.
func s3Error(h http.Header, status int, code, msg, resource string) (int, []byte) {
	h.Set("Content-Type", "application/xml")
	return status, fmt.Appendf(nil, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource></Error>\n",
		code, msg, htmlEscape(resource))
}
