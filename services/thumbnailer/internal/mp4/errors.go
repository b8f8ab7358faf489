package mp4

import "errors"

// ErrInvalid is wrapped by every error about the input: no picture, no
// parameter sets, unparsable SPS, unsupported codec. The same bytes will
// always fail.
var ErrInvalid = errors.New("mp4: invalid keyframe")
