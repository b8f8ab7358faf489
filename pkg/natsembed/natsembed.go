// Package natsembed starts an in-process NATS server with JetStream, for the
// one-box binary and for tests. It is a real nats-server, not a fake.
package natsembed

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options of the embedded server.
type Options struct {
	// StoreDir holds JetStream data.
	StoreDir string
	// Listen is host:port; "" picks a random loopback port.
	Listen string
	// MaxPayload in bytes; 0 = 8 MiB.
	MaxPayload int32
}

// Start runs a server and waits until it accepts connections.
func Start(o Options) (*server.Server, error) {
	host, port := "127.0.0.1", -1
	if o.Listen != "" {
		h, p, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("natsembed: listen %q: %w", o.Listen, err)
		}
		host = h
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("natsembed: listen %q: bad port", o.Listen)
		}
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = 8 << 20
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "stills-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		MaxPayload: o.MaxPayload,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("natsembed: server not ready after 10s")
	}
	return srv, nil
}
