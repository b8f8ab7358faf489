package render

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/stills-video/stills/pkg/bus"
	"github.com/stills-video/stills/pkg/testutil"
	stillsv1 "github.com/stills-video/stills/proto/stills/v1"
)

func TestRender(t *testing.T) {
	n := testutil.StartNATS(t)
	c := New(n.Conn, 200*time.Millisecond)
	ctx := context.Background()
	if _, err := c.Render(ctx, &stillsv1.RenderRequest{Stream: "x"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no responders: %v", err)
	}
	sub, err := n.Conn.Subscribe(bus.SubjectRender, func(m *nats.Msg) {
		var req stillsv1.RenderRequest
		proto.Unmarshal(m.Data, &req)
		var reply []byte
		switch req.GetStream() {
		case "ok":
			reply, _ = proto.Marshal(&stillsv1.RenderReply{Jpeg: &stillsv1.StoredObject{Key: "ok/1.jpg"}})
		case "missing":
			reply, _ = proto.Marshal(&stillsv1.RenderReply{Error: "not_found"})
		case "fails":
			reply, _ = proto.Marshal(&stillsv1.RenderReply{Error: "decode failed"})
		case "empty":
			reply, _ = proto.Marshal(&stillsv1.RenderReply{})
		case "garbage":
			reply = []byte{0xff, 0xff, 0xff}
		case "slow":
			return // never answers
		}
		m.Respond(reply)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for _, tc := range []struct {
		stream string
		want   error
	}{
		{"ok", nil}, {"missing", ErrNotFound}, {"fails", ErrFailed}, {"empty", ErrFailed},
		{"garbage", ErrFailed}, {"slow", ErrUnavailable},
	} {
		t.Run(tc.stream, func(t *testing.T) {
			o, err := c.Render(ctx, &stillsv1.RenderRequest{Stream: tc.stream})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.want == nil && o.GetKey() != "ok/1.jpg" {
				t.Fatalf("object %v", o)
			}
		})
	}
}
