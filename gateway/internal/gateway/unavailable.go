package gateway

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	marketdatav1 "marketdata/gateway/gen/marketdata/v1"
)

// notDeployedAverages stands in for MovingAverageService when MDS_CONSUMER_ADDR is empty, so the
// routes exist (405 and 404 stay right) and answer 503 with the usual error body.
type notDeployedAverages struct{}

var errAveragesNotDeployed = status.Error(codes.Unavailable,
	"moving averages are not available: mds-consumer is not deployed (MDS_CONSUMER_ADDR is empty)")

func (notDeployedAverages) GetLatestMovingAverage(context.Context, *marketdatav1.GetLatestMovingAverageRequest, ...grpc.CallOption) (*marketdatav1.MovingAverage, error) {
	return nil, errAveragesNotDeployed
}

func (notDeployedAverages) ListMovingAverages(context.Context, *marketdatav1.ListMovingAveragesRequest, ...grpc.CallOption) (*marketdatav1.ListMovingAveragesResponse, error) {
	return nil, errAveragesNotDeployed
}

func (notDeployedAverages) StreamMovingAverages(context.Context, *marketdatav1.StreamMovingAveragesRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[marketdatav1.MovingAverage], error) {
	return nil, errAveragesNotDeployed
}

// notDeployedBars stands in for BarService likewise.
type notDeployedBars struct{}

var errBarsNotDeployed = status.Error(codes.Unavailable,
	"bars are not available: mds-consumer is not deployed (MDS_CONSUMER_ADDR is empty)")

func (notDeployedBars) ListBars(context.Context, *marketdatav1.ListBarsRequest, ...grpc.CallOption) (*marketdatav1.ListBarsResponse, error) {
	return nil, errBarsNotDeployed
}

func (notDeployedBars) StreamBars(context.Context, *marketdatav1.StreamBarsRequest, ...grpc.CallOption) (grpc.ServerStreamingClient[marketdatav1.Bar], error) {
	return nil, errBarsNotDeployed
}
