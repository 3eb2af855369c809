package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The backend marks an InvalidArgument caused by a missing required parameter with this
// metadata key (trailer or header). The replaced service answered 422 in that case.
const (
	errorReasonKey     = "mds-error-reason"
	reasonMissingField = "missing-field"
)

// errorBody is the error format of the REST contract; the original's clients read `detail`.
type errorBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// codeName renders a gRPC code the way the proto enum spells it (INVALID_ARGUMENT).
func codeName(c codes.Code) string {
	switch c {
	case codes.OK:
		return "OK"
	case codes.Canceled:
		return "CANCELLED"
	case codes.Unknown:
		return "UNKNOWN"
	case codes.InvalidArgument:
		return "INVALID_ARGUMENT"
	case codes.DeadlineExceeded:
		return "DEADLINE_EXCEEDED"
	case codes.NotFound:
		return "NOT_FOUND"
	case codes.AlreadyExists:
		return "ALREADY_EXISTS"
	case codes.PermissionDenied:
		return "PERMISSION_DENIED"
	case codes.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case codes.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case codes.Aborted:
		return "ABORTED"
	case codes.OutOfRange:
		return "OUT_OF_RANGE"
	case codes.Unimplemented:
		return "UNIMPLEMENTED"
	case codes.Internal:
		return "INTERNAL"
	case codes.Unavailable:
		return "UNAVAILABLE"
	case codes.DataLoss:
		return "DATA_LOSS"
	case codes.Unauthenticated:
		return "UNAUTHENTICATED"
	}
	return fmt.Sprintf("CODE_%d", uint32(c))
}

// httpStatusFromCode is the contract's table (today the same as runtime.HTTPStatusFromCode,
// written out so that it cannot change with a grpc-gateway upgrade).
//
// DEADLINE_EXCEEDED is 504 whoever's deadline it was: the gateway's (GATEWAY_BACKEND_TIMEOUT),
// the client's (grpc-timeout) or one inside the backend (e.g. a database statement timeout).
// The contract's 503 for a provider that is down or too slow comes from UNAVAILABLE, which is
// what the backends return for a provider timeout; they mark no DEADLINE_EXCEEDED as a provider's.
func httpStatusFromCode(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Canceled:
		return 499 // client closed request
	}
	return http.StatusInternalServerError
}

// internalErrorDetail is all a client learns of an INTERNAL, UNKNOWN or DATA_LOSS error.
const internalErrorDetail = "internal error"

// publicStatus hides the message of the codes that mean a fault inside the service: it may name
// addresses, tables or other internals (and for UNKNOWN, a Go error's text). The message goes to
// the request's log line instead. Other codes keep their message: the backends write them for
// clients, and the backend interceptors have already replaced grpc-go's transport errors.
func publicStatus(ctx context.Context, st *status.Status) *status.Status {
	switch st.Code() {
	case codes.Internal, codes.Unknown, codes.DataLoss:
	default:
		return st
	}
	if st.Message() == internalErrorDetail {
		return st
	}
	noteError(ctx, nil, codeName(st.Code())+": "+st.Message())
	return status.New(st.Code(), internalErrorDetail)
}

