package local_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/local"
)

// startFront runs the local API, with fakes behind it, on the server the
// local mode uses.
func startFront(t *testing.T) string {
	t.Helper()
	submit := &api.Submit{Tasks: nil, Logger: quiet()} // only rejections reach it
	a := &local.API{Submit: submit.Handle, Status: (&api.Status{Logger: quiet()}).Handle, Logger: quiet()}
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = local.NewHTTPServer(a, quiet())
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// rawRequest writes request, as it is, on a new connection to addr,
// half-closes the connection if halfClose, and returns the response, its
// body closed.
func rawRequest(t *testing.T, addr, request string, halfClose bool) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// A client that writes its whole oversized body before it reads (Python's
// urllib, requests) gets the 413, not a reset.
func TestOversizedBodyIsReadThen413(t *testing.T) {
	t.Parallel()
	conn, err := net.Dial("tcp", startFront(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 8 << 20 // well past the socket buffers, under local.MaxDrainBytes
	if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size); err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat("1", 64<<10))
	for sent := 0; sent < size; sent += len(chunk) {
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("writing the body after %d bytes: %v; want the server to read it all", sent, err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d; want 413", resp.StatusCode)
	}
}

// What Go's server rejects before the handler sees the request: plain text
// answers, listed in the README's Errors section.
func TestProtocolRejections(t *testing.T) {
	t.Parallel()
	addr := startFront(t)
	tests := []struct {
		name    string
		request string
		want    int
	}{
		{name: "headers over the cap", request: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2*local.MaxHeaderBytes) + "\r\n\r\n", want: http.StatusRequestHeaderFieldsTooLarge},
		{name: "HTTP/3.0 request line", request: "GET / HTTP/3.0\r\nHost: x\r\n\r\n", want: http.StatusHTTPVersionNotSupported},
		{name: "gzip transfer coding", request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", want: http.StatusNotImplemented},
		{name: "malformed request line", request: "GET\r\n\r\n", want: http.StatusBadRequest},
		{name: "no Host", request: "GET / HTTP/1.1\r\n\r\n", want: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := rawRequest(t, addr, tt.request, false)
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d; want %d", resp.StatusCode, tt.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q; want text/plain", ct)
			}
		})
	}
}

// A body declared too large is refused at once, without reading it, when
// the client waits to be asked for it (Expect: 100-continue) or when it is
// over API Gateway's payload limit: no 100 Continue, no upload, no wait
// for bytes that never come.
func TestDeclaredOversizedBodyIs413AtOnce(t *testing.T) {
	t.Parallel()
	addr := startFront(t)
	tests := []struct {
		name    string
		request string
	}{
		{name: "expect 100-continue", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000\r\nExpect: 100-continue\r\n\r\n"},
		{name: "expect 100-continue, over 10 MB", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\nExpect: 100-Continue\r\n\r\n"},
		// Only 13 bytes of the declared 99,999,999 are sent: without the
		// early answer the server would wait for the rest until its read
		// timeout (30 s), and the test would take that long.
		{name: "over 10 MB, short body", request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{\"number\":11}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := rawRequest(t, addr, tt.request, false)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d; want 413 at once (not 100 Continue)", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
			if !resp.Close {
				t.Error("connection kept open; want it closed after the answer (the body was not read)")
			}
		})
	}
}
