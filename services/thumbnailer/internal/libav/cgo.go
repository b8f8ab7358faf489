package libav

// The few libav fields go-astiav v0.16.0 does not expose. This file and the
// astiav package are the only cgo in Stills.

/*
#cgo pkg-config: libavcodec libavutil
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/frame.h>
#include <string.h>

static void stills_set_qscale(void *f, int qscale) {
	((AVFrame *)f)->quality = FF_QP2LAMBDA * qscale;
}

// stills_packet_fill copies n bytes into a packet allocated by
// av_new_packet(pkt, n), whose AV_INPUT_BUFFER_PADDING_SIZE tail is zeroed.
static int stills_packet_fill(void *p, const void *src, int n) {
	AVPacket *pkt = (AVPacket *)p;
	if (pkt->data == NULL || pkt->size != n) return -1;
	memcpy(pkt->data, src, n);
	return 0;
}

static int stills_make_writable(void *f) {
	return av_frame_make_writable((AVFrame *)f);
}

static void stills_flush(void *cc) {
	avcodec_flush_buffers((AVCodecContext *)cc);
}

static int stills_context_matches(void *cc, int codec_id, int thread_count) {
	const AVCodecContext *c = (const AVCodecContext *)cc;
	return c != NULL && (int)c->codec_id == codec_id && c->thread_count == thread_count;
}

static int stills_frame_corrupt(void *f) {
	const AVFrame *fr = (const AVFrame *)f;
	return fr->decode_error_flags != 0 || (fr->flags & AV_FRAME_FLAG_CORRUPT) != 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// go-astiav v0.16.0 keeps the AVPacket pointer in the only, unexported
// field of Packet and offers no accessor (Packet.Data returns a copy), so
// the bytes of an access unit cannot be copied into a padded libav buffer
// through its API. packetPointer reads that field. The array below stops
// the build if Packet ever stops being exactly one pointer; fillPacket
// also checks the size libav reports before copying.
var _ = [1]struct{}{}[unsafe.Sizeof(astiav.Packet{})-unsafe.Sizeof(uintptr(0))]

func packetPointer(p *astiav.Packet) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(p))
}

// The same for CodecContext ({c *C.AVCodecContext; hdc *...}): the
// AVCodecContext pointer is its first field, needed for
// avcodec_flush_buffers. checkContext verifies it after every open by
// comparing fields read both ways.
var _ = [1]struct{}{}[unsafe.Sizeof(astiav.CodecContext{})-2*unsafe.Sizeof(uintptr(0))]

func contextPointer(cc *astiav.CodecContext) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(cc))
}

// checkContext reports whether contextPointer(cc) is the AVCodecContext
// astiav wraps.
func checkContext(cc *astiav.CodecContext) error {
	if C.stills_context_matches(contextPointer(cc), C.int(cc.CodecID()), C.int(cc.ThreadCount())) == 0 {
		return errors.New("libav: codec context layout mismatch")
	}
	return nil
}

// flushContext is avcodec_flush_buffers: it leaves a drained decoder ready
// for the next access unit, keeping its parameter sets and buffer pools.
func flushContext(cc *astiav.CodecContext) {
	C.stills_flush(contextPointer(cc))
}

// fillPacket allocates a payload of len(b) bytes plus zeroed padding
// (av_new_packet) and copies b into it. len(b) must be > 0.
func fillPacket(p *astiav.Packet, b []byte) error {
	if err := p.AllocPayload(len(b)); err != nil {
		return err
	}
	if C.stills_packet_fill(packetPointer(p), unsafe.Pointer(&b[0]), C.int(len(b))) != 0 {
		p.Unref()
		return errors.New("libav: packet layout mismatch")
	}
	return nil
}

// setQScale sets frame->quality so the MJPEG encoder, opened with
// AV_CODEC_FLAG_QSCALE, quantises this picture with qscale.
func setQScale(f *astiav.Frame, qscale int) {
	C.stills_set_qscale(f.UnsafePointer(), C.int(qscale))
}

// makeWritable is av_frame_make_writable: it copies the buffer only when
// another reference still holds it.
func makeWritable(f *astiav.Frame) error {
	if ret := C.stills_make_writable(f.UnsafePointer()); ret < 0 {
		return fmt.Errorf("av_frame_make_writable: %d", int(ret))
	}
	return nil
}

// frameCorrupt reports whether the decoder flagged the picture as damaged
// (error concealment ran, or the frame is marked corrupt).
func frameCorrupt(f *astiav.Frame) bool {
	return C.stills_frame_corrupt(f.UnsafePointer()) != 0
}
