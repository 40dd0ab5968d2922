package controlplane

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/distribution"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/store"
)

// invalidError marks a validation failure of the request (InvalidArgument).
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// toStatus maps an error to a gRPC status: the one place where store,
// validation and etcd errors become codes. The message is the error's text,
// which edgectl prints as is.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var inv *invalidError
	var verr *distribution.ValidationError
	var serrs sandbox.SourceErrors
	var code codes.Code
	switch {
	case errors.As(err, &inv), errors.As(err, &verr), errors.As(err, &serrs),
		errors.Is(err, store.ErrInvalidName), errors.Is(err, store.ErrMissingVersion):
		code = codes.InvalidArgument
	case errors.Is(err, store.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, store.ErrExists):
		code = codes.AlreadyExists
	case errors.Is(err, store.ErrReferenced), errors.Is(err, store.ErrNoDraft):
		code = codes.FailedPrecondition
	case errors.Is(err, store.ErrConflict):
		code = codes.Aborted
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	default:
		code = etcdCode(err)
	}
	return status.Error(code, err.Error())
}

// etcdCode classifies an error from the etcd client: no leader, no quorum,
// timeouts and connection failures are Unavailable; anything else Internal.
func etcdCode(err error) codes.Code {
	for _, e := range []error{rpctypes.ErrNoLeader, rpctypes.ErrTimeout, rpctypes.ErrTimeoutDueToLeaderFail,
		rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrLeaderChanged, rpctypes.ErrGRPCNoLeader} {
		if errors.Is(err, e) {
			return codes.Unavailable
		}
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		switch c := se.GRPCStatus().Code(); c {
		case codes.Unavailable, codes.DeadlineExceeded:
			return codes.Unavailable
		}
	}
	return codes.Internal
}
