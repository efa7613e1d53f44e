package loadgen

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"github.com/HdrHistogram/hdrhistogram-go"
	"io"
	"strings"
	"time"
)

// Histogram geometry, in SVG user units.
const (
	svgWidth     = 820
	svgPanelH    = 230
	svgMarginL   = 64
	svgMarginR   = 24
	svgTop       = 40 // title space above each panel's plot area
	svgPlotH     = 150
	svgBins      = 50
	svgTailScale = 1.25 // the x axis ends at p99 × this, or at the max if lower
)

// WriteSVG draws one histogram per latency series of the result (submit,
// status, time to result) as a self-contained SVG document. Each x axis
// runs from 0 to a little past p99, samples beyond it are gathered in a
// final red bar, and dashed lines mark p50, p95 and p99.
func (res *Result) WriteSVG(w io.Writer) error {
	series := []struct {
		title   string
		samples *hdrhistogram.Histogram
		sum     LatencySummary
	}{
		{"Submit latency", res.Samples.Submit, res.Report.SubmitLatency},
		{"Status request latency", res.Samples.Status, res.Report.StatusLatency},
		{"Time to result", res.Samples.TimeToResult, res.Report.TimeToResult},
	}
	bw := bufio.NewWriter(w)
	height := svgPanelH*len(series) + 30
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(bw, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n",
		svgMarginL, escape(fmt.Sprintf("asyncprime loadgen: %s loop, %d jobs, %s", res.Report.Mode, res.Report.Jobs, res.Report.URL)))
	for i, s := range series {
		writePanel(bw, 30+i*svgPanelH, s.title, s.samples, s.sum)
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// writePanel draws the histogram h with its top at y0.
func writePanel(w io.Writer, y0 int, title string, h *hdrhistogram.Histogram, sum LatencySummary) {
	plotW := float64(svgWidth - svgMarginL - svgMarginR)
	top := float64(y0 + svgTop)
	bottom := top + svgPlotH
	fmt.Fprintf(w, `<text x="%d" y="%d" font-size="13">%s (n=%d, p50 %.2f ms, p99 %.2f ms, max %.2f ms)</text>`+"\n",
		svgMarginL, y0+svgTop-12, escape(title), sum.Count, sum.P50, sum.P99, sum.Max)
	fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n",
		svgMarginL, bottom, float64(svgMarginL)+plotW, bottom)
	fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>`+"\n",
		svgMarginL, top, svgMarginL, bottom)
	if h.TotalCount() == 0 {
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="gray">no samples</text>`+"\n",
			float64(svgMarginL)+plotW/2, top+svgPlotH/2)
		return
	}

	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	upper := min(time.Duration(float64(us(h.ValueAtQuantile(99)))*svgTailScale), us(h.Max()))
	upper = max(upper, time.Microsecond)
	width := float64(upper) / svgBins
	var counts [svgBins + 1]int64 // the last bin holds everything past upper
	for _, b := range h.Distribution() {
		i := svgBins
		if d := us(b.From); d <= upper {
			i = min(int(float64(d)/width), svgBins-1)
		}
		counts[i] += b.Count
	}
	peak := int64(1)
	for _, c := range counts {
		peak = max(peak, c)
	}

	barW := plotW / (svgBins + 1)
	for i, c := range counts {
		if c == 0 {
			continue
		}
		h := float64(c) / float64(peak) * svgPlotH
		fill := "#4a7ab5"
		label := fmt.Sprintf("%.2f–%.2f ms: %d", millis(time.Duration(float64(i)*width)), millis(time.Duration(float64(i+1)*width)), c)
		x := float64(svgMarginL) + float64(i)*barW + 0.5
		if i == svgBins {
			fill = "#c0392b"
			label = fmt.Sprintf("> %.2f ms: %d", millis(upper), c)
			h = max(h, 2) // visible even for a single outlier
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="#c0392b">+%d</text>`+"\n",
				x+barW/2, bottom-h-3, c)
		}
		fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
			x, bottom-h, barW-1, h, fill, escape(label))
	}

	// Axes: y from 0 to the tallest bar, x in five steps up to upper.
	fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end">%d</text>`+"\n", svgMarginL-6, top+4, peak)
	fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end">0</text>`+"\n", svgMarginL-6, bottom+4)
	for k := 0; k <= 5; k++ {
		x := float64(svgMarginL) + float64(k)/5*svgBins*barW
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x, bottom, x, bottom+4)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%.2f</text>`+"\n",
			x, bottom+16, millis(upper)*float64(k)/5)
	}
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="end">ms</text>`+"\n", float64(svgMarginL)+plotW, bottom+30)

	// Percentile markers.
	for i, p := range []struct {
		name string
		ms   float64
	}{{"p50", sum.P50}, {"p95", sum.P95}, {"p99", sum.P99}} {
		frac := min(p.ms/millis(upper), 1)
		x := float64(svgMarginL) + frac*svgBins*barW
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333" stroke-dasharray="4 3"/>`+"\n", x, top, x, bottom)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" font-size="10">%s</text>`+"\n", x+2, top+10+float64(i)*11, p.name)
	}
}

// escape makes s safe as SVG text content.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
