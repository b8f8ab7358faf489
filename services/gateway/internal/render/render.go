// Package render asks the render service (bus.SubjectRender, answered by
// the thumbnailers) for the JPEG of a stored keyframe MP4 over NATS
// request/reply.
package render

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

// Errors of Render.
var (
	// ErrNotFound: the render service has no such MP4.
	ErrNotFound = errors.New("render: keyframe not found")
	// ErrUnavailable: no render service answered in time.
	ErrUnavailable = errors.New("render: service unavailable")
	// ErrFailed: the render service answered with an error.
	ErrFailed = errors.New("render: failed")
)

// DefaultTimeout bounds one render request.
const DefaultTimeout = 5 * time.Second

// Client renders through NATS.
type Client struct {
	nc      *nats.Conn
	timeout time.Duration
}

// New returns a client on nc; timeout 0 = DefaultTimeout.
func New(nc *nats.Conn, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{nc: nc, timeout: timeout}
}

// Render sends req and returns the stored JPEG of the reply.
func (c *Client) Render(ctx context.Context, req *stillsv1.RenderRequest) (*stillsv1.StoredObject, error) {
	data, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg, err := c.nc.RequestWithContext(ctx, bus.SubjectRender, data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("render: request: %w", err)
	}
	var reply stillsv1.RenderReply
	if err := proto.Unmarshal(msg.Data, &reply); err != nil {
		return nil, fmt.Errorf("%w: undecodable reply: %v", ErrFailed, err)
	}
	switch reply.GetError() {
	case "":
	case "not_found":
		return nil, ErrNotFound
	default:
		return nil, fmt.Errorf("%w: %s", ErrFailed, reply.GetError())
	}
	if reply.GetJpeg().GetKey() == "" {
		return nil, fmt.Errorf("%w: reply without a JPEG", ErrFailed)
	}
	return reply.GetJpeg(), nil
}
