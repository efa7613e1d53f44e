package loadgen

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

func TestWriteSVG(t *testing.T) {
	t.Parallel()
	tail := append(seq(1000), 5*time.Second) // one outlier lands in the overflow bar
	tests := []struct {
		name     string
		samples  Samples
		contains []string
	}{
		{
			name:     "samples with a tail",
			samples:  Samples{Submit: hist(seq(100)...), Status: hist(seq(10)...), TimeToResult: hist(tail...)},
			contains: []string{"Submit latency (n=100", "Time to result (n=1001", "p99", "#c0392b"},
		},
		{
			name:     "no samples",
			samples:  Samples{Submit: hist(), Status: hist(), TimeToResult: hist()},
			contains: []string{"no samples"},
		},
		{
			name:     "all equal",
			samples:  Samples{Submit: hist(ms(3, 3, 3)...), Status: hist(0, 0), TimeToResult: hist(ms(1)...)},
			contains: []string{"Status request latency (n=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := &Result{Report: Report{Mode: "closed", Jobs: 3, URL: "http://x/?a<b"}, Samples: tt.samples}
			res.Report.SubmitLatency = Summarize(res.Samples.Submit)
			res.Report.StatusLatency = Summarize(res.Samples.Status)
			res.Report.TimeToResult = Summarize(res.Samples.TimeToResult)
			var buf bytes.Buffer
			if err := res.WriteSVG(&buf); err != nil {
				t.Fatalf("WriteSVG() error = %v", err)
			}
			// Well-formed XML with an svg root.
			dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
			root := ""
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("WriteSVG() output is not well-formed XML: %v", err)
				}
				if se, ok := tok.(xml.StartElement); ok && root == "" {
					root = se.Name.Local
				}
			}
			if root != "svg" {
				t.Errorf("root element %q; want svg", root)
			}
			for _, s := range tt.contains {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("SVG does not contain %q", s)
				}
			}
		})
	}
}
