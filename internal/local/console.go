package local

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// Handler serves the API and, if set, the operator's console at /console/
// and /health; every other path goes to the API, as before. A browser that
// opens / (a GET that accepts text/html) is sent to the console, rather
// than shown the API's 405 for a GET of /; every other client gets the API.
func (s *System) Handler() http.Handler {
	if s.Console == nil {
		return s.API
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/health" || p == "/console" || strings.HasPrefix(p, "/console/"):
			s.Console.ServeHTTP(w, r)
		case p == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && acceptsHTML(r):
			http.Redirect(w, r, "/console/", http.StatusSeeOther)
		default:
			s.API.ServeHTTP(w, r)
		}
	})
}

// acceptsHTML reports whether r asks for an HTML page, as a browser's
// navigation does (Accept: text/html,...); curl and HTTPie send */* or
// application/json.
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
				return true
			}
		}
	}
	return false
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
