// Package libav is the only cgo in Stills: it decodes one H.264/H.265
// keyframe access unit with libavcodec (through go-astiav v0.16.0 on
// FFmpeg 5.1), scales it with swscale and encodes a JPEG with libavcodec's
// MJPEG encoder.
//
//	d, _ := libav.NewDecoder(libav.H264, libav.DecoderOptions{})
//	defer d.Close()
//	f, err := d.Decode(au)                 // one picture, or ErrUndecodable
//	sn, sd := f.SampleAspectRatio()
//	w, h := libav.Fit(f.Width(), f.Height(), sn, sd, 320, 0)
//	jpg, err := libav.EncodeJPEG(f, w, h, 80)
//
// A Decoder is for one goroutine (threads=1; run one per core).
//
// # Allocations and frees
//
// Every libav allocation is paired with its free in the same function or
// in Decoder.Close:
//
//	allocated                          where                       freed
//	AVPacket  (av_packet_alloc)        NewDecoder  d.pkt           Close (av_packet_free)
//	AVFrame   (av_frame_alloc) ×2      NewDecoder  d.frame/spare   Close (av_frame_free)
//	AVCodecContext (avcodec_alloc_context3 + avcodec_open2)
//	                                   Decoder.open, lazily         closeContext (avcodec_free_context):
//	                                                                after a failed Decode, or Close
//	AVDictionary (av_dict_set)         Decoder.open                 same function (deferred av_dict_free)
//	packet payload (av_new_packet:     fillPacket, per Decode       decode, right after avcodec_send_packet
//	  size + 64 zeroed padding bytes)                               (av_packet_unref); libav keeps its own ref
//	picture buffers (refcounted,       avcodec_receive_frame        next Decode / failed Decode / Close
//	  owned by the decoder's pool)       into d.frame, d.spare       (av_frame_unref; spare right away)
//	SwsContext (sws_getContext) + the  Encoder.scaler, cached per   Encoder.Close, or when the cache passes
//	  scaled yuvj420p AVFrame/buffer     (src size+format, dst size)  maxCached entries (sws_freeContext,
//	                                                                 av_frame_free)
//	MJPEG AVCodecContext               Encoder.encoder, per size    the same (avcodec_free_context); also
//	                                                                 after a failed encode
//	output AVPacket                    Encoder.encode, once         Encoder.Close (av_packet_free); the payload
//	                                                                 is copied to Go and unref'd per call
//	(EncodeJPEG makes a throw-away Encoder and closes it before it returns)
//
// The Frame returned by Decode points at d.frame: valid until the next
// Decode or Close, never to be kept.
//
// # What go-astiav v0.16.0 lacks, done here through cgo (cgo.go)
//
//   - Packet padding: Packet.FromData does not pad, and Packet.Data returns
//     a copy, so fillPacket copies the access unit into the av_new_packet
//     buffer through the AVPacket pointer.
//   - avcodec_flush_buffers is not wrapped: flushContext calls it on the
//     AVCodecContext pointer, so a drained decoder is reused (~3 ms per
//     1080p IDR instead of ~14 ms with a fresh context per access unit).
//   - frame->quality (the MJPEG quantiser, FF_QP2LAMBDA × qscale) and
//     frame->decode_error_flags / AV_FRAME_FLAG_CORRUPT.
//
// Both pointers are read from the first field of go-astiav's structs;
// compile-time size checks and a run-time field comparison (checkContext)
// catch a layout change if the pin ever moves.
//
// # Colour
//
// H.264/H.265 pictures are limited range. swscale converts straight to
// AV_PIX_FMT_YUVJ420P (full range, what JPEG means) in the same pass as
// the resize; a stream that signals full range on a plain yuv420p picture
// is read as yuvj420p so it is not expanded twice.
package libav
