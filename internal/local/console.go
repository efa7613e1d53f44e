package local

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// Handler serves the API and, if set, the operator's console at /console/
// and /health; every other path goes to the API, as before.
func (s *System) Handler() http.Handler {
	if s.Console == nil {
		return s.API
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/health" || p == "/console" || strings.HasPrefix(p, "/console/") {
			s.Console.ServeHTTP(w, r)
			return
		}
		s.API.ServeHTTP(w, r)
	})
}

// announceConsole logs the console's URL, and warns when the address is
// not loopback: the console's actions are then open to the network.
func (s *System) announceConsole(ctx context.Context, addr net.Addr, log *slog.Logger) {
	if s.Console == nil {
		return
	}
	log.InfoContext(ctx, "console", slog.String("url", "http://"+addr.String()+"/console/"))
	if ta, ok := addr.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
		log.WarnContext(ctx, "the console and its actions (redrive, purge, retry) are reachable from the network: ADDR is not a loopback address", slog.String("addr", addr.String()))
	}
}
