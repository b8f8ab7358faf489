package thumbnailer

import "errors"

// ErrNoStore is returned by New without a blob store.
var ErrNoStore = errors.New("thumbnailer: no blob store")

// ErrNoJetStream is returned by New without a JetStream context.
var ErrNoJetStream = errors.New("thumbnailer: no jetstream")