func writeError(w http.ResponseWriter, httpStatus int, code codes.Code, detail string) {
	body, _ := json.Marshal(errorBody{Detail: detail, Code: codeName(code)})
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// missingFieldReason reports whether the backend tagged its error as a missing required field.
func missingFieldReason(ctx context.Context) bool {
	md, ok := runtime.ServerMetadataFromContext(ctx)
	if !ok {
		return false
	}
	for _, v := range append(md.TrailerMD.Get(errorReasonKey), md.HeaderMD.Get(errorReasonKey)...) {
		if strings.EqualFold(v, reasonMissingField) {
			return true
		}
	}
	return false
}

// handleError replaces runtime.DefaultHTTPErrorHandler: errors of unary calls (and of a stream
// call that fails before it starts) become {"detail","code"} with the contract's status.
func handleError(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if state := requestStateFrom(r.Context()); state != nil && state.bodyTooLarge {
		writeError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument,
			fmt.Sprintf("request body is larger than %d bytes", state.maxBodyBytes))
		return
	}
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		st := publicStatus(r.Context(), status.Convert(httpErr.Err))
		writeError(w, httpErr.HTTPStatus, st.Code(), st.Message())
		return
	}
	st := publicStatus(r.Context(), status.Convert(err))
	httpStatus := httpStatusFromCode(st.Code())
	if st.Code() == codes.InvalidArgument && missingFieldReason(ctx) {
		httpStatus = http.StatusUnprocessableEntity
	}
	if st.Code() == codes.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="marketdata"`)
	}
	copyRateLimitHeaders(ctx, w.Header())
	writeError(w, httpStatus, st.Code(), st.Message())
}

// copyRateLimitHeaders sets Retry-After and RateLimit-* from the backend's metadata (sent with
// a RESOURCE_EXHAUSTED) on an error response.
func copyRateLimitHeaders(ctx context.Context, h http.Header) {
	md, ok := runtime.ServerMetadataFromContext(ctx)
	if !ok {
		return
	}
	for key, name := range rateLimitHeaders {
		for _, source := range []map[string][]string{md.TrailerMD, md.HeaderMD} {
			if v := source[key]; len(v) > 0 {
				h.Set(name, v[0])
				break
			}
		}
	}
}

// routingErrorHandler answers paths the API does not have with 404 and a known path with the
// wrong method with 405 (grpc-gateway's default is 501), both in the contract's error format; a
// 405 carries the Allow header (RFC 9110) with the methods the path supports.
func routingErrorHandler(routes *allowTable) runtime.RoutingErrorHandlerFunc {
	return func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		switch httpStatus {
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, codes.NotFound, "Not Found")
		case http.StatusMethodNotAllowed:
			if allow := routes.allow(r.URL.Path); allow != "" {
				w.Header().Set("Allow", allow)
			}
			writeError(w, http.StatusMethodNotAllowed, codes.Unimplemented, "Method Not Allowed")
		case http.StatusBadRequest:
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, "Bad Request")
		default:
			writeError(w, http.StatusInternalServerError, codes.Internal, http.StatusText(httpStatus))
		}
	}
}

// handleStreamError decides the HTTP status of a stream that fails before its first message
// (grpc-gateway writes it from the returned code, with its own table; the response writer applies
// ours instead). Once a stream has started the status is sent and the error goes in the body.
func handleStreamError(ctx context.Context, err error) *status.Status {
	st := publicStatus(ctx, status.Convert(err))
	if state := requestStateFrom(ctx); state != nil {
		state.streamErrorStatus = httpStatusFromCode(st.Code())
	}
	return st
}

// streamMarshaler is protojson with the contract's settings: snake_case names (UseProtoNames),
// zero values present (EmitUnpopulated), unknown request fields ignored (DiscardUnknown).
//
// Streams keep grpc-gateway's framing, one JSON object per line, flushed per message:
//
//	{"result":{"symbol":"AAPL","price":180.1,"timestamp":"2024-01-02T15:04:05Z","provider":"test"}}
//	{"error":{"detail":"backend went away","code":"UNAVAILABLE"}}
//
// The `result` wrapper is grpc-gateway's documented stream format and lets a client tell a
// message from the final error line; only the error line is rewritten to the contract's
// {"detail","code"} shape. Streams are sent as application/x-ndjson.
type streamMarshaler struct {
	*runtime.JSONPb
}

func newMarshaler() *streamMarshaler {
	return &streamMarshaler{JSONPb: &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
	}}
}

// NewDecoder decodes request bodies only; the wrapping makes the 400's detail say what failed.
// io.EOF (no body at all) stays recognisable: the generated code accepts an empty body.
func (m *streamMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.JSONPb.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		if err := d.Decode(v); err != nil {
			if errors.Is(err, io.EOF) {
				return err
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("invalid JSON request body: truncated: %w", err)
			}
			return fmt.Errorf("invalid JSON request body: %w", err)
		}
		return nil
	})
}

const streamContentType = "application/x-ndjson"

func (*streamMarshaler) StreamContentType(any) string { return streamContentType }

func (m *streamMarshaler) Marshal(v any) ([]byte, error) {
	// grpc-gateway frames a stream error as map[string]proto.Message{"error": *status.Status}.
	if chunk, ok := v.(map[string]proto.Message); ok && len(chunk) == 1 {
		if st, ok := chunk["error"].(*spb.Status); ok {
			return json.Marshal(map[string]errorBody{"error": {
				Detail: st.GetMessage(),
				Code:   codeName(codes.Code(st.GetCode())),
			}})
		}
	}
	out, err := m.JSONPb.Marshal(v)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace on purpose; clients of the replaced service got compact
	// JSON, and stable bytes make responses diffable and cacheable.
	var compact bytes.Buffer
	if err := json.Compact(&compact, out); err != nil {
		return out, nil
	}
	return compact.Bytes(), nil
}
