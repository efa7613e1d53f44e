package awstest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// ProxyMode is how a Proxy treats connections.
type ProxyMode int

const (
	// Up forwards connections to the emulator.
	Up ProxyMode = iota
	// Down resets every connection, new and open: the service is gone.
	Down
	// Hang accepts connections and never answers: the service is stuck.
	Hang
)

// Proxy sits between the SDK and the emulator so that a test can take the
// emulator away and bring it back without losing its state.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  ProxyMode
	conns map[net.Conn]struct{}
}

// NewProxy starts a proxy to the endpoint URL (http://host:port) and returns
// it; Endpoint is its own URL. It stops when t ends.
func NewProxy(t testing.TB, endpoint string) *Proxy {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		t.Fatalf("proxy: bad endpoint %q", endpoint)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.SetMode(Down) })
	return p
}

// Endpoint is the URL to give the SDK.
func (p *Proxy) Endpoint() string { return "http://" + p.ln.Addr().String() }

// SetMode switches the proxy and drops the open connections, so that
// clients see the change at once.
func (p *Proxy) SetMode(m ProxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case Down:
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, as from a dead host
		}
		c.Close()
		return false
	default:
		p.conns[c] = struct{}{}
		return p.mode == Up
	}
}

func (p *Proxy) handle(c net.Conn) {
	if !p.track(c) {
		return // Down: closed; Hang: held open, never read
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(up) {
		c.Close()
		return
	}
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}
