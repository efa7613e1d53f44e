package samtemplate

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/metrics"
)

// dashboardLine is one entry of a widget's "metrics": a metric
// (namespace, name, dimension name and value) with its id and whether it
// is drawn, or a metric math expression.
type dashboardLine struct {
	metric     [4]string
	id         string
	visible    bool
	expression string
}

// dashboardLines decodes the dashboard's body, with ${Res} and ${Res.Attr}
// (names known at deploy time) written <Res> and <Res.Attr>, into the
// lines of each widget.
func dashboardLines(t *testing.T, src Template) [][]dashboardLine {
	t.Helper()
	body, ok := dig(src.Properties("Dashboard"), "DashboardBody", "Fn::Sub").(string)
	if !ok {
		t.Fatal("Dashboard.DashboardBody is not a !Sub string")
	}
	plain := regexp.MustCompile(`\$\{([A-Za-z:]+)(\.[A-Za-z]+)?\}`).ReplaceAllString(body, "<$1$2>")
	var dash struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(plain), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	var widgets [][]dashboardLine
	for _, w := range dash.Widgets {
		var lines []dashboardLine
		for _, m := range w.Properties.Metrics {
			l := dashboardLine{visible: true}
			var opts map[string]any
			if len(m) > 0 {
				opts, _ = m[len(m)-1].(map[string]any)
			}
			if len(m) >= 4 {
				for i := range l.metric {
					l.metric[i], _ = m[i].(string)
				}
			}
			l.id, _ = opts["id"].(string)
			l.expression, _ = opts["expression"].(string)
			if v, ok := opts["visible"].(bool); ok {
				l.visible = v
			}
			lines = append(lines, l)
		}
		widgets = append(widgets, lines)
	}
	return widgets
}

// shown reports whether a widget draws metric m: as a line of its own, or
// in an expression the widget draws.
func shown(widget []dashboardLine, m [4]string) bool {
	for _, l := range widget {
		if l.metric != m {
			continue
		}
		if l.visible {
			return true
		}
		for _, e := range widget {
			if e.visible && e.expression != "" && l.id != "" && regexp.MustCompile(`\b`+regexp.QuoteMeta(l.id)+`\b`).MatchString(e.expression) {
				return true
			}
		}
	}
	return false
}

// emits lists, by function directory, the task counts each function's code
// writes (internal/metrics.EMF): the submit function counts tasks
// submitted and those it could not queue; the worker, on either queue,
// those it finished; the dead-letter function those it recorded FAILURE.
var emits = map[string][]string{
	"functions/submit":     {metrics.MetricSubmitted, metrics.MetricFailed},
	"functions/worker":     {metrics.MetricSucceeded, metrics.MetricFailed},
	"functions/deadletter": {metrics.MetricFailed},
}

// TestDashboard wants the dashboard to show what the functions emit, under
// the names internal/metrics writes, from every function that writes them
// (both workers run one binary), and the queues' and Lambda's own metrics.
func TestDashboard(t *testing.T) {
	t.Parallel()
	widgets := dashboardLines(t, loaded(t).Source)
	anywhere := func(m [4]string) bool {
		for _, w := range widgets {
			if shown(w, m) {
				return true
			}
		}
		return false
	}
	// Which functions emit metrics at all: those whose main package links
	// internal/metrics. Each must be in emits.
	for fn, dir := range Functions {
		cmd := exec.Command("go", "list", "-deps", "./"+dir)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", dir, err)
		}
		links := slices.Contains(strings.Fields(string(out)), "github.com/asyncprime/asyncprime/internal/metrics")
		if _, listed := emits[dir]; links != listed {
			t.Errorf("%s (%s) links internal/metrics: %v; listed in emits: %v; want both the same", fn, dir, links, listed)
		}
	}
	var want [][4]string
	for fn, dir := range Functions {
		for _, name := range emits[dir] {
			want = append(want, [4]string{metrics.Namespace, name, metrics.DimensionFunction, "<" + fn + ">"})
		}
	}
	want = append(want,
		// Only the checks beyond 64 bits record STARTED, and they run on
		// the big worker.
		[4]string{metrics.Namespace, metrics.MetricCheckDuration, metrics.DimensionFunction, "<BigWorkerFunction>"},
		[4]string{metrics.Namespace, metrics.MetricSubmitToStart, metrics.DimensionFunction, "<BigWorkerFunction>"},
		[4]string{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "<TasksQueue.QueueName>"},
		[4]string{"AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "<TasksQueue.QueueName>"},
		[4]string{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "<DeadLetterQueue.QueueName>"},
	)
	for fn := range Functions {
		want = append(want, [4]string{"AWS/Lambda", "Errors", "FunctionName", "<" + fn + ">"}, [4]string{"AWS/Lambda", "Throttles", "FunctionName", "<" + fn + ">"})
	}
	for _, m := range want {
		if !anywhere(m) {
			t.Errorf("the dashboard does not show %v", m)
		}
	}
	// Every expression names only ids its widget defines.
	for i, w := range widgets {
		ids := map[string]bool{}
		for _, l := range w {
			if l.id != "" {
				ids[l.id] = true
			}
		}
		for _, l := range w {
			for _, ref := range regexp.MustCompile(`\b[a-z][A-Za-z0-9_]*\b`).FindAllString(l.expression, -1) {
				if !ids[ref] && ref != l.id {
					t.Errorf("widget %d: expression %q names %s, which no line of the widget has as id", i, l.expression, ref)
				}
			}
		}
	}
}

// TestDashboardTaskCounts: the "Tasks per minute" widget draws the tasks
// finished by every worker and by the dead-letter function, so that
// submitted can be set against succeeded + failed whichever way a task
// ended.
func TestDashboardTaskCounts(t *testing.T) {
	t.Parallel()
	widgets := dashboardLines(t, loaded(t).Source)
	var counts []dashboardLine
	for _, w := range widgets {
		if shown(w, [4]string{metrics.Namespace, metrics.MetricSubmitted, metrics.DimensionFunction, "<SubmitFunction>"}) {
			counts = w
		}
	}
	if counts == nil {
		t.Fatal("no widget draws TasksSubmitted")
	}
	for fn, dir := range Functions {
		if dir != "functions/worker" && dir != "functions/deadletter" {
			continue
		}
		for _, name := range emits[dir] {
			if m := [4]string{metrics.Namespace, name, metrics.DimensionFunction, "<" + fn + ">"}; !shown(counts, m) {
				t.Errorf("the widget that draws TasksSubmitted does not draw %v", m)
			}
		}
	}
}

// TestDashboardName: CloudWatch dashboard names are global to the account,
// so a name made of the stack's alone would clash between stacks of the
// same name in two regions; the DashboardUrl output links to it by name.
func TestDashboardName(t *testing.T) {
	t.Parallel()
	src := loaded(t).Source
	if got, want := dig(src.Properties("Dashboard"), "DashboardName", "Fn::Sub"), "${AWS::StackName}-${AWS::Region}"; got != want {
		t.Errorf("Dashboard DashboardName: got %v; want !Sub %s", dig(src.Properties("Dashboard"), "DashboardName"), want)
	}
	url, _ := dig(src, "Outputs", "DashboardUrl", "Value", "Fn::Sub").(string)
	if !strings.Contains(url, "region=${AWS::Region}#dashboards:name=${Dashboard}") {
		t.Errorf("DashboardUrl output: got %q; want the console URL of the region, naming ${Dashboard}", url)
	}
}
