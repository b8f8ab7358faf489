package ingest_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/stills-video/stills/pkg/testutil"
	"github.com/stills-video/stills/services/ingest"
)

// hostile is a TCP server running handle on every connection; it counts
// the connections (the ingest's attempts).
type hostile struct {
	l       net.Listener
	accepts atomic.Int64
}

func startHostile(t *testing.T, handle func(net.Conn)) *hostile {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	testutil.Must(t, err)
	h := &hostile{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.accepts.Add(1)
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return h
}

// requests reads RTSP requests and answers each with reply(method, cseq).
func requests(c net.Conn, reply func(w io.Writer, method, cseq string) bool) {
	r := textproto.NewReader(bufio.NewReader(c))
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		hdr, err := r.ReadMIMEHeader()
		if err != nil {
			return
		}
		method, _, _ := strings.Cut(line, " ")
		if !reply(c, method, hdr.Get("CSeq")) {
			return
		}
	}
}

const sdpH264 = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n" +
	"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n"

// handshake answers OPTIONS, DESCRIBE, SETUP and PLAY like a camera, then
// runs after on the connection.
func handshake(after func(net.Conn)) func(net.Conn) {
	return func(c net.Conn) {
		requests(c, func(w io.Writer, method, cseq string) bool {
			switch method {
			case "OPTIONS":
				fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\nPublic: DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n", cseq)
			case "DESCRIBE":
				fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", cseq, len(sdpH264), sdpH264)
			case "SETUP":
				fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 12345678\r\n\r\n", cseq)
			case "PLAY":
				fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\nSession: 12345678\r\n\r\n", cseq)
				after(c)
				return false
			default:
				fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\n\r\n", cseq)
			}
			return true
		})
	}
}

// Hostile cameras: the ingest stays up, reports an error in the stream's
// status, retries with back-off, and its memory stays bounded.
func TestHostileCameras(t *testing.T) {
	huge := bytes.Repeat([]byte("a=x-junk:0123456789abcdef\r\n"), 10<<20/27)
	tests := []struct {
		name   string
		handle func(net.Conn)
	}{
		{"garbage instead of RTSP", func(c net.Conn) {
			for range 1000 {
				if _, err := c.Write([]byte("\x00\xffGARBAGE \x7f\r\n\r\n")); err != nil {
					return
				}
			}
		}},
		{"huge SDP", func(c net.Conn) {
			requests(c, func(w io.Writer, method, cseq string) bool {
				if method == "OPTIONS" {
					fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\n\r\n", cseq)
					return true
				}
				fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n", cseq, len(sdpH264)+len(huge))
				w.Write([]byte(sdpH264))
				w.Write(huge)
				return false
			})
		}},
		{"never-ending header", func(c net.Conn) {
			requests(c, func(w io.Writer, _, cseq string) bool {
				fmt.Fprintf(w, "RTSP/1.0 200 OK\r\nCSeq: %s\r\n", cseq)
				line := []byte("X-Forever: " + strings.Repeat("z", 1000) + "\r\n")
				for {
					if _, err := w.Write(line); err != nil {
						return false
					}
				}
			})
		}},
		{"garbage RTP after PLAY", handshake(func(c net.Conn) {
			junk := []byte{'$', 0, 0, 8, 0x80, 0x60, 0, 1, 0, 0, 0, 0, '$', 0, 0xff, 0xff, 1, 2, 3}
			for range 2000 {
				if _, err := c.Write(junk); err != nil {
					return
				}
			}
			c.Write(bytes.Repeat([]byte{0x17}, 1<<16))
		})},
		{"silent after accept", func(c net.Conn) { io.Copy(io.Discard, c) }},
		{"silent after PLAY", handshake(func(c net.Conn) { io.Copy(io.Discard, c) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startHostile(t, tt.handle)
			h := startIngest(t, ingest.Config{RetryMin: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond, ReadTimeout: time.Second},
				stream("cam", "rtsp://admin:s3cret@"+srv.l.Addr().String()+"/live", time.Second))
			var st ingest.StreamStatus
			testutil.Eventually(t, 15*time.Second, func() error {
				st = h.status("cam")
				if srv.accepts.Load() < 3 || st.Errors < 2 || st.LastError == "" {
					return testutil.Errorf("%d connections, status %+v", srv.accepts.Load(), st)
				}
				return nil
			})
			if v := metricValue(t, h.reg, "stills_ingest_reconnects_total", "stream", "cam"); v < 2 {
				t.Errorf("reconnects = %v, want >= 2", v)
			}
			if len(st.LastError) > 310 || strings.ContainsFunc(st.LastError, unicode.IsControl) {
				t.Errorf("status error not cleaned: %q", st.LastError)
			}
			if strings.Contains(st.LastError, "s3cret") || strings.Contains(st.URL, "s3cret") {
				t.Errorf("password in the status: %+v", st)
			}
			t.Logf("%d attempts; last error: %s", srv.accepts.Load(), st.LastError)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > 512<<20 {
				t.Errorf("heap in use %d MiB", ms.HeapInuse>>20)
			}
		})
	}
}
