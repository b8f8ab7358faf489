package worker

import "errors"

// ErrInvalidEvent is wrapped by every reason an event is refused before
// any work: bad protobuf, bad stream name, missing keyframe, bad sizes.
var ErrInvalidEvent = errors.New("worker: invalid event")
