package render

// Error codes: the text of RenderReply.error before the first ':'. The
// gateway maps them to HTTP statuses (README "Render service").
const (
	CodeInvalid     = "invalid_request" // bad protobuf, stream name, time, key or settings
	CodeDisabled    = "disabled"        // the stream's thumbnails are off
	CodeNotFound    = "not_found"       // no MP4 stored at the key
	CodeUndecodable = "undecodable"     // the stored keyframe does not decode
	CodeStorage     = "storage"         // the blob store failed
	CodePublish     = "publish"         // ThumbnailStored could not be published (the JPEG is stored)
	CodeTimeout     = "timeout"         // not done within the request timeout (busy or slow)
	CodeInternal    = "internal"        // a libav failure other than bad input
)
