package gateway

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// notDeployedConn stands in for the connection of a service whose backend is not deployed
// (mds-consumer when MDS_CONSUMER_ADDR is empty), so that its routes exist (405 and 404 stay
// right) and every call, unary or streaming, answers 503 with the usual error body. It stands
// behind the generated client, so a method added to the service needs nothing here.
type notDeployedConn struct{ err error }

// notDeployed is the connection of a service of mds-consumer (the only backend that may be left
// out) serving what, e.g. "moving averages", while mds-consumer is not deployed.
func notDeployed(what string) notDeployedConn {
	return notDeployedConn{status.Error(codes.Unavailable,
		fmt.Sprintf("%s are not available: mds-consumer is not deployed (MDS_CONSUMER_ADDR is empty)", what))}
}

func (c notDeployedConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return c.err
}

func (c notDeployedConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, c.err
}
