package testutil

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

// RTSPServer is an in-process RTSP relay (gortsplib's server, TCP, or TCP and UDP, on
// a random loopback port): publishers ANNOUNCE/RECORD a path, readers
// DESCRIBE/PLAY it, like gortsplib's examples/server with one stream per
// path. When a publisher goes, its readers are disconnected.
type RTSPServer struct {
	srv  *gortsplib.Server
	addr string

	mu               sync.Mutex
	paths            map[string]*rtspPath
	readerTransports []string
}

// ReaderTransports lists the transport ("TCP", "UDP") of every PLAY so far.
func (s *RTSPServer) ReaderTransports() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.readerTransports...)
}

type rtspPath struct {
	stream    *gortsplib.ServerStream
	publisher *gortsplib.ServerSession
	recording bool
}

// StartRTSPServer starts a relay closed when the test ends.
func StartRTSPServer(t testing.TB) *RTSPServer {
	t.Helper()
	s := newRTSPServer()
	if err := s.srv.Start(); err != nil {
		t.Fatalf("testutil: rtsp server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartRTSPServerUDP is StartRTSPServer that also offers the UDP transport
// (RTP on an even loopback port, RTCP on the next one).
func StartRTSPServerUDP(t testing.TB) *RTSPServer {
	t.Helper()
	var err error
	for range 20 {
		s := newRTSPServer()
		rtpPort, perr := freeUDPPort()
		if perr != nil {
			t.Fatal(perr)
		}
		rtpPort &^= 1
		s.srv.UDPRTPAddress = fmt.Sprintf("127.0.0.1:%d", rtpPort)
		s.srv.UDPRTCPAddress = fmt.Sprintf("127.0.0.1:%d", rtpPort+1)
		if err = s.srv.Start(); err == nil {
			t.Cleanup(s.Close)
			return s
		}
	}
	t.Fatalf("testutil: rtsp server with UDP: %v", err)
	return nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func newRTSPServer() *RTSPServer {
	s := &RTSPServer{paths: map[string]*rtspPath{}}
	s.srv = &gortsplib.Server{
		Handler:     (*rtspHandler)(s),
		RTSPAddress: "127.0.0.1:0",
		ReadTimeout: 5 * time.Second,
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			if err == nil {
				s.addr = l.Addr().String()
			}
			return l, err
		},
	}
	return s
}

// Addr is the server's host:port.
func (s *RTSPServer) Addr() string { return s.addr }

// URL is rtsp://<addr>/<path>.
func (s *RTSPServer) URL(path string) string { return "rtsp://" + s.addr + "/" + path }

// Close stops the server and disconnects everyone (safe to call twice).
func (s *RTSPServer) Close() { s.srv.Close() }

// Publishing reports whether a publisher is recording on path.
func (s *RTSPServer) Publishing(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paths[pathKey(path)]
	return p != nil && p.recording
}

// WaitPublisher waits until a publisher records on path.
func (s *RTSPServer) WaitPublisher(t testing.TB, path string, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, func() error {
		if !s.Publishing(path) {
			return fmt.Errorf("no publisher on rtsp path %q", path)
		}
		return nil
	})
}

// pathKey is the path without its leading slash, as URL(path) takes it.
func pathKey(p string) string { return strings.TrimPrefix(p, "/") }

// rtspHandler implements the gortsplib server callbacks.
type rtspHandler RTSPServer

func (h *rtspHandler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, p := range h.paths {
		if p.publisher == ctx.Session {
			p.stream.Close()
			delete(h.paths, name)
		}
	}
}

func (h *rtspHandler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.paths[pathKey(ctx.Path)]
	if p == nil || !p.recording {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, p.stream, nil
}

func (h *rtspHandler) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.paths[pathKey(ctx.Path)]; old != nil {
		old.stream.Close()
		old.publisher.Close()
	}
	st := &gortsplib.ServerStream{Server: h.srv, Desc: ctx.Description}
	if err := st.Initialize(); err != nil {
		return &base.Response{StatusCode: base.StatusBadRequest}, err
	}
	h.paths[pathKey(ctx.Path)] = &rtspPath{stream: st, publisher: ctx.Session}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *rtspHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() == gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusOK}, nil, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.paths[pathKey(ctx.Path)]
	if p == nil || !p.recording {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, p.stream, nil
}

func (h *rtspHandler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	if tr := ctx.Session.SetuppedTransport(); tr != nil {
		h.mu.Lock()
		h.readerTransports = append(h.readerTransports, tr.String())
		h.mu.Unlock()
	}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h *rtspHandler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.paths[pathKey(ctx.Path)]
	if p == nil || p.publisher != ctx.Session {
		return &base.Response{StatusCode: base.StatusNotFound}, nil
	}
	p.recording = true
	st := p.stream
	ctx.Session.OnPacketRTPAny(func(medi *description.Media, _ format.Format, pkt *rtp.Packet) {
		_ = st.WritePacketRTP(medi, pkt) // a closed stream drops the packet; the session is going too
	})
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// Pusher is an ffmpeg process publishing a file to an RTSP URL.
type Pusher struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	once sync.Once
}

// PushFFmpeg starts `ffmpeg -re -stream_loop -1 -i FILE -c copy -f rtsp
// -rtsp_transport tcp URL` as a child process, killed when the test ends
// (or on Stop). Wait for it with (*RTSPServer).WaitPublisher.
func PushFFmpeg(t testing.TB, inputFile, rtspURL string) *Pusher {
	t.Helper()
	cmd := exec.Command(Tool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin",
		"-re", "-stream_loop", "-1", "-i", inputFile, "-c", "copy",
		"-f", "rtsp", "-rtsp_transport", "tcp", rtspURL)
	p := &Pusher{cmd: cmd, out: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("testutil: start ffmpeg: %v", err)
	}
	go func() {
		_ = cmd.Wait() // killed on Stop: the exit status is expected to be an error
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// Stop kills ffmpeg and waits for it to exit (safe to call twice).
func (p *Pusher) Stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill() // already exited is fine
		<-p.done
	})
}

// Exited reports whether ffmpeg has exited and, if so, what it printed.
func (p *Pusher) Exited() (bool, string) {
	select {
	case <-p.done:
		return true, p.out.String()
	default:
		return false, ""
	}
}
