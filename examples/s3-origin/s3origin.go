// Package s3origin is AWS's "Using an origin request trigger to change from
// a custom origin to an Amazon S3 origin": requests under /media/ are sent
// to an S3 bucket instead of the behavior's custom origin, with the Host
// header set to the bucket's domain, as CloudFront requires. The bucket
// comes from the custom origin's X-Media-Bucket custom header (set in the
// distribution), "domain[/path]": e.g. "media.s3.us-east-1.amazonaws.com",
// or "127.0.0.1:9003/media" for the lab's S3-mode origin (path-style), so
// the same code runs in every lab. An origin without it is left alone.
package s3origin

import (
	"context"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// BucketHeader is the custom origin header naming the bucket's domain.
const BucketHeader = "X-Media-Bucket"

// OriginRequest switches /media/ requests to the S3 origin.
func OriginRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if !strings.HasPrefix(req.URI, "/media/") || req.Origin == nil || req.Origin.Custom == nil {
		return nil, nil
	}
	bucket := req.Origin.Custom.CustomHeaders.Get(BucketHeader)
	if bucket == "" {
		return nil, nil
	}
	domain, path, _ := strings.Cut(bucket, "/")
	if path != "" {
		path = "/" + path
	}
	req.Origin = &edge.Origin{S3: &edge.S3Origin{DomainName: domain, Region: "us-east-1", AuthMethod: "none", Path: path}}
	req.Header.Set("Host", domain)
	edge.Logf(ctx, "s3-origin: %s -> s3 %s", req.URI, domain)
	return nil, nil
}
